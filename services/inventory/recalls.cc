#include "services/inventory/recalls.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/store_kit.h"
#include "common/outbox/outbox.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/inventory/compliance_deliverer.h"
#include "services/inventory/compliance_events.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {
namespace {

// PERMISSION_DENIED: only a chain-wide caller may recall a lot (as compliance's CHAIN_WIDE_ONLY).
constexpr char kChainWideOnlyReason[] = "CHAIN_WIDE_ONLY";

}  // namespace

absl::StatusOr<v1::RecallLotResponse> Recalls::Recall(const Call& call,
                                                      const v1::RecallLotRequest& req) const {
  // A recall quarantines the lot at every clinic and cannot be undone, so it is chain-wide work:
  // an admin (a role that reaches every clinic for INVENTORY_WRITE). Asked before anything else.
  if (!call.who.IsChainWide()) {
    return WithErrorInfo(
        absl::PermissionDeniedError(
            "a lot recall quarantines the lot at every clinic and needs an admin; inventory staff "
            "report the maker's notice to an admin"),
        kChainWideOnlyReason);
  }
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  ASSIGN_OR_RETURN(
      v1::RecallLotResponse response,
      RunIdempotent<v1::RecallLotResponse>(
          *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::RecallLotResponse> {
            ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req.lot_id()));
            if (lot.status() == v1::LOT_STATUS_RECALLED) {
              return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                                       "lot ", lot.lot_number(), " is already recalled")),
                                   reason::kRecalled, {{"lot_id", lot.id()}});
            }
            RETURN_IF_ERROR(store_.MarkLotRecalled(txn, lot.id(), req.reason()));
            lot.set_status(v1::LOT_STATUS_RECALLED);
            lot.set_recall_reason(req.reason());
            // Compliance hears of the recall with it (at least once, through the outbox).
            RETURN_IF_ERROR(EnqueueEvent(txn, kComplianceDestination, kRecordLotRecallKind,
                                         LotRecallEvent(lot, call.who.staff_id, call.now), call.now)
                                .status());
            ASSIGN_OR_RETURN(auto units, store_.InStockUnitsOfLot(txn, lot.id()));
            std::map<std::string, std::vector<std::string>> serials_by_clinic;
            for (v1::SerialUnit& unit : units) {
              unit.set_state(v1::UNIT_STATE_QUARANTINED);
              RETURN_IF_ERROR(store_.UpdateUnit(txn, unit, v1::UNIT_STATE_IN_STOCK));
              serials_by_clinic[unit.clinic_id()].push_back(unit.serial());
            }
            // Open bottles of the lot are out of stock but still on the trolley: no longer
            // issuable, they can only be discarded.
            RETURN_IF_ERROR(store_.QuarantineBottlesOfLot(txn, lot.id()).status());
            v1::RecallLotResponse r;
            ASSIGN_OR_RETURN(auto balances, store_.BalancesOfLot(txn, lot.id()));
            for (const auto& [k, qty] : balances) {
              if (k.bucket != v1::STOCK_BUCKET_AVAILABLE) continue;
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(store_, txn, k.clinic_id, "lot_id"));
              std::vector<StockMove> moves = {
                  StockMove{Leg{k, -qty}, lot.product_id(), serials_by_clinic[k.clinic_id]},
                  StockMove{Leg{StockKey{k.clinic_id, lot.id(), v1::STOCK_BUCKET_QUARANTINED}, qty},
                            lot.product_id(), serials_by_clinic[k.clinic_id]}};
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_QUARANTINE;
              meta.staff_id = call.who.staff_id;
              meta.reason = req.reason();
              meta.local_day = LocalDay(call.now, zone);
              ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, moves, meta, call.now));
              for (v1::LedgerEntry& e : entries) *r.add_quarantined() = std::move(e);
            }
            *r.mutable_lot() = lot;
            ASSIGN_OR_RETURN(auto uses, store_.LotUses(txn, lot.id()));
            for (v1::LotUse& use : uses) *r.add_uses() = std::move(use);
            return r;
          }));
  if (on_event_committed_) on_event_committed_();
  v1::RecallLotResponse out;
  *out.mutable_lot() = response.lot();
  for (const v1::LedgerEntry& e : response.quarantined()) {
    if (call.who.CanAccessClinic(e.clinic_id())) *out.add_quarantined() = e;
  }
  for (const v1::LotUse& use : response.uses()) {
    if (call.who.CanAccessClinic(use.clinic_id())) *out.add_uses() = use;
  }
  return out;
}

absl::StatusOr<v1::ListLotUsesResponse> Recalls::ListUses(const Call& call,
                                                          const v1::ListLotUsesRequest& req) const {
  RETURN_IF_ERROR(ValidateId("lot_id", req.lot_id()));
  const std::string query = absl::StrCat("ListLotUses/", req.lot_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListLotUsesResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(store_.GetLot(txn, req.lot_id()).status());
    ASSIGN_OR_RETURN(auto uses, store_.LotUses(txn, req.lot_id()));
    // A lot's uses only ever grow at the end (each procedure is placed by its first, time-ordered
    // ledger id), so a use's position in the whole list is a stable sort key for the keyset.
    std::vector<std::pair<std::string, v1::LotUse>> visible;
    for (size_t i = 0; i < uses.size(); ++i) {
      std::string key = absl::StrFormat("%012d", i);
      if (!page.after_key.empty() && key <= page.after_key) continue;
      if (!call.who.CanAccessClinic(uses[i].clinic_id())) continue;
      visible.emplace_back(std::move(key), std::move(uses[i]));
      if (static_cast<int>(visible.size()) > page.size) break;
    }
    Page<std::pair<std::string, v1::LotUse>> result =
        MakePage(std::move(visible), page.size, [](const auto& use) { return use.first; });
    for (auto& use : result.items) *out.add_uses() = std::move(use.second);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::inventory
