#ifndef SMP_SERVICES_BILLING_PRICE_LISTS_H_
#define SMP_SERVICES_BILLING_PRICE_LISTS_H_

// Price lists: dated versions of a clinic's prices, currency, tax rate and time zone. A version is
// never edited; a new one takes effect at clinic-local midnight of its effective_date. The clinic's
// first price list is also how billing learns of the clinic: RequireClinic and RequirePriceList are
// the lookups every other unit makes before it prices or sums anything.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/peer/clinic_zones.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// Any price list of the clinic (its currency and time zone are the clinic's: the zone identity
// last gave, when billing has heard one, else the list's own); INVALID_ARGUMENT naming `field`
// when it has none (a clinic billing does not know).
absl::StatusOr<v1::PriceList> RequireClinic(const BillingStore& store, Transaction& txn,
                                            absl::string_view clinic_id, absl::string_view field);

// The price list in force at `at` (with the clinic's zone as RequireClinic's): INVALID_ARGUMENT
// naming `field` when the clinic has none at all (unknown here), FAILED_PRECONDITION
// (NO_PRICE_LIST_IN_FORCE) when none is in force yet.
absl::StatusOr<v1::PriceList> RequirePriceList(const BillingStore& store, Transaction& txn,
                                               absl::string_view clinic_id, absl::Time at,
                                               absl::string_view field);

// CreatePriceList, GetEffectivePriceList, ListPriceLists. Each validates the request, checks the
// caller's scope over the clinic, and runs in one transaction.
class PriceLists {
 public:
  // `db`, `store` and `zones` (identity, the source of clinics' time zones; nullptr: none
  // configured, as if identity could not answer) must outlive this.
  PriceLists(Database* db, const BillingStore* store, ClinicZoneSource* zones = nullptr)
      : db_(db), store_(store), zones_(zones) {}

  // A new version; idempotent by request_id. ALREADY_EXISTS (PRICE_LIST_DATE_TAKEN) for a second
  // version on one date, FAILED_PRECONDITION (CURRENCY_FIXED) for another currency. Its time zone
  // is identity's (common/peer/clinic_zones.h ResolveClinicZone): price_list.time_zone may be left
  // empty, and one that differs from identity's is INVALID_ARGUMENT.
  absl::StatusOr<v1::PriceList> Create(const Call& call, const v1::CreatePriceListRequest& request);
  // Stores the zones identity has changed for the clinics billing knows (the refresh task); how
  // many changed. Identity's error when it cannot answer (the stored zones stay).
  absl::StatusOr<int> RefreshZones(absl::Time now);
  // The version in force at `at_time`, or at call.now when unset.
  absl::StatusOr<v1::PriceList> GetEffective(const Call& call,
                                             const v1::GetEffectivePriceListRequest& request);
  // The clinic's versions, newest effective date first; paged.
  absl::StatusOr<v1::ListPriceListsResponse> List(const Call& call,
                                                  const v1::ListPriceListsRequest& request);

 private:
  Database* db_;
  const BillingStore* store_;
  ClinicZoneSource* zones_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_PRICE_LISTS_H_
