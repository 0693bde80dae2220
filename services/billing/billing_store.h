#ifndef SMP_SERVICES_BILLING_BILLING_STORE_H_
#define SMP_SERVICES_BILLING_BILLING_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// An issued, not void invoice as the reports see it.
struct IssuedAmounts {
  int64_t net = 0;
  int64_t tax = 0;
  int64_t amount_due = 0;
  absl::Time issue_time;
};

// The write queue of `clinic_id`'s invoice counter (common/db/database.h, WriteQueue): every write
// transaction that may take an invoice number names it, so that on PostgreSQL the clinic's
// writers (of every replica) take turns at the counter instead of colliding there.
inline WriteQueue InvoiceNumberQueue(absl::string_view clinic_id) {
  return WriteQueue{absl::StrCat("billing.invoice_number:", clinic_id)};
}

// The billing SQL: price-list versions, quotes, invoices with the per-clinic invoice counter,
// credit notes, payments and deposits with their applications, refunds, and the charge events
// recorded from scheduling. Messages are kept whole as BLOB bodies (common/db/store_kit.h) beside
// the columns the queries filter and sum on; quotes and invoices carry a version that becomes
// their etag.
//
// Every function runs inside the caller's transaction: the operation decides its extent, so that
// its steps, the invoice number it takes and its request_id commit or roll back together. The
// store holds no state of its own.
//
// Errors: a missing row is NOT_FOUND "<kind> <id> not found"; a version other than the expected
// one is ABORTED with STALE_ETAG naming the current etag; a second price list of a clinic for the
// same date is ALREADY_EXISTS with PRICE_LIST_DATE_TAKEN; a stored body that does not parse is
// DATA_LOSS; anything else the database reports passes through as common/db/database.h maps it.
class BillingStore {
 public:
  // ---- Price lists ----
  // ALREADY_EXISTS when the clinic has a version with the same effective date.
  absl::StatusOr<v1::PriceList> InsertPriceList(Transaction& txn, const v1::PriceList& list,
                                                absl::Time effective_time, absl::Time now) const;
  // The version in force at `at` (greatest effective_time <= at), if any.
  absl::StatusOr<std::optional<v1::PriceList>> EffectivePriceList(Transaction& txn,
                                                                  absl::string_view clinic_id,
                                                                  absl::Time at) const;
  // Any version of the clinic (the latest created), to learn its currency and time zone.
  absl::StatusOr<std::optional<v1::PriceList>> AnyPriceList(Transaction& txn,
                                                            absl::string_view clinic_id) const;
  // Versions by effective date, newest first.
  absl::StatusOr<Page<v1::PriceList>> ListPriceLists(Transaction& txn, absl::string_view clinic_id,
                                                     const PageRequest& page) const;

  // ---- Clinic time zones (identity's, last known) ----
  absl::StatusOr<std::optional<std::string>> GetClinicZone(Transaction& txn,
                                                           absl::string_view clinic_id) const;
  absl::Status PutClinicZone(Transaction& txn, absl::string_view clinic_id,
                             absl::string_view time_zone, absl::Time now) const;
  // The clinics billing knows (those with a price list).
  absl::StatusOr<std::vector<std::string>> KnownClinics(Transaction& txn) const;

  // ---- Quotes ----
  absl::StatusOr<v1::Quote> InsertQuote(Transaction& txn, const v1::Quote& quote) const;
  absl::StatusOr<v1::Quote> GetQuote(Transaction& txn, absl::string_view id) const;
  // ABORTED naming the current etag unless the version is `expected_version`.
  absl::StatusOr<v1::Quote> UpdateQuote(Transaction& txn, const v1::Quote& quote,
                                        int64_t expected_version) const;
  // The most recently accepted quote of a plan at a clinic, if any.
  absl::StatusOr<std::optional<v1::Quote>> AcceptedQuoteForPlan(Transaction& txn,
                                                                absl::string_view clinic_id,
                                                                absl::string_view plan_id) const;

