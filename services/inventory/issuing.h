#ifndef SMP_SERVICES_INVENTORY_ISSUING_H_
#define SMP_SERVICES_INVENTORY_ISSUING_H_
// Issuing stock to a procedure (needle units by serial, pigment from an open bottle, consumables
// by lot quantity) and the first-expiry-first-out suggestion of what to issue.
//
// A refused issue writes nothing of the issue; but a used needle unit presented again is recorded
// as a reuse attempt, and a used, expired or recalled unit is reported to compliance (through the
// outbox), both durably before the caller hears of the refusal.
//
// Where a procedure takes place is scheduling's to say: every issue asks scheduling for the
// appointment and refuses one that is not at the request's clinic (issue 13). The supply issue of
// a StartAppointment carries scheduling's start attempt id and is keyed on (appointment, attempt),
// not on the caller: any technician's retry of that start replays it; if the start then fails,
// scheduling's outbox returns it (Return) and the attempt is spent.

#include <functional>
#include <memory>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

struct PendingIssue;  // issuing.cc

class Issuing {
 public:
  // `db` and `appointments` must outlive the unit; `on_event_committed` (may be empty) wakes the
  // outbox dispatcher after a refusal queued an incident for compliance.
  Issuing(Database* db, AppointmentSource* appointments, std::function<void()> on_event_committed)
      : db_(db), appointments_(appointments), on_event_committed_(std::move(on_event_committed)) {}

  // Every line issued or none. The caller's scope must hold the request's clinic, and scheduling
  // must place the appointment there (NOT_FOUND for an unknown appointment, UNAVAILABLE when
  // scheduling cannot answer) before anything else is looked at. Refusals (FAILED_PRECONDITION)
  // carry ErrorInfo UNIT_ALREADY_USED (metadata serial), EXPIRED or RECALLED (metadata lot_id,
  // serial or bottle_id) when the unit, bottle or lot is the reason; SUPPLIES_ALREADY_ISSUED or
  // START_ISSUE_RETURNED for a start issue that may not draw (see inventory_reasons.h).
  absl::StatusOr<v1::IssueToProcedureResponse> Issue(const Call& call,
                                                     const v1::IssueToProcedureRequest& req) const;
  // Issue, answering in `answer` once the issue (or the record of its refusal) is durable: the
  // checks before the write run on the caller's thread, the write on the database's
  // (Database::RunAsync), so no thread waits for the log's sync. A start's issue (start_attempt_id)
  // is written on the caller's thread. `answer` may run before this returns.
  void IssueAsync(const Call& call, const v1::IssueToProcedureRequest& req,
                  Answer<v1::IssueToProcedureResponse> answer) const;
  // Puts back what a start attempt's issue drew (units in stock, or quarantined if their lot was
  // recalled since; RETURN ledger lines with the reason) and spends the attempt. An attempt that
  // never issued is voided, so a late issue of it is refused. Idempotent by request_id.
  absl::StatusOr<v1::ReturnProcedureIssueResponse> Return(
      const Call& call, const v1::ReturnProcedureIssueRequest& req) const;
  // Lots (and serials) to draw `quantity` units of a product from, first expiry first out.
  absl::StatusOr<v1::SuggestLotsResponse> Suggest(const Call& call,
                                                  const v1::SuggestLotsRequest& req) const;

 private:
  // The issue keyed on (appointment, start attempt): replayed for the same lines, refused for
  // other lines or while another attempt holds the appointment's supplies.
  absl::StatusOr<v1::IssueToProcedureResponse> IssueForStart(
      const Call& call, const v1::IssueToProcedureRequest& req,
      absl::FunctionRef<absl::StatusOr<v1::IssueToProcedureResponse>(Transaction&)> run) const;

  // The request in canonical form, once the caller's scope holds its clinic and scheduling
  // places the appointment there (its patient filled in from the appointment when absent).
  absl::StatusOr<v1::IssueToProcedureRequest> PlacedIssue(
      const Call& call, const v1::IssueToProcedureRequest& request) const;
  // Answers an issue with `result`; a refusal that found a reused unit or an incident for
  // compliance is first recorded, durably (or answered with why it could not be).
  void AnswerIssue(const std::shared_ptr<PendingIssue>& pending,
                   absl::StatusOr<v1::IssueToProcedureResponse> result,
                   Answer<v1::IssueToProcedureResponse> answer) const;

  Database* db_;
  AppointmentSource* appointments_;
  InventoryStore store_;
  std::function<void()> on_event_committed_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_ISSUING_H_
