#ifndef SMP_SERVICES_INVENTORY_INVENTORY_STORE_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "services/inventory/stock_rules.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

// What a ledger line says besides its leg: kind, who, why, for which procedure or transfer.
struct EntryMeta {
  v1::LedgerEntryKind kind = v1::LEDGER_ENTRY_KIND_UNSPECIFIED;
  std::string staff_id;
  std::string appointment_id;
  std::string patient_id;
  std::string transfer_id;
  std::string reason;
  std::string witness;
  absl::CivilDay local_day;
};

// One leg to apply with the product it concerns and the serials it moves.
struct StockMove {
  Leg leg;
  std::string product_id;
  std::vector<std::string> serials;
};

// The write queue of a clinic's procedure supplies (WriteQueue): issues and their returns read a
// lot's ledger and move its stock row, so on PostgreSQL concurrent ones at one clinic take turns
// instead of failing each other's SERIALIZABLE commits until their retries run out.
inline WriteQueue ProcedureStockQueue(absl::string_view clinic_id) {
  return WriteQueue{absl::StrCat("inventory.procedure_stock:", clinic_id)};
}

// The supply issue of one StartAppointment attempt, keyed by (appointment, attempt).
struct StartIssue {
  enum class State { kIssued = 1, kReturned = 2 };
  std::string appointment_id;
  std::string start_attempt_id;
  std::string clinic_id;
  State state = State::kIssued;
  std::string fingerprint;                // of the issued request's lines (a repeat must match)
  v1::IssueToProcedureResponse response;  // empty for an attempt voided before it issued
  std::string staff_id;
  absl::Time create_time;
  std::string return_reason;
};

// The inventory SQL. Every method runs inside the caller's transaction; the handler decides the
// transaction's extent, so that a movement, its units and its request_id commit together.
class InventoryStore {
 public:
  // ---- Clinic settings ----
  absl::StatusOr<std::optional<v1::ClinicInventorySettings>> GetSettings(
      Transaction& txn, absl::string_view clinic_id) const;
  // Creates (expected_version 0) or replaces the settings; ABORTED naming the current etag when
  // the version differs.
  absl::StatusOr<v1::ClinicInventorySettings> PutSettings(
      Transaction& txn, const v1::ClinicInventorySettings& settings, int64_t expected_version,
      absl::Time now) const;
  // The clinics with settings (every clinic that can issue: an issue needs its time zone).
  absl::StatusOr<std::vector<std::string>> ClinicsWithSettings(Transaction& txn) const;

  // ---- Products ----
  absl::StatusOr<v1::Product> CreateProduct(Transaction& txn, const v1::Product& product,
                                            absl::Time now) const;
  // NOT_FOUND naming the product when unknown.
  absl::StatusOr<v1::Product> GetProduct(Transaction& txn, absl::string_view id) const;
  absl::StatusOr<Page<v1::Product>> ListProducts(Transaction& txn, v1::ProductKind kind,
                                                 const PageRequest& page) const;

  // ---- Lots ----
  absl::StatusOr<std::optional<v1::Lot>> FindLot(Transaction& txn, absl::string_view product_id,
                                                 absl::string_view lot_number) const;
  absl::StatusOr<v1::Lot> GetLot(Transaction& txn, absl::string_view id) const;

  // Lot holds (lot_holds): the open hold of a lot at a clinic, if any; a new open hold (`hold`'s
  // lot, clinic, reason, held_by, hold_time); the release of the open one.
  absl::StatusOr<std::optional<v1::LotHold>> OpenLotHold(Transaction& txn,
                                                         absl::string_view clinic_id,
                                                         absl::string_view lot_id) const;
  absl::Status AddLotHold(Transaction& txn, const v1::LotHold& hold) const;
  absl::Status ReleaseLotHold(Transaction& txn, const v1::LotHold& released) const;
  absl::StatusOr<v1::Lot> CreateLot(Transaction& txn, const v1::Lot& lot, absl::Time now) const;
  absl::Status MarkLotRecalled(Transaction& txn, absl::string_view id,
                               absl::string_view reason) const;

