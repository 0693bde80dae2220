#include "services/inventory/transfers.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {
namespace {

absl::Status ValidateShip(const v1::ShipTransferRequest& req) {
  RETURN_IF_ERROR(ValidateId("source_clinic_id", req.source_clinic_id()));
  RETURN_IF_ERROR(ValidateId("destination_clinic_id", req.destination_clinic_id()));
  if (req.source_clinic_id() == req.destination_clinic_id()) {
    return absl::InvalidArgumentError("destination_clinic_id: must differ from the source");
  }
  if (req.lines_size() > kMaxIssueLines) {
    return absl::InvalidArgumentError(absl::StrCat("lines: at most ", kMaxIssueLines));
  }
  std::set<std::string> line_lots;
  for (int i = 0; i < req.lines_size(); ++i) {
    const std::string field = absl::StrCat("lines[", i, "]");
    RETURN_IF_ERROR(ValidateId(field + ".lot_id", req.lines(i).lot_id()));
    RETURN_IF_ERROR(
        ValidateQuantity(field + ".quantity", req.lines(i).quantity(), kMaxLineQuantity));
    if (!line_lots.insert(req.lines(i).lot_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".lot_id: listed twice"));
    }
  }
  RETURN_IF_ERROR(ValidateSerials("serials", req.serials(), /*optional=*/true).status());
  if (req.lines().empty() && req.serials().empty()) {
    return absl::InvalidArgumentError("lines: at least one line or serial is required");
  }
  return absl::OkStatus();
}

// Units and serials per lot id.
using ByLot = std::map<std::string, std::pair<int64_t, std::vector<std::string>>>;

}  // namespace

absl::StatusOr<v1::Transfer> Transfers::Ship(const Call& call,
                                             const v1::ShipTransferRequest& req) const {
  RETURN_IF_ERROR(ValidateShip(req));
  RETURN_IF_ERROR(call.who.CheckClinic(req.source_clinic_id()));
  return RunIdempotent<v1::Transfer>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::Transfer> {
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.source_clinic_id(), "source_clinic_id"));
        RETURN_IF_ERROR(
            RequireZone(store_, txn, req.destination_clinic_id(), "destination_clinic_id")
                .status());
        const absl::CivilDay today = LocalDay(call.now, zone);
        std::map<std::string, v1::Lot> lots;
        ByLot by_lot;
        for (const v1::LotQuantity& line : req.lines()) {
          ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lines.lot_id", line.lot_id()));
          if (lot.serialised()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "lot ", lot.lot_number(), " is tracked by unit serial: ship its serials"));
          }
          RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
          by_lot[lot.id()].first += line.quantity();
          lots[lot.id()] = lot;
        }
        ASSIGN_OR_RETURN(const std::vector<std::string> serials,
                         ValidateSerials("serials", req.serials(), /*optional=*/true));
        for (const std::string& serial : serials) {
          // A serial several products share is refused here (no product to tell them apart).
          ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit,
                           UnitOfRequest(store_, txn, "serials", serial, ""));
          if (!unit.has_value()) {
            return absl::NotFoundError(absl::StrCat("unit ", serial, " not found"));
          }
          if (unit->clinic_id() != req.source_clinic_id()) {
            return absl::FailedPreconditionError(
                absl::StrCat("unit ", serial, " is held at clinic ", unit->clinic_id(), ", not at ",
                             req.source_clinic_id()));
          }
          RETURN_IF_ERROR(CheckUnitTransition(serial, unit->state(), v1::UNIT_STATE_IN_TRANSIT));
          ASSIGN_OR_RETURN(v1::Lot lot, store_.GetLot(txn, unit->lot_id()));
          RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
          unit->set_state(v1::UNIT_STATE_IN_TRANSIT);
          unit->set_clinic_id(req.destination_clinic_id());
          RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, v1::UNIT_STATE_IN_STOCK));
          by_lot[lot.id()].first += 1;
          by_lot[lot.id()].second.push_back(serial);
          lots[lot.id()] = lot;
        }
        std::vector<StockMove> moves;
        for (const auto& [lot_id, item] : by_lot) {
          RETURN_IF_ERROR(
              CheckEnoughHere(store_, txn, req.source_clinic_id(), lots[lot_id], item.first));
          const std::string& product = lots[lot_id].product_id();
          moves.push_back(
              StockMove{Leg{StockKey{req.source_clinic_id(), lot_id, v1::STOCK_BUCKET_AVAILABLE},
                            -item.first},
                        product, item.second});
          moves.push_back(StockMove{
              Leg{StockKey{req.destination_clinic_id(), lot_id, v1::STOCK_BUCKET_IN_TRANSIT},
                  item.first},
              product, item.second});
        }
        v1::Transfer transfer;
        transfer.set_source_clinic_id(req.source_clinic_id());
        transfer.set_destination_clinic_id(req.destination_clinic_id());
        *transfer.mutable_lines() = req.lines();
        *transfer.mutable_serials() = {serials.begin(), serials.end()};
        transfer.set_status(v1::TRANSFER_STATUS_SHIPPED);
        *transfer.mutable_ship_time() = ToProtoTimestamp(call.now);
        ASSIGN_OR_RETURN(transfer, store_.CreateTransfer(txn, transfer, call.now));
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_TRANSFER_OUT;
        meta.staff_id = call.who.staff_id;
        meta.transfer_id = transfer.id();
        meta.local_day = today;
        RETURN_IF_ERROR(store_.ApplyMoves(txn, moves, meta, call.now).status());
        return transfer;
      });
}

