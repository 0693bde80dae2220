#include "services/inventory/bottles.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/ids.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {

absl::StatusOr<v1::OpenBottleResponse> Bottles::Open(const Call& call,
                                                     const v1::OpenBottleRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return RunIdempotent<v1::OpenBottleResponse>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::OpenBottleResponse> {
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
        const absl::CivilDay today = LocalDay(call.now, zone);
        ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req.lot_id()));
        ASSIGN_OR_RETURN(v1::Product product, store_.GetProduct(txn, lot.product_id()));
        if (product.kind() != v1::PRODUCT_KIND_PIGMENT) {
          return absl::InvalidArgumentError(
              absl::StrCat("lot_id: lot ", lot.lot_number(), " is of product ", product.id(),
                           ", not a pigment: only pigment bottles are opened"));
        }
        RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
        RETURN_IF_ERROR(CheckEnoughHere(store_, txn, req.clinic_id(), lot, 1));
        v1::PigmentBottle bottle;
        bottle.set_id(NewIdAt(call.now));
        bottle.set_clinic_id(req.clinic_id());
        bottle.set_product_id(product.id());
        bottle.set_lot_id(lot.id());
        *bottle.mutable_open_time() = ToProtoTimestamp(call.now);
        *bottle.mutable_use_by_date() = ToLocalDate(
            BottleUseBy(ViewOf(lot).expiry, today, product.pigment().opened_shelf_life_days()));
        bottle.set_state(v1::BOTTLE_STATE_OPEN);
        bottle.set_opened_by(call.who.staff_id);
        RETURN_IF_ERROR(store_.InsertBottle(txn, bottle));
        StockMove move{Leg{StockKey{req.clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE}, -1},
                       product.id(),
                       {}};
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_OPEN_BOTTLE;
        meta.staff_id = call.who.staff_id;
        meta.reason = absl::StrCat("opened as bottle ", bottle.id());
        meta.local_day = today;
        ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, call.now));
        v1::OpenBottleResponse response;
        *response.mutable_bottle() = std::move(bottle);
        *response.mutable_entry() = entries.front();
        return response;
      });
}

absl::StatusOr<v1::ListOpenBottlesResponse> Bottles::ListUnclosed(
    const Call& call, const v1::ListOpenBottlesRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("bottles?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListOpenBottlesResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    const absl::CivilDay today = LocalDay(call.now, zone);
    ASSIGN_OR_RETURN(Page<v1::PigmentBottle> bottles,
                     store_.UnclosedBottles(txn, req.clinic_id(), page));
    for (v1::PigmentBottle& bottle : bottles.items) {
      bottle.set_expired(IsExpired(ViewOf(bottle).use_by, today));
      *out.add_bottles() = std::move(bottle);
    }
    out.set_next_page_token(NextPageToken(query, bottles.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::PigmentBottle> Bottles::Close(const Call& call,
                                                 const v1::CloseBottleRequest& req) const {
  RETURN_IF_ERROR(ValidateId("bottle_id", req.bottle_id()));
  if (req.state() != v1::BOTTLE_STATE_FINISHED && req.state() != v1::BOTTLE_STATE_DISCARDED) {
    return absl::InvalidArgumentError(
        "state: BOTTLE_STATE_FINISHED or BOTTLE_STATE_DISCARDED required");
  }
  return RunIdempotent<v1::PigmentBottle>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::PigmentBottle> {
        absl::StatusOr<v1::PigmentBottle> bottle = store_.GetBottle(txn, req.bottle_id());
        if (absl::IsNotFound(bottle.status())) {
          return absl::InvalidArgumentError(
              absl::StrCat("bottle_id: unknown bottle ", req.bottle_id()));
        }
        RETURN_IF_ERROR(bottle.status());
        RETURN_IF_ERROR(call.who.CheckClinic(bottle->clinic_id()));
        RETURN_IF_ERROR(CheckBottleTransition(bottle->id(), bottle->state(), req.state()));
        const v1::BottleState before = bottle->state();
        bottle->set_state(req.state());
        *bottle->mutable_close_time() = ToProtoTimestamp(call.now);
        bottle->set_closed_by(call.who.staff_id);
        RETURN_IF_ERROR(store_.UpdateBottle(txn, *bottle, before));
        return *std::move(bottle);
      });
}

}  // namespace smp::inventory
