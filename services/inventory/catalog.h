#ifndef SMP_SERVICES_INVENTORY_CATALOG_H_
#define SMP_SERVICES_INVENTORY_CATALOG_H_
// The catalogue operations: a clinic's inventory settings (its time zone, which every dated rule
// of the clinic reads) and the chain-wide product list.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/peer/clinic_zones.h"
#include "common/rpc/call.h"
#include "services/inventory/inventory_store.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

class Catalog {
 public:
  // `db` and `zones` (identity, the source of clinics' time zones; nullptr: none configured, as
  // if identity could not answer) must outlive the unit.
  explicit Catalog(Database* db, ClinicZoneSource* zones = nullptr) : db_(db), zones_(zones) {}

  // NOT_FOUND when the clinic has no settings yet.
  absl::StatusOr<v1::ClinicInventorySettings> GetSettings(
      const Call& call, const v1::GetClinicInventorySettingsRequest& req) const;
  // Creates (no etag) or replaces (current etag; ABORTED STALE_ETAG otherwise) the settings. The
  // time zone is identity's (common/peer/clinic_zones.h ResolveClinicZone): settings.time_zone
  // may be left empty, and one that differs from identity's is INVALID_ARGUMENT.
  absl::StatusOr<v1::ClinicInventorySettings> UpdateSettings(
      const Call& call, const v1::UpdateClinicInventorySettingsRequest& req) const;
  // Brings every stored clinic's time zone in line with identity's (the refresh task); how many
  // changed. Identity's error when it cannot answer (the stored zones stay).
  absl::StatusOr<int> RefreshZones(absl::Time now) const;
  absl::StatusOr<v1::Product> CreateProduct(const Call& call,
                                            const v1::CreateProductRequest& req) const;
  absl::StatusOr<v1::Product> GetProduct(const Call& call, const v1::GetProductRequest& req) const;
  absl::StatusOr<v1::ListProductsResponse> ListProducts(const Call& call,
                                                        const v1::ListProductsRequest& req) const;

 private:
  Database* db_;
  ClinicZoneSource* zones_;
  InventoryStore store_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_CATALOG_H_