  // ---- Invoices ----
  absl::StatusOr<v1::Invoice> InsertInvoice(Transaction& txn, const v1::Invoice& invoice) const;
  absl::StatusOr<v1::Invoice> GetInvoice(Transaction& txn, absl::string_view id) const;
  // Rewrites the invoice if its version is `expected_version`; ABORTED naming the current etag.
  absl::StatusOr<v1::Invoice> UpdateInvoice(Transaction& txn, const v1::Invoice& invoice,
                                            int64_t expected_version) const;
  // Advances and returns the clinic's invoice counter (1 for the first invoice). Callers run in
  // InvoiceNumberQueue(clinic_id).
  absl::StatusOr<int64_t> NextInvoiceNumber(Transaction& txn, absl::string_view clinic_id) const;
  // A clinic's invoices (optionally one patient's), newest first.
  absl::StatusOr<Page<v1::Invoice>> ListInvoices(Transaction& txn, absl::string_view clinic_id,
                                                 absl::string_view patient_id,
                                                 const PageRequest& page) const;
  // Issued (not draft, not void) invoices of a patient at a clinic.
  absl::StatusOr<std::vector<v1::Invoice>> PatientInvoices(Transaction& txn,
                                                           absl::string_view clinic_id,
                                                           absl::string_view patient_id) const;
  // Issued, not void invoices of a clinic issued in [from, to).
  absl::StatusOr<std::vector<IssuedAmounts>> IssuedInvoices(Transaction& txn,
                                                            absl::string_view clinic_id,
                                                            absl::Time from, absl::Time to) const;

  // ---- Credit notes, payments, refunds, deposits ----
  absl::StatusOr<v1::CreditNote> InsertCreditNote(Transaction& txn, const v1::CreditNote& note,
                                                  absl::Time now) const;
  absl::StatusOr<v1::Payment> InsertPayment(Transaction& txn, const v1::Payment& payment,
                                            absl::Time now) const;
  absl::StatusOr<v1::Payment> GetPayment(Transaction& txn, absl::string_view id) const;
  // Rewrites the payment's running amounts (refunded, applied).
  absl::Status UpdatePayment(Transaction& txn, const v1::Payment& payment) const;
  // A clinic's payments, optionally of one invoice or patient, newest first.
  absl::StatusOr<Page<v1::Payment>> ListPayments(Transaction& txn, absl::string_view clinic_id,
                                                 absl::string_view invoice_id,
                                                 absl::string_view patient_id,
                                                 const PageRequest& page) const;
  // Deposits (payments without an invoice) of a patient at a clinic.
  absl::StatusOr<std::vector<v1::Payment>> PatientDeposits(Transaction& txn,
                                                           absl::string_view clinic_id,
                                                           absl::string_view patient_id) const;
  // Deposits held for a treatment plan at a clinic, oldest first.
  absl::StatusOr<std::vector<v1::Payment>> PlanDeposits(Transaction& txn,
                                                        absl::string_view clinic_id,
                                                        absl::string_view plan_id) const;
  absl::StatusOr<v1::Refund> InsertRefund(Transaction& txn, const v1::Refund& refund,
                                          absl::Time now) const;
  // One application of a deposit to an invoice; a negative amount takes one back (UnapplyDeposit),
  // with who did it and why.
  absl::Status InsertDepositApplication(Transaction& txn, absl::string_view deposit_id,
                                        absl::string_view invoice_id, int64_t amount,
                                        absl::Time now, absl::string_view recorded_by = "",
                                        absl::string_view reason = "") const;
  // What a deposit has applied to an invoice, less what was taken back.
  absl::StatusOr<int64_t> AppliedToInvoice(Transaction& txn, absl::string_view deposit_id,
                                           absl::string_view invoice_id) const;

  // ---- Patient credit ----
  // Appends a signed change of a patient's credit balance at a clinic (kind CREDIT_NOTE, APPLIED
  // or REFUNDED; source_id names the credit note, invoice or refund).
  absl::Status InsertPatientCredit(Transaction& txn, absl::string_view clinic_id,
                                   absl::string_view patient_id, int64_t amount,
                                   absl::string_view kind, absl::string_view source_id,
                                   absl::string_view recorded_by, absl::Time now) const;
  // The patient's credit balance at the clinic, in minor units.
  absl::StatusOr<int64_t> PatientCreditBalance(Transaction& txn, absl::string_view clinic_id,
                                               absl::string_view patient_id) const;
  // Amounts of a clinic's rows of `table` (credit_notes, payments, refunds) created in [from, to).
  absl::StatusOr<std::vector<int64_t>> AmountsCreated(Transaction& txn, absl::string_view table,
                                                      absl::string_view clinic_id, absl::Time from,
                                                      absl::Time to) const;

  // ---- Charge events ----
  // Remembers the result of a charge event (the request_id table keeps the replay; this row is the
  // record of which events were charged).
  absl::Status InsertChargeEvent(Transaction& txn, const v1::ChargeEventResult& result,
                                 absl::Time now) const;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_BILLING_STORE_H_