  // ---- Stock and ledger ----
  // The balance of `key` (0 when it never moved).
  absl::StatusOr<int64_t> Balance(Transaction& txn, const StockKey& key) const;
  // Appends one ledger line per move and updates the balances, refusing (FAILED_PRECONDITION,
  // nothing written by the caller's rollback) any move that would drive a balance negative. Before
  // each write the balance is compared with the running total of its last ledger line; a
  // difference is DATA_LOSS.
  absl::StatusOr<std::vector<v1::LedgerEntry>> ApplyMoves(Transaction& txn,
                                                          const std::vector<StockMove>& moves,
                                                          const EntryMeta& meta,
                                                          absl::Time now) const;
  // A clinic's balances joined with their lots, by product then expiry; empty balances only when
  // `include_empty`.
  absl::StatusOr<std::vector<v1::StockLevel>> ListStock(Transaction& txn,
                                                        absl::string_view clinic_id,
                                                        absl::string_view product_id,
                                                        bool include_empty) const;
  // Every non-zero balance of a lot, chain-wide.
  absl::StatusOr<std::vector<std::pair<StockKey, int64_t>>> BalancesOfLot(
      Transaction& txn, absl::string_view lot_id) const;
  // Lots of a product with available stock at a clinic.
  absl::StatusOr<std::vector<LotCandidate>> AvailableLots(Transaction& txn,
                                                          absl::string_view clinic_id,
                                                          absl::string_view product_id) const;
  absl::StatusOr<Page<v1::LedgerEntry>> ListLedger(Transaction& txn, absl::string_view clinic_id,
                                                   absl::string_view lot_id,
                                                   const PageRequest& page) const;
  // Issue lines and open-bottle uses of a lot, grouped per procedure, oldest first.
  absl::StatusOr<std::vector<v1::LotUse>> LotUses(Transaction& txn, absl::string_view lot_id) const;

  // Units issued per product at a clinic since `since`, and how many procedures drew them.
  absl::StatusOr<std::pair<std::map<std::string, int64_t>, int64_t>> UsageSince(
      Transaction& txn, absl::string_view clinic_id, absl::Time since) const;
  // Needle cartridge units issued at a clinic on a clinic-local day, per appointment.
  absl::StatusOr<std::map<std::string, int64_t>> NeedleUnitsIssuedOn(Transaction& txn,
                                                                     absl::string_view clinic_id,
                                                                     absl::CivilDay day) const;

