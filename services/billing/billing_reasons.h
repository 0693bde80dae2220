#ifndef SMP_SERVICES_BILLING_BILLING_REASONS_H_
#define SMP_SERVICES_BILLING_BILLING_REASONS_H_

// The stable ErrorInfo reasons (common/status/error_details.h, domain "smp-suite") that only
// billing gives, for the refusals a billing client acts on. The suite-wide ones (STALE_ETAG,
// OUTSIDE_CLINIC_SCOPE, MISSING_PERMISSION, REQUEST_ID_REUSED) stay in common's `reason`
// namespace. Add, never rename: clients switch on them. Each is listed in
// services/billing/README.md.

namespace smp::billing::billing_reason {

// FAILED_PRECONDITION: the clinic has price lists, but none in force at the instant asked (the
// first one starts later). Metadata: clinic_id.
inline constexpr char kNoPriceListInForce[] = "NO_PRICE_LIST_IN_FORCE";
// FAILED_PRECONDITION: a new price list names another currency than the clinic bills in.
// Metadata: currency_code (the clinic's).
inline constexpr char kCurrencyFixed[] = "CURRENCY_FIXED";
// ALREADY_EXISTS: the clinic already has a price list effective on that date. Metadata:
// effective_date.
inline constexpr char kPriceListDateTaken[] = "PRICE_LIST_DATE_TAKEN";
// FAILED_PRECONDITION: the quote is no longer open (accepted or otherwise closed). Metadata:
// status.
inline constexpr char kQuoteNotOpen[] = "QUOTE_NOT_OPEN";
// FAILED_PRECONDITION: the quote is past its valid_until (clinic-local). Metadata: valid_until.
inline constexpr char kQuoteExpired[] = "QUOTE_EXPIRED";
// FAILED_PRECONDITION: the invoice must be a draft for this (edit, issue). Metadata: status.
inline constexpr char kInvoiceNotDraft[] = "INVOICE_NOT_DRAFT";
// FAILED_PRECONDITION: the invoice cannot be voided (paid, credited or already void); refund or
// credit it instead. Metadata: status.
inline constexpr char kInvoiceNotVoidable[] = "INVOICE_NOT_VOIDABLE";
// FAILED_PRECONDITION: a payment, credit or deposit goes to an invoice that is not open for it
// (a draft, void or paid invoice). Metadata: status.
inline constexpr char kInvoiceNotPayable[] = "INVOICE_NOT_PAYABLE";
// FAILED_PRECONDITION: the amount is more than the invoice's amount due. Metadata:
// amount_due_minor.
inline constexpr char kExceedsAmountDue[] = "EXCEEDS_AMOUNT_DUE";
// FAILED_PRECONDITION: the refund is more than the payment's refundable rest. Metadata:
// refundable_minor.
inline constexpr char kExceedsRefundable[] = "EXCEEDS_REFUNDABLE";
// FAILED_PRECONDITION: the payment named as a deposit paid an invoice. Metadata: payment_id.
inline constexpr char kNotADeposit[] = "NOT_A_DEPOSIT";
// FAILED_PRECONDITION: the invoice is not of the plan (and patient, clinic) the deposit is held
// for. Metadata: plan_id.
inline constexpr char kDepositPlanMismatch[] = "DEPOSIT_PLAN_MISMATCH";
// FAILED_PRECONDITION: the deposit has less unapplied than asked. Metadata: unapplied_minor.
inline constexpr char kExceedsDeposit[] = "EXCEEDS_DEPOSIT";
// FAILED_PRECONDITION: a credit note above the invoice's total less earlier credits. Metadata:
// creditable_minor.
inline constexpr char kExceedsCreditable[] = "EXCEEDS_CREDITABLE";
// FAILED_PRECONDITION: un-applying more of a deposit than it applied to the invoice (less earlier
// un-applications) or than the invoice holds paid. Metadata: applied_minor.
inline constexpr char kExceedsApplied[] = "EXCEEDS_APPLIED";
// FAILED_PRECONDITION: spending or refunding more patient credit than the patient holds at the
// clinic. Metadata: credit_balance_minor.
inline constexpr char kExceedsCreditBalance[] = "EXCEEDS_CREDIT_BALANCE";

}  // namespace smp::billing::billing_reason

#endif  // SMP_SERVICES_BILLING_BILLING_REASONS_H_
