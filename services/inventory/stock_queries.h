#ifndef SMP_SERVICES_INVENTORY_STOCK_QUERIES_H_
#define SMP_SERVICES_INVENTORY_STOCK_QUERIES_H_
// Reading stock: a clinic's levels and ledger, lots and serial units, refused reuse attempts, and
// the daily reconciliation of needle units issued against the procedures scheduling recorded.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class StockQueries {
 public:
  // `db` and `appointments` must outlive the unit.
  StockQueries(Database* db, AppointmentSource* appointments)
      : db_(db), appointments_(appointments) {}

  // A clinic's stock levels, each marked expired in the clinic's calendar.
  absl::StatusOr<v1::ListStockResponse> ListStock(const Call& call,
                                                  const v1::ListStockRequest& req) const;
  // A clinic's stock expiring within a number of its local days (expired included), soonest first.
  absl::StatusOr<v1::ListExpiringResponse> ListExpiring(const Call& call,
                                                        const v1::ListExpiringRequest& req) const;
  absl::StatusOr<v1::ListLedgerEntriesResponse> ListLedger(
      const Call& call, const v1::ListLedgerEntriesRequest& req) const;
  // Lots are chain-wide: any caller with the permission may read one.
  absl::StatusOr<v1::Lot> GetLot(const Call& call, const v1::GetLotRequest& req) const;
  // PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) for a unit held at another clinic.
  absl::StatusOr<v1::SerialUnit> GetUnit(const Call& call,
                                         const v1::GetSerialUnitRequest& req) const;
  absl::StatusOr<v1::ListReuseAttemptsResponse> ListReuseAttempts(
      const Call& call, const v1::ListReuseAttemptsRequest& req) const;
  // UNAVAILABLE when scheduling cannot say which procedures took place.
  absl::StatusOr<v1::ReconcileDayResponse> Reconcile(const Call& call,
                                                     const v1::ReconcileDayRequest& req) const;

 private:
  Database* db_;
  AppointmentSource* appointments_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_STOCK_QUERIES_H_
