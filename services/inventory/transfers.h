#ifndef SMP_SERVICES_INVENTORY_TRANSFERS_H_
#define SMP_SERVICES_INVENTORY_TRANSFERS_H_
// Stock moved between clinics: shipped out of the source's available stock into the
// destination's in-transit stock, then received (into quarantine when the lot was recalled on
// the way).

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Transfers {
 public:
  // `db` must outlive the unit.
  explicit Transfers(Database* db) : db_(db) {}

  // The caller must be in scope of the source clinic.
  absl::StatusOr<v1::Transfer> Ship(const Call& call, const v1::ShipTransferRequest& req) const;
  // The caller must be in scope of the destination clinic; ABORTED (STALE_ETAG) when the etag is
  // not current, FAILED_PRECONDITION when already received.
  absl::StatusOr<v1::Transfer> Receive(const Call& call,
                                       const v1::ReceiveTransferRequest& req) const;
  // Transfers from or to a clinic, newest first, paged.
  absl::StatusOr<v1::ListTransfersResponse> List(const Call& call,
                                                 const v1::ListTransfersRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_TRANSFERS_H_
