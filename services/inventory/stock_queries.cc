#include "services/inventory/stock_queries.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/forecast_rules.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {

absl::StatusOr<v1::ListStockResponse> StockQueries::ListStock(
    const Call& call, const v1::ListStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateOptionalId("product_id", req.product_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query =
      absl::StrCat("stock?clinic=", req.clinic_id(), "&product=", req.product_id(),
                   "&empty=", req.include_empty());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListStockResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    ASSIGN_OR_RETURN(auto levels,
                     store_.ListStock(txn, req.clinic_id(), req.product_id(), req.include_empty()));
    // By product, then expiry, then lot, as the store orders them.
    Page<v1::StockLevel> result =
        PageOfSorted(std::move(levels), page, [](const v1::StockLevel& level) {
          return absl::StrCat(level.product_id(), "/", DayText(FromLocalDate(level.expiry_date())),
                              "/", level.lot_id());
        });
    for (v1::StockLevel& level : result.items) {
      level.set_expired(IsExpiredAt(FromLocalDate(level.expiry_date()), call.now, zone));
      *out.add_levels() = std::move(level);
    }
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListExpiringResponse> StockQueries::ListExpiring(
    const Call& call, const v1::ListExpiringRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  if (req.within_days() < 0 || req.within_days() > 365) {
    return absl::InvalidArgumentError("within_days: must be 0 to 365");
  }
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query =
      absl::StrCat("expiring?clinic=", req.clinic_id(), "&days=", req.within_days());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListExpiringResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, req.clinic_id(), "", false));
    std::vector<v1::StockLevel> expiring;
    for (v1::StockLevel& level : levels) {
      if (level.available() + level.quarantined() <= 0) continue;  // nothing on the shelf here
      if (!ExpiresWithin(FromLocalDate(level.expiry_date()), call.now, zone, req.within_days())) {
        continue;
      }
      expiring.push_back(std::move(level));
    }
    Page<v1::StockLevel> result =
        PageOfSorted(std::move(expiring), page, [](const v1::StockLevel& level) {
          return absl::StrCat(DayText(FromLocalDate(level.expiry_date())), "/", level.product_id(),
                              "/", level.lot_id());
        });
    for (v1::StockLevel& level : result.items) {
      level.set_expired(IsExpiredAt(FromLocalDate(level.expiry_date()), call.now, zone));
      *out.add_levels() = std::move(level);
    }
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListLedgerEntriesResponse> StockQueries::ListLedger(
    const Call& call, const v1::ListLedgerEntriesRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateOptionalId("lot_id", req.lot_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("ledger?clinic=", req.clinic_id(), "&lot=", req.lot_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListLedgerEntriesResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::LedgerEntry> result,
                     store_.ListLedger(txn, req.clinic_id(), req.lot_id(), page));
    for (v1::LedgerEntry& e : result.items) *out.add_entries() = std::move(e);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Lot> StockQueries::GetLot(const Call&, const v1::GetLotRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  v1::Lot out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(out, store_.GetLot(txn, req.id()));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::SerialUnit> StockQueries::GetUnit(const Call& call,
                                                     const v1::GetSerialUnitRequest& req) const {
  ASSIGN_OR_RETURN(const std::string serial, ValidateSerial("serial", req.serial()));
  RETURN_IF_ERROR(ValidateOptionalId("product_id", req.product_id()));
  return ReadInClinicScope<v1::SerialUnit>(
      *db_, call, [&](Transaction& txn) -> absl::StatusOr<v1::SerialUnit> {
        ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit,
                         UnitOfRequest(store_, txn, "product_id", serial, req.product_id()));
        if (!unit.has_value()) return NotFound("unit", serial);
        return *std::move(unit);
      });
}

absl::StatusOr<v1::ListReuseAttemptsResponse> StockQueries::ListReuseAttempts(
    const Call& call, const v1::ListReuseAttemptsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("reuse?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListReuseAttemptsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::ReuseAttempt> result,
                     store_.ListReuseAttempts(txn, req.clinic_id(), page));
    for (v1::ReuseAttempt& a : result.items) *out.add_attempts() = std::move(a);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ReconcileDayResponse> StockQueries::Reconcile(
    const Call& call, const v1::ReconcileDayRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  ASSIGN_OR_RETURN(absl::CivilDay day, ParseLocalDate("date", req.date()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  absl::TimeZone zone;
  std::map<std::string, int64_t> needles;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    ASSIGN_OR_RETURN(needles, store_.NeedleUnitsIssuedOn(txn, req.clinic_id(), day));
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(std::vector<ProcedureAppointment> procedures,
                   appointments_->ListProcedures(req.clinic_id(), absl::FromCivil(day, zone),
                                                 absl::FromCivil(day + 1, zone)));
  std::set<std::string> performed;
  namespace sv1 = ::smp::scheduling::v1;
  for (const ProcedureAppointment& a : procedures) {
    if (a.status == sv1::IN_PROGRESS || a.status == sv1::FULFILLED) {
      performed.insert(a.appointment_id);
    }
  }
  int64_t issued = 0;
  for (const auto& [id, units] : needles) issued += units;
  v1::ReconcileDayResponse out;
  out.set_needle_units_issued(issued);
  out.set_procedures_recorded(static_cast<int64_t>(performed.size()));
  for (v1::ReconciliationFinding& f : smp::inventory::Reconcile(needles, performed)) {
    *out.add_findings() = std::move(f);
  }
  return out;
}

}  // namespace smp::inventory
