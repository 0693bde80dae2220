#ifndef SMP_SERVICES_INVENTORY_RECALLS_H_
#define SMP_SERVICES_INVENTORY_RECALLS_H_
// Lot recalls: quarantining a lot chain-wide (its stock, in-stock units and open bottles) with
// compliance told through the outbox, and the procedures that used a lot.

#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Recalls {
 public:
  // `db` must outlive the unit; `on_event_committed` (may be empty) wakes the outbox dispatcher
  // after a recall queued its event for compliance.
  Recalls(Database* db, std::function<void()> on_event_committed)
      : db_(db), on_event_committed_(std::move(on_event_committed)) {}

  // A recall is chain-wide whoever starts it (a clinic's inventory staff may act on a maker's
  // notice); the quarantine entries and procedures listed back are limited to the caller's clinic
  // scope. FAILED_PRECONDITION (RECALLED) when the lot is already recalled.
  absl::StatusOr<v1::RecallLotResponse> Recall(const Call& call,
                                               const v1::RecallLotRequest& req) const;
  // The procedures (in the caller's clinic scope) that drew from a lot.
  absl::StatusOr<v1::ListLotUsesResponse> ListUses(const Call& call,
                                                   const v1::ListLotUsesRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
  std::function<void()> on_event_committed_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_RECALLS_H_
