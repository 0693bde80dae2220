#ifndef SMP_SERVICES_INVENTORY_REPLENISHMENT_H_
#define SMP_SERVICES_INVENTORY_REPLENISHMENT_H_
// Keeping clinics stocked: reorder points, the products at or below them (usable stock only), and
// the demand forecast from past use and the procedures scheduling has booked.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "common/rpc/stream_guard.h"
#include "common/util/paging.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Replenishment {
 public:
  // `db` and `appointments` must outlive the unit.
  Replenishment(Database* db, AppointmentSource* appointments)
      : db_(db), appointments_(appointments) {}

  // Creates, replaces or (level 0) deletes a product's reorder point at a clinic.
  absl::StatusOr<v1::ReorderPoint> SetReorderPoint(const Call& call,
                                                   const v1::SetReorderPointRequest& req) const;
  // The clinic's products whose usable (active, unexpired) available stock is at or below their
  // reorder level.
  absl::StatusOr<v1::ListLowStockResponse> ListLowStock(const Call& call,
                                                        const v1::ListLowStockRequest& req) const;
  // The whole low-stock list (no paging), for WatchLowStock's rounds.
  absl::StatusOr<v1::ListLowStockResponse> WatchList(const Call& call,
                                                     const v1::ListLowStockRequest& req) const;
  // A WatchLowStock stream: the list now, then again whenever it differs from the last one sent.
  // Each round is judged at the call's time, with the caller as re-checked by the stream (scope
  // included). Validates the request and the scope now.
  absl::StatusOr<std::unique_ptr<WatchSource<v1::ListLowStockResponse>>> OpenLowStockWatch(
      const Call& call, const v1::ListLowStockRequest& req) const;
  // UNAVAILABLE when scheduling cannot say which procedures are booked.
  absl::StatusOr<v1::ForecastDemandResponse> Forecast(const Call& call,
                                                      const v1::ForecastDemandRequest& req) const;

 private:
  // The low-stock items of a clinic after `page.after_key`, by product id, at most page.size + 1.
  absl::StatusOr<std::vector<v1::LowStockItem>> LowStockAfter(const Call& call,
                                                              const std::string& clinic_id,
                                                              const PageRequest& page) const;

  Database* db_;
  AppointmentSource* appointments_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_REPLENISHMENT_H_
