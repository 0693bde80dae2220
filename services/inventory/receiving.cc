#include "services/inventory/receiving.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/validation.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {

absl::StatusOr<v1::ReceiveStockResponse> Receiving::Receive(
    const Call& call, const v1::ReceiveStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("product_id", req.product_id()));
  RETURN_IF_ERROR(ValidateLotNumber("lot_number", req.lot_number()));
  ASSIGN_OR_RETURN(absl::CivilDay expiry, ParseLocalDate("expiry_date", req.expiry_date()));
  RETURN_IF_ERROR(ValidateQuantity("quantity", req.quantity(), kMaxReceiveQuantity));
  ASSIGN_OR_RETURN(const std::vector<std::string> serials,
                   ValidateSerials("serials", req.serials(), /*optional=*/true));
  if (!req.serials().empty() && req.quantity() != req.serials_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity: ", req.quantity(), " but ", req.serials_size(), " serials listed"));
  }
  RETURN_IF_ERROR(ValidateOptionalText("supplier", req.supplier(), 200));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return RunIdempotent<v1::ReceiveStockResponse>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::ReceiveStockResponse> {
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
        const absl::CivilDay today = LocalDay(call.now, zone);
        if (expiry < today) {
          return absl::InvalidArgumentError(
              absl::StrCat("expiry_date: ", DayText(expiry), " is in the past (today is ",
                           DayText(today), " at clinic ", req.clinic_id(), ")"));
        }
        ASSIGN_OR_RETURN(v1::Product product,
                         ProductOfRequest(store_, txn, "product_id", req.product_id()));
        RETURN_IF_ERROR(CheckReceiptSerials(product.kind(), req.serials_size()));
        const bool serialised = !serials.empty();
        ASSIGN_OR_RETURN(std::optional<v1::Lot> found,
                         store_.FindLot(txn, product.id(), req.lot_number()));
        v1::Lot lot;
        if (found.has_value()) {
          lot = *found;
          if (ViewOf(lot).expiry != expiry) {
            return absl::FailedPreconditionError(absl::StrCat(
                "lot ", lot.lot_number(), " of product ", product.id(), " is recorded with expiry ",
                DayText(ViewOf(lot).expiry), ", not ", DayText(expiry)));
          }
          if (lot.status() == v1::LOT_STATUS_RECALLED) {
            return WithErrorInfo(
                absl::FailedPreconditionError(
                    absl::StrCat("lot ", lot.lot_number(), " is recalled: it cannot be received")),
                reason::kRecalled, {{"lot_id", lot.id()}});
          }
          if (lot.serialised() != serialised) {
            return absl::FailedPreconditionError(absl::StrCat(
                "lot ", lot.lot_number(), " was first received ",
                lot.serialised() ? "with" : "without", " unit serials; receive it the same way"));
          }
        } else {
          v1::Lot fresh;
          fresh.set_product_id(product.id());
          fresh.set_lot_number(req.lot_number());
          *fresh.mutable_expiry_date() = req.expiry_date();
          fresh.set_serialised(serialised);
          ASSIGN_OR_RETURN(lot, store_.CreateLot(txn, fresh, call.now));
        }
        for (const std::string& serial : serials) {
          v1::SerialUnit unit;
          unit.set_serial(serial);
          unit.set_device_identifier(product.device_identifier());
          unit.set_product_id(product.id());
          unit.set_lot_id(lot.id());
          unit.set_clinic_id(req.clinic_id());
          unit.set_state(v1::UNIT_STATE_IN_STOCK);
          RETURN_IF_ERROR(store_.InsertUnit(txn, unit));
        }
        StockMove move{
            Leg{StockKey{req.clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE}, req.quantity()},
            product.id(), serials};
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_RECEIVE;
        meta.staff_id = call.who.staff_id;
        meta.reason = req.supplier();
        meta.local_day = today;
        ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, call.now));
        v1::ReceiveStockResponse response;
        *response.mutable_lot() = lot;
        *response.mutable_entry() = entries.front();
        ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, req.clinic_id(), product.id(), true));
        for (const v1::StockLevel& level : levels) {
          if (level.lot_id() == lot.id()) *response.mutable_stock() = level;
        }
        return response;
      });
}

absl::StatusOr<v1::LedgerEntry> Receiving::Adjust(const Call& call,
                                                  const v1::AdjustStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  if (req.quantity_delta() == 0 || req.quantity_delta() < -kMaxAdjustQuantity ||
      req.quantity_delta() > kMaxAdjustQuantity) {
    return absl::InvalidArgumentError(absl::StrCat("quantity_delta: must be non-zero, -",
                                                   kMaxAdjustQuantity, "..", kMaxAdjustQuantity));
  }
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return RunIdempotent<v1::LedgerEntry>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::LedgerEntry> {
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
        ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req.lot_id()));
        if (lot.serialised()) {
          return absl::FailedPreconditionError(
              absl::StrCat("lot ", lot.lot_number(),
                           " is tracked by unit serial: discard or receive units instead"));
        }
        StockMove move{Leg{StockKey{req.clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE},
                           req.quantity_delta()},
                       lot.product_id(),
                       {}};
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_ADJUST;
        meta.staff_id = call.who.staff_id;
        meta.reason = req.reason();
        meta.local_day = LocalDay(call.now, zone);
        ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, call.now));
        return entries.front();
      });
}

