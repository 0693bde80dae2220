#ifndef SMP_SERVICES_INVENTORY_BOTTLES_H_
#define SMP_SERVICES_INVENTORY_BOTTLES_H_
// Pigment bottles: opening one (a unit leaves the clinic's stock and gets a use-by date), the
// clinic's unclosed bottles, and closing one (finished or discarded).

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Bottles {
 public:
  // `db` must outlive the unit.
  explicit Bottles(Database* db) : db_(db) {}

  // FAILED_PRECONDITION (RECALLED / EXPIRED) when the lot may not be issued today.
  absl::StatusOr<v1::OpenBottleResponse> Open(const Call& call,
                                              const v1::OpenBottleRequest& req) const;
  // Open and quarantined bottles of a clinic, each marked expired when past its use-by date.
  absl::StatusOr<v1::ListOpenBottlesResponse> ListUnclosed(
      const Call& call, const v1::ListOpenBottlesRequest& req) const;
  absl::StatusOr<v1::PigmentBottle> Close(const Call& call,
                                          const v1::CloseBottleRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_BOTTLES_H_
