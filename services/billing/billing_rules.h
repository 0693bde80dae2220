#ifndef SMP_SERVICES_BILLING_BILLING_RULES_H_
#define SMP_SERVICES_BILLING_BILLING_RULES_H_

// Billing's domain rules: pricing of lines, discounts and tax, price-list validation, quotes, the
// invoice status machine, payment, refund and credit limits, charges from events and receivables
// aging. No I/O and no clock of their own; integer minor units only (common/money), never floating
// point.
//
// Rounding (the contract documents the same): a line's discount is gross x discount_bp / 10000,
// rounded to the nearest minor unit with halves away from zero; tax is computed ONCE per invoice or
// quote on the sum of the lines' net amounts, rounded the same way. So lines add up exactly to the
// subtotal and the tax is the one a customer computes from the printed net. With tax-inclusive
// prices (a price list's prices_include_tax) the summed lines are the total and the tax in it is
// total x rate / (10000 + rate), rounded once the same way (TaxIncluded); net = total - tax.
//
// Every amount must be in the document's currency (else INVALID_ARGUMENT "currency mismatch"), not
// negative, at most kMaxAmountMinor; a sum or product beyond that is INVALID_ARGUMENT naming the
// field (the request asked for an amount the suite cannot hold), never a wrapped int64.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

inline constexpr int64_t kMaxLineQuantity = 1000;
inline constexpr int kMaxLines = 100;
inline constexpr int kMinQuoteSessions = 1;
inline constexpr int kMaxQuoteSessions = 4;

// Validates `line` (kind, description, quantity, unit_price in `currency`, discount_bp) and fills
// its gross, discount and net amounts. Errors name `field` (e.g. "invoice.lines[2]").
absl::Status PriceLine(absl::string_view field, absl::string_view currency, v1::Line& line);

// The tax contained in a tax-inclusive amount: gross x rate / (1 + rate), i.e.
// gross_minor x tax_rate_bp / (10000 + tax_rate_bp), rounded to the nearest minor unit, halves
// away from zero (GBP 99.99 at 20% holds GBP 16.67; AUD 4,350.00 at 10% holds AUD 395.45).
absl::StatusOr<int64_t> TaxIncluded(int64_t gross_minor, int32_t tax_rate_bp);

// Prices every line (at least one, at most kMaxLines) and returns the totals: with
// `prices_include_tax` false, tax at `tax_rate_bp` added on the summed net; with it true, the
// summed lines are the total and the tax is TaxIncluded(total), net = total - tax.
absl::StatusOr<v1::Totals> PriceLines(absl::string_view field, absl::string_view currency,
                                      int32_t tax_rate_bp, bool prices_include_tax,
                                      google::protobuf::RepeatedPtrField<v1::Line>& lines);

// Validates a new price-list version and returns the instant its effective_date begins in its time
// zone (clinic-local midnight, or the first instant of that day when a DST change skips midnight).
absl::StatusOr<absl::Time> ValidatePriceList(const v1::PriceList& list);

// The per-session price for `area`; INVALID_ARGUMENT naming `field` for an unspecified area.
absl::StatusOr<common::v1::Money> SessionPrice(absl::string_view field, const v1::PriceList& list,
                                               v1::TreatmentArea area);

// OK when the etag a request carries is the resource's current one; ABORTED (STALE_ETAG) naming
// the current etag otherwise. Checked before any other rule, so a client that lost a race learns
// that first.
absl::Status CheckCurrentEtag(absl::string_view kind, absl::string_view id,
                              absl::string_view current, absl::string_view given);

// The clinic's time zone as its price list names it (validated when the list was saved).
absl::TimeZone ClinicZone(const v1::PriceList& list);

// The clinic-local date of `t` in the price list's time zone.
common::v1::LocalDate LocalDateAt(const v1::PriceList& list, absl::Time t);

// OK when a clinic billing in `current.currency_code()` may add `next`: the currency of a clinic
// never changes. FAILED_PRECONDITION (CURRENCY_FIXED) otherwise.
absl::Status CheckSameCurrency(const v1::PriceList& current, const v1::PriceList& next);

// Validates the client's part of a quote (sessions, area, discount, valid_until not before `today`)
// and prices it from `list`: `sessions` treatment-session lines at the area's price with the
// quote's discount, the list's tax rate, and its cancellation fees snapshotted.
absl::Status PriceQuote(const v1::PriceList& list, const common::v1::LocalDate& today,
                        v1::Quote& quote);

// True when `today` is after the quote's valid_until.
bool QuoteExpired(const v1::Quote& quote, const common::v1::LocalDate& today);

// Accepts an open quote at `now` (clinic-local `today`): FAILED_PRECONDITION with QUOTE_NOT_OPEN
// when it is not open, QUOTE_EXPIRED when `today` is after its valid_until.
absl::Status AcceptOpenQuote(v1::Quote& quote, const common::v1::LocalDate& today, absl::Time now);

