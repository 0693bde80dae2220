#include "services/inventory/lot_holds.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/inventory_reasons.h"
#include "services/inventory/lookups.h"

namespace smp::inventory {

absl::Status CheckLotNotHeld(const InventoryStore& store, Transaction& txn,
                             absl::string_view clinic_id, absl::string_view lot_id) {
  ASSIGN_OR_RETURN(std::optional<v1::LotHold> hold, store.OpenLotHold(txn, clinic_id, lot_id));
  if (!hold.has_value()) return absl::OkStatus();
  return WithErrorInfo(
      absl::FailedPreconditionError(
          absl::StrCat("lot ", lot_id, " is on hold at clinic ", clinic_id, " since ",
                       absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTimestamp(hold->hold_time()),
                                        absl::UTCTimeZone()),
                       " (", hold->hold_reason(), "): release the hold first")),
      inventory_reason::kLotHeld,
      {{"lot_id", std::string(lot_id)},
       {"clinic_id", std::string(clinic_id)},
       {"held_by", hold->held_by()}});
}

absl::StatusOr<v1::LotHold> LotHolds::Hold(const Call& call, const v1::HoldLotRequest& req) const {
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  return RunIdempotent<v1::LotHold>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::LotHold> {
        ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req.lot_id()));
        RETURN_IF_ERROR(CheckLotNotHeld(store_, txn, req.clinic_id(), lot.id()));
        v1::LotHold hold;
        hold.set_lot_id(lot.id());
        hold.set_clinic_id(req.clinic_id());
        hold.set_held(true);
        hold.set_hold_reason(req.reason());
        hold.set_held_by(call.who.staff_id);
        *hold.mutable_hold_time() = ToProtoTimestamp(call.now);
        RETURN_IF_ERROR(store_.AddLotHold(txn, hold));
        return hold;
      });
}

absl::StatusOr<v1::LotHold> LotHolds::Release(const Call& call,
                                              const v1::ReleaseLotHoldRequest& req) const {
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  return RunIdempotent<v1::LotHold>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::LotHold> {
        ASSIGN_OR_RETURN(std::optional<v1::LotHold> hold,
                         store_.OpenLotHold(txn, req.clinic_id(), req.lot_id()));
        if (!hold.has_value()) {
          return WithErrorInfo(
              absl::FailedPreconditionError(absl::StrCat(
                  "lot ", req.lot_id(), " is not on hold at clinic ", req.clinic_id())),
              inventory_reason::kLotNotHeld, {{"lot_id", req.lot_id()}});
        }
        hold->set_held(false);
        hold->set_release_reason(req.reason());
        hold->set_released_by(call.who.staff_id);
        *hold->mutable_release_time() = ToProtoTimestamp(call.now);
        RETURN_IF_ERROR(store_.ReleaseLotHold(txn, *hold));
        return *hold;
      });
}

}  // namespace smp::inventory
