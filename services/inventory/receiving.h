#ifndef SMP_SERVICES_INVENTORY_RECEIVING_H_
#define SMP_SERVICES_INVENTORY_RECEIVING_H_
// Stock coming in and going out outside procedures: receiving a lot (with its needle units'
// serials), counting corrections, and witnessed discards (expired or damaged stock, spent units).

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Receiving {
 public:
  // `db` must outlive the unit.
  explicit Receiving(Database* db) : db_(db) {}

  // Creates the lot on its first receipt (FAILED_PRECONDITION when a known lot's expiry, serial
  // tracking or recall status disagrees) and books the units into the clinic's available stock.
  absl::StatusOr<v1::ReceiveStockResponse> Receive(const Call& call,
                                                   const v1::ReceiveStockRequest& req) const;
  // A counting correction of a lot tracked by quantity.
  absl::StatusOr<v1::LedgerEntry> Adjust(const Call& call, const v1::AdjustStockRequest& req) const;
  // Takes a quantity (available first, then quarantined) or named units out of stock.
  absl::StatusOr<v1::DiscardStockResponse> Discard(const Call& call,
                                                   const v1::DiscardStockRequest& req) const;

 private:
  Database* db_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_RECEIVING_H_
