#ifndef SMP_SERVICES_INVENTORY_ISSUING_H_
#define SMP_SERVICES_INVENTORY_ISSUING_H_
// Issuing stock to a procedure (needle units by serial, pigment from an open bottle, consumables
// by lot quantity) and the first-expiry-first-out suggestion of what to issue.
//
// A refused issue writes nothing of the issue; but a used needle unit presented again is recorded
// as a reuse attempt, and a used, expired or recalled unit is reported to compliance (through the
// outbox), both durably before the caller hears of the refusal.

#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Issuing {
 public:
  // `db` must outlive the unit; `on_event_committed` (may be empty) wakes the outbox dispatcher
  // after a refusal queued an incident for compliance.
  Issuing(Database* db, std::function<void()> on_event_committed)
      : db_(db), on_event_committed_(std::move(on_event_committed)) {}

  // Every line issued or none. Refusals (FAILED_PRECONDITION) carry ErrorInfo UNIT_ALREADY_USED
  // (metadata serial), EXPIRED or RECALLED (metadata lot_id, serial or bottle_id) when the unit,
  // bottle or lot is the reason.
  absl::StatusOr<v1::IssueToProcedureResponse> Issue(const Call& call,
                                                     const v1::IssueToProcedureRequest& req) const;
  // Lots (and serials) to draw `quantity` units of a product from, first expiry first out.
  absl::StatusOr<v1::SuggestLotsResponse> Suggest(const Call& call,
                                                  const v1::SuggestLotsRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
  std::function<void()> on_event_committed_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_ISSUING_H_
