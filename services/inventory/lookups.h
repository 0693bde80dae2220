#ifndef SMP_SERVICES_INVENTORY_LOOKUPS_H_
#define SMP_SERVICES_INVENTORY_LOOKUPS_H_
// The reads every inventory operation shares, inside the operation's transaction: a clinic's time
// zone, the product or lot a request names (an unknown one is a bad argument of that request), the
// stock rules' views of stored lots and bottles, and the "enough stock here?" check.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "services/inventory/inventory_store.h"
#include "services/inventory/stock_rules.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

LotView ViewOf(const v1::Lot& lot);
BottleView ViewOf(const v1::PigmentBottle& bottle);

// The clinic's time zone; INVALID_ARGUMENT naming `field` when an admin has not set it (an
// unknown clinic).
absl::StatusOr<absl::TimeZone> RequireZone(const InventoryStore& store, Transaction& txn,
                                           absl::string_view clinic_id, absl::string_view field);

// The product or lot named by a request's `field`; INVALID_ARGUMENT naming it when unknown.
absl::StatusOr<v1::Product> ProductOfRequest(const InventoryStore& store, Transaction& txn,
                                             absl::string_view field, absl::string_view id);
absl::StatusOr<v1::Lot> LotOfRequest(const InventoryStore& store, Transaction& txn,
                                     absl::string_view field, absl::string_view id);

// The unit of canonical `serial` (of `product_id` when not empty); nullopt when none. A serial
// known for several products without `product_id` is INVALID_ARGUMENT naming `product_field`
// (serials are unique per product only).
absl::StatusOr<std::optional<v1::SerialUnit>> UnitOfRequest(const InventoryStore& store,
                                                            Transaction& txn,
                                                            absl::string_view product_field,
                                                            absl::string_view serial,
                                                            absl::string_view product_id);

// OK when the clinic holds `quantity` available units of `lot`; FAILED_PRECONDITION otherwise,
// saying whether other clinics hold it (stock elsewhere must be transferred first).
absl::Status CheckEnoughHere(const InventoryStore& store, Transaction& txn,
                             absl::string_view clinic_id, const v1::Lot& lot, int64_t quantity);

// The page after `page.after_key` of `items`, which are sorted by `key` (a string that sorts as
// the list does): for lists the store assembles whole (levels merged from per-bucket rows), paged
// with the same tokens as the lists paged in SQL.
template <typename T, typename KeyFn>
Page<T> PageOfSorted(std::vector<T> items, const PageRequest& page, KeyFn key) {
  std::vector<T> rest;
  for (T& item : items) {
    if (static_cast<int>(rest.size()) > page.size) break;
    if (page.after_key.empty() || key(item) > page.after_key) rest.push_back(std::move(item));
  }
  return MakePage(std::move(rest), page.size, key);
}

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_LOOKUPS_H_