absl::StatusOr<v1::DiscardStockResponse> Receiving::Discard(
    const Call& call, const v1::DiscardStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  switch (req.item_case()) {
    case v1::DiscardStockRequest::kLotQuantity:
      RETURN_IF_ERROR(ValidateId("lot_quantity.lot_id", req.lot_quantity().lot_id()));
      RETURN_IF_ERROR(ValidateQuantity("lot_quantity.quantity", req.lot_quantity().quantity(),
                                       kMaxReceiveQuantity));
      break;
    case v1::DiscardStockRequest::kUnits:
      RETURN_IF_ERROR(ValidateSerials("units.serials", req.units().serials(), false).status());
      RETURN_IF_ERROR(ValidateOptionalId("units.product_id", req.units().product_id()));
      break;
    default:
      return absl::InvalidArgumentError("item: lot_quantity or units is required");
  }
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  RETURN_IF_ERROR(ValidateRequiredText("witness", req.witness(), 200));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return RunIdempotent<v1::DiscardStockResponse>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::DiscardStockResponse> {
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
        v1::DiscardStockResponse response;
        std::map<std::pair<std::string, int>, StockMove> moves;
        if (req.item_case() == v1::DiscardStockRequest::kLotQuantity) {
          ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_quantity.lot_id",
                                                     req.lot_quantity().lot_id()));
          if (lot.serialised()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "lot ", lot.lot_number(), " is tracked by unit serial: discard its units"));
          }
          int64_t left = req.lot_quantity().quantity();
          for (v1::StockBucket bucket :
               {v1::STOCK_BUCKET_AVAILABLE, v1::STOCK_BUCKET_QUARANTINED}) {
            StockKey k{req.clinic_id(), lot.id(), bucket};
            ASSIGN_OR_RETURN(int64_t held, store_.Balance(txn, k));
            const int64_t take = std::min(held, left);
            if (take > 0) {
              moves[{lot.id(), bucket}] = StockMove{Leg{k, -take}, lot.product_id(), {}};
              left -= take;
            }
          }
          if (left > 0) {
            return absl::FailedPreconditionError(
                absl::StrCat("not enough stock of lot ", lot.lot_number(), " at clinic ",
                             req.clinic_id(), " to discard ", req.lot_quantity().quantity()));
          }
        } else {
          ASSIGN_OR_RETURN(const std::vector<std::string> serials,
                           ValidateSerials("units.serials", req.units().serials(), false));
          for (const std::string& serial : serials) {
            ASSIGN_OR_RETURN(
                std::optional<v1::SerialUnit> unit,
                UnitOfRequest(store_, txn, "units.product_id", serial, req.units().product_id()));
            if (!unit.has_value()) {
              return absl::NotFoundError(absl::StrCat("unit ", serial, " not found"));
            }
            if (unit->clinic_id() != req.clinic_id()) {
              return absl::FailedPreconditionError(
                  absl::StrCat("unit ", serial, " is held at clinic ", unit->clinic_id(),
                               ", not at ", req.clinic_id()));
            }
            const v1::UnitState before = unit->state();
            const v1::UnitState after = before == v1::UNIT_STATE_ISSUED
                                            ? v1::UNIT_STATE_DISPOSED_SHARPS
                                            : v1::UNIT_STATE_DESTROYED;
            RETURN_IF_ERROR(CheckUnitTransition(serial, before, after));
            unit->set_state(after);
            unit->set_disposal_reason(req.reason());
            unit->set_disposal_witness(req.witness());
            RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, before));
            if (after == v1::UNIT_STATE_DESTROYED) {
              const v1::StockBucket bucket = before == v1::UNIT_STATE_QUARANTINED
                                                 ? v1::STOCK_BUCKET_QUARANTINED
                                                 : v1::STOCK_BUCKET_AVAILABLE;
              StockMove& move = moves[{unit->lot_id(), bucket}];
              move.leg.key = StockKey{req.clinic_id(), unit->lot_id(), bucket};
              move.leg.delta -= 1;
              move.product_id = unit->product_id();
              move.serials.push_back(serial);
            }
            *response.add_units() = *unit;
          }
        }
        std::vector<StockMove> ordered;
        for (auto& [k, move] : moves) ordered.push_back(std::move(move));
        EntryMeta meta;
        meta.kind = req.expired() ? v1::LEDGER_ENTRY_KIND_EXPIRE : v1::LEDGER_ENTRY_KIND_DISCARD;
        meta.staff_id = call.who.staff_id;
        meta.reason = req.reason();
        meta.witness = req.witness();
        meta.local_day = LocalDay(call.now, zone);
        ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, ordered, meta, call.now));
        for (v1::LedgerEntry& e : entries) *response.add_entries() = std::move(e);
        return response;
      });
}

}  // namespace smp::inventory
