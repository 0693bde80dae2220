#ifndef SMP_SERVICES_BILLING_REPORTS_H_
#define SMP_SERVICES_BILLING_REPORTS_H_

// Revenue over a clinic-local period and receivables aging, summed from the stored invoices,
// credit notes, payments and refunds of one clinic in the clinic's currency.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// The longest period a revenue report covers, in days (a leap year).
inline constexpr int kMaxReportDays = 366;

// GetRevenueReport, GetReceivablesAging.
class Reports {
 public:
  // `db` and `store` must outlive this.
  Reports(Database* db, const BillingStore* store) : db_(db), store_(store) {}

  // Net and tax of invoices issued (not void) in the period, credits, payments and refunds made in
  // it; the period is clinic-local days, at most kMaxReportDays.
  absl::StatusOr<v1::RevenueReport> Revenue(const Call& call,
                                            const v1::GetRevenueReportRequest& request);
  // Amount due of issued invoices by whole days since issue, as of `as_of_time` or call.now.
  absl::StatusOr<v1::ReceivablesAging> Aging(const Call& call,
                                             const v1::GetReceivablesAgingRequest& request);

 private:
  Database* db_;
  const BillingStore* store_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_REPORTS_H_
