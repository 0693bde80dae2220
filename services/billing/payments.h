#ifndef SMP_SERVICES_BILLING_PAYMENTS_H_
#define SMP_SERVICES_BILLING_PAYMENTS_H_

// Payments, deposits, refunds and balances. A payment either pays an issued invoice (part payments
// allowed, never above the amount due) or, naming a treatment plan and no invoice, is a deposit
// held for that plan until it is applied to the plan's invoices (by hand with ApplyDeposit, or
// automatically when a charge of the plan is invoiced: DrawPlanDeposits). A refund never exceeds
// what was captured less earlier refunds and, for a deposit, less what was applied.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// Pays as much of the issued invoice `invoice` (of a plan) as the plan's unapplied deposits of the
// same patient cover, oldest deposit first, recording each application at `now`. The deposits are
// saved; `invoice` is updated in memory only (the caller saves it).
absl::Status DrawPlanDeposits(const BillingStore& store, Transaction& txn, v1::Invoice& invoice,
                              absl::Time now);

// RecordPayment, ApplyDeposit, RefundPayment, GetPayment, ListPayments, GetPatientBalance. Every
// change is idempotent by request_id (a replay returns the recorded payment and counts once).
class Payments {
 public:
  // `db` and `store` must outlive this.
  Payments(Database* db, const BillingStore* store) : db_(db), store_(store) {}

  // A payment of an invoice, or a deposit for a plan. FAILED_PRECONDITION (INVOICE_NOT_PAYABLE,
  // EXCEEDS_AMOUNT_DUE) when the invoice cannot take it.
  absl::StatusOr<v1::Payment> Record(const Call& call, const v1::RecordPaymentRequest& request);
  // Moves part of a deposit onto an issued invoice of its plan; returns the deposit.
  // FAILED_PRECONDITION: NOT_A_DEPOSIT, DEPOSIT_PLAN_MISMATCH, EXCEEDS_DEPOSIT, or the invoice's.
  absl::StatusOr<v1::Payment> ApplyDeposit(const Call& call,
                                           const v1::ApplyDepositRequest& request);
  // Takes part of a deposit's applications to an invoice back (the invoice owes it again, the
  // deposit holds it again); recorded with the caller and the reason; returns the deposit.
  // FAILED_PRECONDITION: NOT_A_DEPOSIT, INVOICE_NOT_PAYABLE (draft, void), EXCEEDS_APPLIED.
  absl::StatusOr<v1::Payment> UnapplyDeposit(const Call& call,
                                             const v1::UnapplyDepositRequest& request);
  // Pays an issued invoice from its patient's credit balance at its clinic.
  // FAILED_PRECONDITION: the invoice's (INVOICE_NOT_PAYABLE, EXCEEDS_AMOUNT_DUE),
  // EXCEEDS_CREDIT_BALANCE.
  absl::StatusOr<v1::Invoice> ApplyCredit(const Call& call,
                                          const v1::ApplyPatientCreditRequest& request);
  // Pays back patient credit: a Refund without payment_id, counted in the revenue report's
  // refunds. FAILED_PRECONDITION (EXCEEDS_CREDIT_BALANCE).
  absl::StatusOr<v1::Refund> RefundCredit(const Call& call,
                                          const v1::RefundPatientCreditRequest& request);
  // FAILED_PRECONDITION (EXCEEDS_REFUNDABLE) beyond what may be refunded.
  absl::StatusOr<v1::Refund> Refund(const Call& call, const v1::RefundPaymentRequest& request);
  absl::StatusOr<v1::Payment> Get(const Call& call, const v1::GetPaymentRequest& request);
  // A clinic's payments (optionally one invoice's or patient's), newest first; paged.
  absl::StatusOr<v1::ListPaymentsResponse> List(const Call& call,
                                                const v1::ListPaymentsRequest& request);
  // Amount due over the patient's issued invoices at the clinic, unapplied deposits and credit.
  absl::StatusOr<v1::PatientBalance> Balance(const Call& call,
                                             const v1::GetPatientBalanceRequest& request);

 private:
  Database* db_;
  const BillingStore* store_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_PAYMENTS_H_
