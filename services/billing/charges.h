#ifndef SMP_SERVICES_BILLING_CHARGES_H_
#define SMP_SERVICES_BILLING_CHARGES_H_

// Charges from scheduling's events: a completed session, a late cancellation or a no-show becomes
// an issued invoice, priced from the plan's accepted quote (its snapshot binds) or else the price
// list in force when it happened, and paid from the plan's deposits as far as they go. A zero fee
// charges nothing but is still recorded, so a redelivery is recognised.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// RecordChargeEvent.
class Charges {
 public:
  // `db` and `store` must outlive this.
  Charges(Database* db, const BillingStore* store) : db_(db), store_(store) {}

  // Idempotent by event_id alone, whoever delivers it: a redelivery returns the first result with
  // `replayed` set; the same event_id with other details is INVALID_ARGUMENT (REQUEST_ID_REUSED,
  // field event_id). The caller needs PERMISSION_SERVICE_CALL or PERMISSION_BILLING_WRITE, else
  // PERMISSION_DENIED (MISSING_PERMISSION).
  absl::StatusOr<v1::ChargeEventResult> Record(const Call& call,
                                               const v1::RecordChargeEventRequest& request);

 private:
  // The new, issued invoice that charges `request` at call.now, deposits drawn; none (an empty
  // result) for a zero fee.
  absl::StatusOr<v1::ChargeEventResult> Charge(const Call& call, Transaction& txn,
                                               const v1::RecordChargeEventRequest& request);

  Database* db_;
  const BillingStore* store_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_CHARGES_H_
