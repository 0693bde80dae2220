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

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_REASONS_H_