// OK when the invoice is a draft. FAILED_PRECONDITION (INVOICE_NOT_DRAFT) otherwise; with `edit`
// the message says an issued invoice is never edited, only credited.
absl::Status CheckDraft(const v1::Invoice& invoice, bool edit);

// Voids a draft, or an issued invoice with nothing paid or credited, at `now`: it keeps its number
// and owes nothing. FAILED_PRECONDITION (INVOICE_NOT_VOIDABLE) otherwise.
absl::Status VoidUntouchedInvoice(v1::Invoice& invoice, absl::string_view reason, absl::Time now);

// Recomputes amount_due (total - paid - credited) and, for an issued invoice, its status (ISSUED,
// PARTIALLY_PAID, PAID). Drafts and void invoices keep their status.
absl::Status SettleInvoice(v1::Invoice& invoice);

// A positive amount in `currency`, within limits. Errors name `field`.
absl::Status ValidatePositiveAmount(absl::string_view field, absl::string_view currency,
                                    const common::v1::Money& amount);

// OK when `amount` may be paid (or credited) on `invoice`: it is issued and not fully settled and
// amount is at most amount_due. FAILED_PRECONDITION naming the rule otherwise.
absl::Status CheckPayable(const v1::Invoice& invoice, const common::v1::Money& amount,
                          absl::string_view what);

// Adds a payment (or, with `credit`, a credit note) of `amount` to the invoice and settles it.
absl::Status ApplyToInvoice(v1::Invoice& invoice, const common::v1::Money& amount, bool credit);

// Takes a refund of `amount` off the invoice's amount_paid and settles it. FAILED_PRECONDITION
// (EXCEEDS_REFUNDABLE) when the invoice holds less paid than that: a credit note already moved
// the rest to the patient's credit balance, which RefundPatientCredit pays back.
absl::Status RefundFromInvoice(v1::Invoice& invoice, const common::v1::Money& amount);

// Credits `amount` on an issued (ISSUED, PARTIALLY_PAID or PAID) invoice: what is due first, the
// rest (already paid) is taken off amount_paid and returned, for the patient's credit balance.
// FAILED_PRECONDITION: INVOICE_NOT_PAYABLE for a draft or void invoice, EXCEEDS_CREDITABLE above
// the invoice's total less earlier credits.
absl::StatusOr<common::v1::Money> CreditInvoice(v1::Invoice& invoice,
                                                const common::v1::Money& amount);

// Takes `amount` of a deposit's application back from `invoice`: `applied_minor` is what the
// deposit applied to this invoice less earlier un-applications. The invoice owes it again and the
// deposit's amount_applied drops by it. FAILED_PRECONDITION: NOT_A_DEPOSIT, INVOICE_NOT_PAYABLE
// (draft or void invoice), EXCEEDS_APPLIED (more than applied_minor or the invoice's amount_paid).
absl::Status UnapplyDepositFrom(v1::Payment& deposit, v1::Invoice& invoice, int64_t applied_minor,
                                const common::v1::Money& amount);

// OK when a patient holding `balance` of credit may spend or be paid back `amount`;
// FAILED_PRECONDITION (EXCEEDS_CREDIT_BALANCE) otherwise.
absl::Status CheckCreditBalance(const common::v1::Money& balance, const common::v1::Money& amount);

// What of `payment` can still be refunded: amount - refunded - applied (deposits).
absl::StatusOr<common::v1::Money> Refundable(const v1::Payment& payment);

// OK when `amount` is at most Refundable(payment); FAILED_PRECONDITION naming both otherwise.
absl::Status CheckRefund(const v1::Payment& payment, const common::v1::Money& amount);

// OK when `amount` of the deposit may be applied to `invoice`: the payment is a deposit (no
// invoice), the invoice is of the deposit's clinic, patient and plan, and the deposit has that much
// unapplied. FAILED_PRECONDITION with NOT_A_DEPOSIT, DEPOSIT_PLAN_MISMATCH or EXCEEDS_DEPOSIT.
absl::Status CheckDepositApplication(const v1::Payment& deposit, const v1::Invoice& invoice,
                                     const common::v1::Money& amount);

// Validates a new payment's method oneof (exactly one; card last4 of 4 digits and a reference;
// financing provider and reference). Errors name "payment.<method>...".
absl::Status ValidatePaymentMethod(const v1::Payment& payment);

// The line an event charges, priced from `quote` (an accepted quote of the plan, or nullptr) and
// `list` (the price list in force when it happened). A zero-priced line means nothing to charge.
absl::StatusOr<v1::Line> ChargeLine(const v1::RecordChargeEventRequest& event,
                                    const v1::PriceList& list, const v1::Quote* quote);

// Aging bucket of an invoice issued at `issued` as of `as_of`: 0 for 0-30 days, 1 for 31-60, 2 for
// 61-90, 3 for more than 90 (whole days elapsed, rounded down).
int AgingBucket(absl::Time issued, absl::Time as_of);

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_BILLING_RULES_H_
