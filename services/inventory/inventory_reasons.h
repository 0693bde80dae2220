#ifndef SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_

// ErrorInfo reasons (see common/status/error_details.h, namespace reason) that only inventory
// sends, in the suite's "smp-suite" domain. Add, never rename: clients switch on them.

namespace smp::inventory {

// FAILED_PRECONDITION: a start issue (IssueToProcedureRequest.start_attempt_id) for an appointment
// whose supplies a start already drew and has not returned, with other lines or from another
// start attempt. The message names what was issued. Metadata: appointment_id, start_attempt_id (of
// the issue that holds the supplies).
inline constexpr char kSuppliesAlreadyIssuedReason[] = "SUPPLIES_ALREADY_ISSUED";
// FAILED_PRECONDITION: the start attempt's issue was returned (or voided) after the start failed;
// that attempt never issues again (scheduling starts a new one). Metadata: appointment_id,
// start_attempt_id.
inline constexpr char kStartIssueReturnedReason[] = "START_ISSUE_RETURNED";

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_
