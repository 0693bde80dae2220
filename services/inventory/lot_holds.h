#ifndef SMP_SERVICES_INVENTORY_LOT_HOLDS_H_
#define SMP_SERVICES_INVENTORY_LOT_HOLDS_H_

// Lot holds: the reversible, clinic-scoped counterpart of a recall (issue 13). Inventory staff of
// a clinic who receive a maker's notice put the lot on hold at their clinic at once; nothing of
// the lot is issued there (IssueToProcedure answers FAILED_PRECONDITION, LOT_HELD) until someone
// releases the hold, or an admin recalls the lot chain-wide. Every hold and release is kept (who,
// when, why) in lot_holds; both are idempotent by request_id.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class LotHolds {
 public:
  // `db` must outlive the unit.
  explicit LotHolds(Database* db) : db_(db) {}

  // The clinic must be in the caller's scope (the frame checks it first). FAILED_PRECONDITION
  // (LOT_HELD) when already on hold there; INVALID_ARGUMENT naming lot_id for an unknown
  // lot.
  absl::StatusOr<v1::LotHold> Hold(const Call& call, const v1::HoldLotRequest& req) const;
  // FAILED_PRECONDITION (LOT_NOT_HELD) when the lot is not on hold at the clinic.
  absl::StatusOr<v1::LotHold> Release(const Call& call, const v1::ReleaseLotHoldRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
};

// For issuing: FAILED_PRECONDITION (LOT_HELD) naming the hold when `lot_id` is on hold at
// `clinic_id`.
absl::Status CheckLotNotHeld(const InventoryStore& store, Transaction& txn,
                             absl::string_view clinic_id, absl::string_view lot_id);

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_LOT_HOLDS_H_