absl::StatusOr<v1::Transfer> Transfers::Receive(const Call& call,
                                                const v1::ReceiveTransferRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req.etag()));
  return RunIdempotent<v1::Transfer>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::Transfer> {
        ASSIGN_OR_RETURN(v1::Transfer transfer, store_.GetTransfer(txn, req.id()));
        const std::string& destination = transfer.destination_clinic_id();
        RETURN_IF_ERROR(call.who.CheckClinic(destination));
        if (transfer.status() != v1::TRANSFER_STATUS_SHIPPED) {
          return absl::FailedPreconditionError(
              absl::StrCat("transfer ", transfer.id(), " was already received"));
        }
        ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, destination, "id"));
        ByLot by_lot;
        for (const v1::LotQuantity& line : transfer.lines()) {
          by_lot[line.lot_id()].first += line.quantity();
        }
        std::map<std::string, v1::Lot> lots;
        for (const std::string& serial : transfer.serials()) {
          // The shipped unit of that serial: the one in transit to this destination.
          ASSIGN_OR_RETURN(std::vector<v1::SerialUnit> candidates,
                           store_.FindUnits(txn, serial, ""));
          std::optional<v1::SerialUnit> unit;
          for (v1::SerialUnit& c : candidates) {
            if (c.state() == v1::UNIT_STATE_IN_TRANSIT && c.clinic_id() == destination) {
              unit = std::move(c);
            }
          }
          if (!unit.has_value()) {
            return absl::DataLossError(absl::StrCat("shipped unit ", serial, " is missing"));
          }
          if (!lots.contains(unit->lot_id())) {
            ASSIGN_OR_RETURN(lots[unit->lot_id()], store_.GetLot(txn, unit->lot_id()));
          }
          const bool recalled = lots[unit->lot_id()].status() == v1::LOT_STATUS_RECALLED;
          const v1::UnitState after =
              recalled ? v1::UNIT_STATE_QUARANTINED : v1::UNIT_STATE_IN_STOCK;
          RETURN_IF_ERROR(CheckUnitTransition(serial, unit->state(), after));
          unit->set_state(after);
          RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, v1::UNIT_STATE_IN_TRANSIT));
          by_lot[unit->lot_id()].first += 1;
          by_lot[unit->lot_id()].second.push_back(serial);
        }
        std::vector<StockMove> moves;
        for (const auto& [lot_id, item] : by_lot) {
          if (!lots.contains(lot_id)) {
            ASSIGN_OR_RETURN(lots[lot_id], store_.GetLot(txn, lot_id));
          }
          const v1::Lot& lot = lots[lot_id];
          // A lot recalled while in transit arrives straight into quarantine.
          const v1::StockBucket into = lot.status() == v1::LOT_STATUS_RECALLED
                                           ? v1::STOCK_BUCKET_QUARANTINED
                                           : v1::STOCK_BUCKET_AVAILABLE;
          moves.push_back(StockMove{
              Leg{StockKey{destination, lot_id, v1::STOCK_BUCKET_IN_TRANSIT}, -item.first},
              lot.product_id(), item.second});
          moves.push_back(StockMove{Leg{StockKey{destination, lot_id, into}, item.first},
                                    lot.product_id(), item.second});
        }
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_TRANSFER_IN;
        meta.staff_id = call.who.staff_id;
        meta.transfer_id = transfer.id();
        meta.local_day = LocalDay(call.now, zone);
        RETURN_IF_ERROR(store_.ApplyMoves(txn, moves, meta, call.now).status());
        transfer.set_status(v1::TRANSFER_STATUS_RECEIVED);
        *transfer.mutable_receive_time() = ToProtoTimestamp(call.now);
        return store_.UpdateTransfer(txn, transfer, version);
      });
}

absl::StatusOr<v1::ListTransfersResponse> Transfers::List(
    const Call& call, const v1::ListTransfersRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("transfers?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListTransfersResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Transfer> result, store_.ListTransfers(txn, req.clinic_id(), page));
    for (v1::Transfer& t : result.items) *out.add_transfers() = std::move(t);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::inventory
