#ifndef SMP_SERVICES_BILLING_QUOTES_H_
#define SMP_SERVICES_BILLING_QUOTES_H_

// Quotes: a course of treatment sessions priced from the price list in force when the quote is
// made, its prices, tax rate and cancellation fees snapshotted, accepted (once) until its
// clinic-local valid_until. An accepted quote of a plan prices the plan's charges later.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// CreateQuote, GetQuote, AcceptQuote.
class Quotes {
 public:
  // `db` and `store` must outlive this.
  Quotes(Database* db, const BillingStore* store) : db_(db), store_(store) {}

  // Prices and stores an OPEN quote at call.now; idempotent by request_id.
  absl::StatusOr<v1::Quote> Create(const Call& call, const v1::CreateQuoteRequest& request);
  absl::StatusOr<v1::Quote> Get(const Call& call, const v1::GetQuoteRequest& request);
  // OPEN -> ACCEPTED at call.now; ABORTED (STALE_ETAG) for a stale etag, FAILED_PRECONDITION
  // (QUOTE_NOT_OPEN, QUOTE_EXPIRED) when it cannot be accepted; idempotent by request_id.
  absl::StatusOr<v1::Quote> Accept(const Call& call, const v1::AcceptQuoteRequest& request);

 private:
  Database* db_;
  const BillingStore* store_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_QUOTES_H_