  // ---- Serial units ----
  // Serials are stored in canonical form (CanonicalSerial) and are unique per product.
  // ALREADY_EXISTS naming the serial when the product already has a unit of that serial.
  absl::Status InsertUnit(Transaction& txn, const v1::SerialUnit& unit) const;
  // The units of canonical `serial`, of `product_id` only unless it is empty; by product id.
  absl::StatusOr<std::vector<v1::SerialUnit>> FindUnits(Transaction& txn, absl::string_view serial,
                                                        absl::string_view product_id) const;
  // Writes the unit's new state if it is still in `expected`; ABORTED otherwise.
  absl::Status UpdateUnit(Transaction& txn, const v1::SerialUnit& unit,
                          v1::UnitState expected) const;
  // Units whose serials collided in canonical form when migration 4 normalised them (kept as they
  // were, for staff to resolve): (product id, serial as stored).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SerialCollisions(
      Transaction& txn) const;
  // The lowest in-stock serials of a lot at a clinic.
  absl::StatusOr<std::vector<std::string>> InStockSerials(Transaction& txn,
                                                          absl::string_view clinic_id,
                                                          absl::string_view lot_id,
                                                          int64_t limit) const;
  // Every in-stock unit of a lot, chain-wide.
  absl::StatusOr<std::vector<v1::SerialUnit>> InStockUnitsOfLot(Transaction& txn,
                                                                absl::string_view lot_id) const;

  // ---- Pigment bottles ----
  absl::Status InsertBottle(Transaction& txn, const v1::PigmentBottle& bottle) const;
  // NOT_FOUND naming the bottle when unknown.
  absl::StatusOr<v1::PigmentBottle> GetBottle(Transaction& txn, absl::string_view id) const;
  // Writes the bottle's new state and close fields if it is still in `expected`; ABORTED otherwise.
  absl::Status UpdateBottle(Transaction& txn, const v1::PigmentBottle& bottle,
                            v1::BottleState expected) const;
  // A page of a clinic's open and quarantined bottles, by id.
  absl::StatusOr<Page<v1::PigmentBottle>> UnclosedBottles(Transaction& txn,
                                                          absl::string_view clinic_id,
                                                          const PageRequest& page) const;
  // Marks every open bottle of a lot QUARANTINED, chain-wide; returns how many.
  absl::StatusOr<int64_t> QuarantineBottlesOfLot(Transaction& txn, absl::string_view lot_id) const;
  // Appends a use of an open bottle by a procedure (read back by LotUses).
  absl::Status RecordBottleUse(Transaction& txn, const v1::PigmentBottle& bottle,
                               const EntryMeta& meta, absl::Time now) const;

  // ---- Transfers ----
  absl::StatusOr<v1::Transfer> CreateTransfer(Transaction& txn, const v1::Transfer& transfer,
                                              absl::Time now) const;
  // NOT_FOUND naming the transfer when unknown.
  absl::StatusOr<v1::Transfer> GetTransfer(Transaction& txn, absl::string_view id) const;
  // Saves the transfer if its version is still `expected_version`; ABORTED naming the current etag
  // otherwise.
  absl::StatusOr<v1::Transfer> UpdateTransfer(Transaction& txn, const v1::Transfer& transfer,
                                              int64_t expected_version) const;
  // Transfers from or to a clinic, newest first.
  absl::StatusOr<Page<v1::Transfer>> ListTransfers(Transaction& txn, absl::string_view clinic_id,
                                                   const PageRequest& page) const;

  // ---- Reorder points ----
  // Creates, replaces or (level 0) deletes the point.
  absl::Status PutReorderPoint(Transaction& txn, const v1::ReorderPoint& point) const;
  absl::StatusOr<std::vector<v1::ReorderPoint>> ReorderPoints(Transaction& txn,
                                                              absl::string_view clinic_id) const;

  // ---- Start issues (IssueToProcedureRequest.start_attempt_id) ----
  // The issue of one StartAppointment attempt, nullopt if it never issued or was voided.
  absl::StatusOr<std::optional<StartIssue>> GetStartIssue(Transaction& txn,
                                                          absl::string_view appointment_id,
                                                          absl::string_view start_attempt_id) const;
  // The appointment's start issue that is issued and not returned, if any (at most one).
  absl::StatusOr<std::optional<StartIssue>> ActiveStartIssue(
      Transaction& txn, absl::string_view appointment_id) const;
  // Records an attempt's issue (state ISSUED) or, returning an attempt that never issued, its void
  // (state RETURNED, no response); ALREADY_EXISTS if the attempt has a row.
  absl::Status InsertStartIssue(Transaction& txn, const StartIssue& issue) const;
  // Marks the attempt's issue returned, with the reason; ABORTED unless it was ISSUED.
  absl::Status MarkStartIssueReturned(Transaction& txn, absl::string_view appointment_id,
                                      absl::string_view start_attempt_id, absl::string_view reason,
                                      absl::Time now) const;

  // ---- Reuse attempts ----
  absl::Status RecordReuseAttempt(Transaction& txn, const v1::ReuseAttempt& attempt) const;
  absl::StatusOr<Page<v1::ReuseAttempt>> ListReuseAttempts(Transaction& txn,
                                                           absl::string_view clinic_id,
                                                           const PageRequest& page) const;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_STORE_H_
