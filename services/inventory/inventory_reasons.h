#ifndef SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_

// Stable ErrorInfo reasons inventory answers with besides the suite's own (common/status/
// error_details.h: RECALLED, EXPIRED, UNIT_ALREADY_USED, ...).

namespace smp::inventory::inventory_reason {

// FAILED_PRECONDITION (IssueToProcedure, HoldLot): the lot is on hold at the clinic.
// Metadata: lot_id, clinic_id, held_by.
inline constexpr char kLotHeld[] = "LOT_HELD";
// FAILED_PRECONDITION (ReleaseLotHold): the lot is not on hold at the clinic. Metadata: lot_id.
inline constexpr char kLotNotHeld[] = "LOT_NOT_HELD";

}  // namespace smp::inventory::inventory_reason

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
