#include "services/billing/billing_rules.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/money/money.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_reasons.h"

namespace smp::billing {
namespace {

using common::v1::Money;

// An amount the suite cannot hold, caused by the request: INVALID_ARGUMENT naming the field.
absl::Status Overflow(absl::string_view field, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kOutOfRange) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", status.message()));
  }
  return status;
}

absl::StatusOr<Money> Add(absl::string_view field, const Money& a, const Money& b) {
  absl::StatusOr<Money> sum = AddMoney(a, b);
  if (!sum.ok()) return Overflow(field, sum.status());
  return sum;
}

absl::StatusOr<Money> Sub(absl::string_view field, const Money& a, const Money& b) {
  absl::StatusOr<Money> diff = SubtractMoney(a, b);
  if (!diff.ok()) return Overflow(field, diff.status());
  return diff;
}

absl::Status ValidateIn(absl::string_view field, absl::string_view currency, const Money& money) {
  RETURN_IF_ERROR(ValidateMoney(field, money));
  if (money.currency_code() != currency) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".currency_code: currency mismatch: \"",
                                                   money.currency_code().substr(0, 8),
                                                   "\" where the clinic bills in ", currency));
  }
  return absl::OkStatus();
}

absl::Status ValidateBasisPoints(absl::string_view field, int32_t bp) {
  if (bp < 0 || bp > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 0..10000 basis points (10000 = 100%)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFee(absl::string_view field, const v1::PriceList& list, const Money& fee) {
  return ValidateIn(absl::StrCat("price_list.", field), list.currency_code(), fee);
}

}  // namespace

absl::Status PriceLine(absl::string_view field, absl::string_view currency, v1::Line& line) {
  if (line.kind() == v1::CHARGE_KIND_UNSPECIFIED || !v1::ChargeKind_IsValid(line.kind())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".kind: is required"));
  }
  RETURN_IF_ERROR(
      ValidateRequiredText(absl::StrCat(field, ".description"), line.description(), 200));
  if (line.quantity() < 1 || line.quantity() > kMaxLineQuantity) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".quantity: must be 1..", kMaxLineQuantity));
  }
  RETURN_IF_ERROR(ValidateIn(absl::StrCat(field, ".unit_price"), currency, line.unit_price()));
  RETURN_IF_ERROR(ValidateBasisPoints(absl::StrCat(field, ".discount_bp"), line.discount_bp()));
  absl::StatusOr<Money> gross = MultiplyMoney(line.unit_price(), line.quantity());
  if (!gross.ok()) return Overflow(absl::StrCat(field, ".unit_price"), gross.status());
  ASSIGN_OR_RETURN(int64_t discount, ApplyBasisPoints(gross->amount_minor(), line.discount_bp()));
  *line.mutable_gross_amount() = *gross;
  *line.mutable_discount_amount() = MakeMoney(discount, currency);
  *line.mutable_net_amount() = MakeMoney(gross->amount_minor() - discount, currency);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TaxIncluded(int64_t gross_minor, int32_t tax_rate_bp) {
  RETURN_IF_ERROR(ValidateBasisPoints("tax_rate_bp", tax_rate_bp));
  const absl::int128 numerator = absl::int128(gross_minor) * tax_rate_bp;
  const absl::int128 denominator = 10000 + tax_rate_bp;
  const absl::int128 magnitude = numerator < 0 ? -numerator : numerator;
  // Half away from zero: floor((2 * |n| + d) / (2 * d)).
  absl::int128 rounded = (2 * magnitude + denominator) / (2 * denominator);
  if (numerator < 0) rounded = -rounded;
  return static_cast<int64_t>(rounded);  // |tax| <= |gross|
}

absl::StatusOr<v1::Totals> PriceLines(absl::string_view field, absl::string_view currency,
                                      int32_t tax_rate_bp, bool prices_include_tax,
                                      google::protobuf::RepeatedPtrField<v1::Line>& lines) {
  if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": at least one line"));
  if (lines.size() > kMaxLines) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kMaxLines, " lines"));
  }
  RETURN_IF_ERROR(ValidateBasisPoints("tax_rate_bp", tax_rate_bp));
  v1::Totals totals;
  Money gross = MakeMoney(0, currency);
  Money discount = MakeMoney(0, currency);
  Money net = MakeMoney(0, currency);
  for (int i = 0; i < lines.size(); ++i) {
    const std::string line_field = absl::StrCat(field, "[", i, "]");
    RETURN_IF_ERROR(PriceLine(line_field, currency, lines[i]));
    ASSIGN_OR_RETURN(gross, Add(line_field, gross, lines[i].gross_amount()));
    ASSIGN_OR_RETURN(discount, Add(line_field, discount, lines[i].discount_amount()));
    ASSIGN_OR_RETURN(net, Add(line_field, net, lines[i].net_amount()));
  }
  *totals.mutable_gross() = gross;
  *totals.mutable_discount() = discount;
  if (prices_include_tax) {
    // The discounted lines are what the patient pays; the tax is the part of it that is tax.
    ASSIGN_OR_RETURN(int64_t tax, TaxIncluded(net.amount_minor(), tax_rate_bp));
    *totals.mutable_total() = net;
    *totals.mutable_tax() = MakeMoney(tax, currency);
    *totals.mutable_net() = MakeMoney(net.amount_minor() - tax, currency);
    return totals;
  }
  absl::StatusOr<int64_t> tax = ApplyBasisPoints(net.amount_minor(), tax_rate_bp);
  if (!tax.ok()) return Overflow(field, tax.status());
  *totals.mutable_net() = net;
  *totals.mutable_tax() = MakeMoney(*tax, currency);
  ASSIGN_OR_RETURN(*totals.mutable_total(), Add(field, net, totals.tax()));
  return totals;
}

absl::StatusOr<absl::Time> ValidatePriceList(const v1::PriceList& list) {
  RETURN_IF_ERROR(ValidateId("price_list.clinic_id", list.clinic_id()));
  ASSIGN_OR_RETURN(absl::CivilDay day,
                   ParseLocalDate("price_list.effective_date", list.effective_date()));
  ASSIGN_OR_RETURN(absl::TimeZone zone, ValidateTimeZone("price_list.time_zone", list.time_zone()));
  RETURN_IF_ERROR(CurrencyMinorDigits("price_list.currency_code", list.currency_code()).status());
  RETURN_IF_ERROR(ValidateBasisPoints("price_list.tax_rate_bp", list.tax_rate_bp()));
  RETURN_IF_ERROR(ValidateFee("consultation_fee", list, list.consultation_fee()));
  RETURN_IF_ERROR(ValidateFee("session_prices.hairline", list, list.session_prices().hairline()));
  RETURN_IF_ERROR(ValidateFee("session_prices.crown", list, list.session_prices().crown()));
  RETURN_IF_ERROR(
      ValidateFee("session_prices.full_scalp", list, list.session_prices().full_scalp()));
  RETURN_IF_ERROR(
      ValidateFee("session_prices.scar_camouflage", list, list.session_prices().scar_camouflage()));
  RETURN_IF_ERROR(ValidateFee("sample_patch_fee", list, list.sample_patch_fee()));
  RETURN_IF_ERROR(ValidateFee("touch_up_fee", list, list.touch_up_fee()));
  RETURN_IF_ERROR(ValidateFee("late_cancellation_fee", list, list.late_cancellation_fee()));
  RETURN_IF_ERROR(ValidateFee("no_show_fee", list, list.no_show_fee()));
  return zone.At(absl::CivilSecond(day)).trans;
}

absl::StatusOr<Money> SessionPrice(absl::string_view field, const v1::PriceList& list,
                                   v1::TreatmentArea area) {
  switch (area) {
    case v1::TREATMENT_AREA_HAIRLINE:
      return list.session_prices().hairline();
    case v1::TREATMENT_AREA_CROWN:
      return list.session_prices().crown();
    case v1::TREATMENT_AREA_FULL_SCALP:
      return list.session_prices().full_scalp();
    case v1::TREATMENT_AREA_SCAR_CAMOUFLAGE:
      return list.session_prices().scar_camouflage();
    default:
      return absl::InvalidArgumentError(absl::StrCat(field, ": a treatment area is required"));
  }
}

absl::Status CheckCurrentEtag(absl::string_view kind, absl::string_view id,
                              absl::string_view current, absl::string_view given) {
  if (current == given) return absl::OkStatus();
  return StaleEtagError(kind, id, given, current);
}

absl::TimeZone ClinicZone(const v1::PriceList& list) {
  absl::TimeZone zone;
  absl::LoadTimeZone(list.time_zone(), &zone);  // validated when the list was saved
  return zone;
}

common::v1::LocalDate LocalDateAt(const v1::PriceList& list, absl::Time t) {
  return ToLocalDate(absl::ToCivilDay(t, ClinicZone(list)));
}

absl::Status CheckSameCurrency(const v1::PriceList& current, const v1::PriceList& next) {
  if (current.currency_code() == next.currency_code()) return absl::OkStatus();
  return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                           "clinic ", next.clinic_id(), " bills in ", current.currency_code(),
                           "; a clinic's currency cannot change")),
                       billing_reason::kCurrencyFixed,
                       {{"currency_code", current.currency_code()}});
}

absl::Status PriceQuote(const v1::PriceList& list, const common::v1::LocalDate& today,
                        v1::Quote& quote) {
  RETURN_IF_ERROR(ValidateId("quote.clinic_id", quote.clinic_id()));
  RETURN_IF_ERROR(ValidateId("quote.patient_id", quote.patient_id()));
  RETURN_IF_ERROR(ValidateOptionalId("quote.plan_id", quote.plan_id()));
  if (quote.sessions() < kMinQuoteSessions || quote.sessions() > kMaxQuoteSessions) {
    return absl::InvalidArgumentError(
        absl::StrCat("quote.sessions: must be ", kMinQuoteSessions, "..", kMaxQuoteSessions));
  }
  RETURN_IF_ERROR(ValidateBasisPoints("quote.discount_bp", quote.discount_bp()));
  ASSIGN_OR_RETURN(absl::CivilDay until, ParseLocalDate("quote.valid_until", quote.valid_until()));
  if (until < FromLocalDate(today)) {
    return absl::InvalidArgumentError("quote.valid_until: is in the past");
  }
  ASSIGN_OR_RETURN(Money price, SessionPrice("quote.area", list, quote.area()));
  quote.clear_lines();
  v1::Line& line = *quote.add_lines();
  line.set_kind(v1::CHARGE_KIND_TREATMENT_SESSION);
  line.set_description(
      absl::StrCat("Treatment session (", v1::TreatmentArea_Name(quote.area()), ")"));
  line.set_quantity(quote.sessions());
  *line.mutable_unit_price() = price;
  line.set_discount_bp(quote.discount_bp());
  quote.set_price_list_id(list.id());
  quote.set_currency_code(list.currency_code());
  quote.set_tax_rate_bp(list.tax_rate_bp());
  quote.set_prices_include_tax(list.prices_include_tax());
  ASSIGN_OR_RETURN(*quote.mutable_totals(),
                   PriceLines("quote.lines", list.currency_code(), list.tax_rate_bp(),
                              list.prices_include_tax(), *quote.mutable_lines()));
  *quote.mutable_late_cancellation_fee() = list.late_cancellation_fee();
  *quote.mutable_no_show_fee() = list.no_show_fee();
  quote.set_status(v1::QUOTE_OPEN);
  return absl::OkStatus();
}

bool QuoteExpired(const v1::Quote& quote, const common::v1::LocalDate& today) {
  return FromLocalDate(today) > FromLocalDate(quote.valid_until());
}

absl::Status AcceptOpenQuote(v1::Quote& quote, const common::v1::LocalDate& today, absl::Time now) {
  if (quote.status() != v1::QUOTE_OPEN) {
    const std::string status = v1::QuoteStatus_Name(quote.status());
    return WithErrorInfo(absl::FailedPreconditionError(
                             absl::StrCat("quote ", quote.id(), " is ", status, ", not open")),
                         billing_reason::kQuoteNotOpen, {{"status", status}});
  }
  if (QuoteExpired(quote, today)) {
    return WithErrorInfo(absl::FailedPreconditionError(
                             absl::StrCat("quote ", quote.id(), " expired after its valid_until")),
                         billing_reason::kQuoteExpired,
                         {{"valid_until", DayText(FromLocalDate(quote.valid_until()))}});
  }
  quote.set_status(v1::QUOTE_ACCEPTED);
  *quote.mutable_accept_time() = ToProtoTimestamp(now);
  return absl::OkStatus();
}

absl::Status CheckDraft(const v1::Invoice& invoice, bool edit) {
  if (invoice.status() == v1::INVOICE_DRAFT) return absl::OkStatus();
  const std::string status = v1::InvoiceStatus_Name(invoice.status());
  return WithErrorInfo(
      absl::FailedPreconditionError(absl::StrCat(
          "invoice ", invoice.id(), " is ", status,
          edit ? ": an issued invoice is never edited; credit it instead" : ", not a draft")),
      billing_reason::kInvoiceNotDraft, {{"status", status}});
}

absl::Status VoidUntouchedInvoice(v1::Invoice& invoice, absl::string_view reason, absl::Time now) {
  const bool untouched =
      invoice.amount_paid().amount_minor() == 0 && invoice.amount_credited().amount_minor() == 0;
  if ((invoice.status() != v1::INVOICE_DRAFT && invoice.status() != v1::INVOICE_ISSUED) ||
      !untouched) {
    const std::string status = v1::InvoiceStatus_Name(invoice.status());
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             "invoice ", invoice.id(), " is ", status,
                             " with payments or credits: refund or credit it instead of voiding")),
                         billing_reason::kInvoiceNotVoidable, {{"status", status}});
  }
  invoice.set_status(v1::INVOICE_VOID);
  invoice.set_void_reason(std::string(reason));
  *invoice.mutable_void_time() = ToProtoTimestamp(now);
  *invoice.mutable_amount_due() = MakeMoney(0, invoice.currency_code());
  return absl::OkStatus();
}

absl::Status SettleInvoice(v1::Invoice& invoice) {
  const std::string& currency = invoice.currency_code();
  if (!invoice.has_amount_paid()) *invoice.mutable_amount_paid() = MakeMoney(0, currency);
  if (!invoice.has_amount_credited()) *invoice.mutable_amount_credited() = MakeMoney(0, currency);
  ASSIGN_OR_RETURN(Money settled, Add("invoice", invoice.amount_paid(), invoice.amount_credited()));
  ASSIGN_OR_RETURN(*invoice.mutable_amount_due(),
                   Sub("invoice", invoice.totals().total(), settled));
  switch (invoice.status()) {
    case v1::INVOICE_ISSUED:
    case v1::INVOICE_PARTIALLY_PAID:
    case v1::INVOICE_PAID:
      if (invoice.amount_due().amount_minor() <= 0) {
        invoice.set_status(v1::INVOICE_PAID);
      } else if (settled.amount_minor() > 0) {
        invoice.set_status(v1::INVOICE_PARTIALLY_PAID);
      } else {
        invoice.set_status(v1::INVOICE_ISSUED);
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status ValidatePositiveAmount(absl::string_view field, absl::string_view currency,
                                    const Money& amount) {
  RETURN_IF_ERROR(ValidateIn(field, currency, amount));
  if (amount.amount_minor() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".amount_minor: must be positive"));
  }
  return absl::OkStatus();
}

absl::Status CheckPayable(const v1::Invoice& invoice, const Money& amount, absl::string_view what) {
  switch (invoice.status()) {
    case v1::INVOICE_ISSUED:
    case v1::INVOICE_PARTIALLY_PAID:
      break;
    default: {
      const std::string status = v1::InvoiceStatus_Name(invoice.status());
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat("cannot apply a ", what, " to invoice ",
                                                     invoice.id(), ": it is ", status)),
          billing_reason::kInvoiceNotPayable, {{"status", status}});
    }
  }
  if (amount.amount_minor() > invoice.amount_due().amount_minor()) {
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             what, " of ", FormatMoney(amount), " exceeds the ",
                             FormatMoney(invoice.amount_due()), " due on invoice ", invoice.id())),
                         billing_reason::kExceedsAmountDue,
                         {{"amount_due_minor", absl::StrCat(invoice.amount_due().amount_minor())}});
  }
  return absl::OkStatus();
}

absl::Status ApplyToInvoice(v1::Invoice& invoice, const Money& amount, bool credit) {
  Money* target = credit ? invoice.mutable_amount_credited() : invoice.mutable_amount_paid();
  ASSIGN_OR_RETURN(*target, Add("amount", *target, amount));
  return SettleInvoice(invoice);
}

absl::Status RefundFromInvoice(v1::Invoice& invoice, const Money& amount) {
  if (amount.amount_minor() > invoice.amount_paid().amount_minor()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "refund of ", FormatMoney(amount), " exceeds the ", FormatMoney(invoice.amount_paid()),
            " invoice ", invoice.id(),
            " still holds paid; a credit note moved the rest to the patient's credit balance "
            "(RefundPatientCredit pays that back)")),
        billing_reason::kExceedsRefundable,
        {{"refundable_minor", absl::StrCat(invoice.amount_paid().amount_minor())}});
  }
  ASSIGN_OR_RETURN(*invoice.mutable_amount_paid(), Sub("amount", invoice.amount_paid(), amount));
  return SettleInvoice(invoice);
}

namespace {

// FAILED_PRECONDITION (INVOICE_NOT_PAYABLE) unless the invoice is issued and not void.
absl::Status CheckIssued(const v1::Invoice& invoice, absl::string_view what) {
  switch (invoice.status()) {
    case v1::INVOICE_ISSUED:
    case v1::INVOICE_PARTIALLY_PAID:
    case v1::INVOICE_PAID:
      return absl::OkStatus();
    default: {
      const std::string status = v1::InvoiceStatus_Name(invoice.status());
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat("cannot apply a ", what, " to invoice ",
                                                     invoice.id(), ": it is ", status)),
          billing_reason::kInvoiceNotPayable, {{"status", status}});
    }
  }
}

}  // namespace

absl::StatusOr<Money> CreditInvoice(v1::Invoice& invoice, const Money& amount) {
  RETURN_IF_ERROR(CheckIssued(invoice, "credit note"));
  RETURN_IF_ERROR(SettleInvoice(invoice));  // fills absent amounts
  ASSIGN_OR_RETURN(Money creditable,
                   Sub("amount", invoice.totals().total(), invoice.amount_credited()));
  if (amount.amount_minor() > creditable.amount_minor()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "credit note of ", FormatMoney(amount), " exceeds the ", FormatMoney(creditable),
            " of invoice ", invoice.id(), " not yet credited")),
        billing_reason::kExceedsCreditable,
        {{"creditable_minor", absl::StrCat(creditable.amount_minor())}});
  }
  const int64_t due = std::max<int64_t>(invoice.amount_due().amount_minor(), 0);
  const Money to_balance = MakeMoney(amount.amount_minor() - std::min(amount.amount_minor(), due),
                                     amount.currency_code());
  ASSIGN_OR_RETURN(*invoice.mutable_amount_credited(),
                   Add("amount", invoice.amount_credited(), amount));
  // amount <= total - credited = paid + due, so what goes to the balance was paid.
  ASSIGN_OR_RETURN(*invoice.mutable_amount_paid(),
                   Sub("amount", invoice.amount_paid(), to_balance));
  if (!invoice.has_credited_to_balance()) {
    *invoice.mutable_credited_to_balance() = MakeMoney(0, invoice.currency_code());
  }
  ASSIGN_OR_RETURN(*invoice.mutable_credited_to_balance(),
                   Add("amount", invoice.credited_to_balance(), to_balance));
  RETURN_IF_ERROR(SettleInvoice(invoice));
  return to_balance;
}

absl::Status UnapplyDepositFrom(v1::Payment& deposit, v1::Invoice& invoice, int64_t applied_minor,
                                const Money& amount) {
  if (!deposit.invoice_id().empty()) {
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             "payment ", deposit.id(), " paid an invoice; it is no deposit")),
                         billing_reason::kNotADeposit, {{"payment_id", deposit.id()}});
  }
  RETURN_IF_ERROR(CheckIssued(invoice, "deposit un-application"));
  const int64_t limit = std::min(applied_minor, invoice.amount_paid().amount_minor());
  if (amount.amount_minor() > limit) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "deposit ", deposit.id(), " has ",
            FormatMoney(MakeMoney(limit, amount.currency_code())), " applied to invoice ",
            invoice.id(), " that can be taken back; cannot un-apply ", FormatMoney(amount))),
        billing_reason::kExceedsApplied, {{"applied_minor", absl::StrCat(limit)}});
  }
  ASSIGN_OR_RETURN(*invoice.mutable_amount_paid(), Sub("amount", invoice.amount_paid(), amount));
  RETURN_IF_ERROR(SettleInvoice(invoice));
  ASSIGN_OR_RETURN(*deposit.mutable_amount_applied(),
                   Sub("amount", deposit.amount_applied(), amount));
  return absl::OkStatus();
}

absl::Status CheckCreditBalance(const Money& balance, const Money& amount) {
  if (amount.amount_minor() <= balance.amount_minor()) return absl::OkStatus();
  return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                           "the patient holds ", FormatMoney(balance),
                           " of credit at the clinic; cannot use ", FormatMoney(amount))),
                       billing_reason::kExceedsCreditBalance,
                       {{"credit_balance_minor", absl::StrCat(balance.amount_minor())}});
}

absl::StatusOr<Money> Refundable(const v1::Payment& payment) {
  const std::string& currency = payment.amount().currency_code();
  Money refunded =
      payment.has_amount_refunded() ? payment.amount_refunded() : MakeMoney(0, currency);
  Money applied = payment.has_amount_applied() ? payment.amount_applied() : MakeMoney(0, currency);
  ASSIGN_OR_RETURN(Money used, Add("payment", refunded, applied));
  return Sub("payment", payment.amount(), used);
}

absl::Status CheckRefund(const v1::Payment& payment, const Money& amount) {
  ASSIGN_OR_RETURN(Money refundable, Refundable(payment));
  if (amount.amount_minor() > refundable.amount_minor()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "refund of ", FormatMoney(amount), " exceeds the ", FormatMoney(refundable),
            " refundable on payment ", payment.id(), " (captured ", FormatMoney(payment.amount()),
            ", already refunded or applied the rest)")),
        billing_reason::kExceedsRefundable,
        {{"refundable_minor", absl::StrCat(refundable.amount_minor())}});
  }
  return absl::OkStatus();
}

absl::Status CheckDepositApplication(const v1::Payment& deposit, const v1::Invoice& invoice,
                                     const Money& amount) {
  if (!deposit.invoice_id().empty()) {
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             "payment ", deposit.id(), " paid an invoice; it is no deposit")),
                         billing_reason::kNotADeposit, {{"payment_id", deposit.id()}});
  }
  if (invoice.clinic_id() != deposit.clinic_id() || invoice.patient_id() != deposit.patient_id() ||
      invoice.plan_id() != deposit.plan_id()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat("invoice ", invoice.id(), " is not of the plan ",
                                                   deposit.plan_id(), " the deposit is held for")),
        billing_reason::kDepositPlanMismatch, {{"plan_id", deposit.plan_id()}});
  }
  ASSIGN_OR_RETURN(Money left, Refundable(deposit));
  if (amount.amount_minor() > left.amount_minor()) {
    return WithErrorInfo(absl::FailedPreconditionError(
                             absl::StrCat("deposit ", deposit.id(), " has only ", FormatMoney(left),
                                          " unapplied; cannot apply ", FormatMoney(amount))),
                         billing_reason::kExceedsDeposit,
                         {{"unapplied_minor", absl::StrCat(left.amount_minor())}});
  }
  return absl::OkStatus();
}

absl::Status ValidatePaymentMethod(const v1::Payment& payment) {
  switch (payment.method_case()) {
    case v1::Payment::kCard: {
      const std::string& last4 = payment.card().last4();
      if (last4.size() != 4 || !absl::c_all_of(last4, absl::ascii_isdigit)) {
        return absl::InvalidArgumentError("payment.card.last4: must be 4 digits");
      }
      return ValidateRequiredText("payment.card.authorization_reference",
                                  payment.card().authorization_reference(), 100);
    }
    case v1::Payment::kCash:
      return absl::OkStatus();
    case v1::Payment::kFinancing:
      RETURN_IF_ERROR(
          ValidateRequiredText("payment.financing.provider", payment.financing().provider(), 100));
      return ValidateRequiredText("payment.financing.reference", payment.financing().reference(),
                                  100);
    default:
      return absl::InvalidArgumentError("payment.method: one of card, cash, financing is required");
  }
}

absl::StatusOr<v1::Line> ChargeLine(const v1::RecordChargeEventRequest& event,
                                    const v1::PriceList& list, const v1::Quote* quote) {
  v1::Line line;
  line.set_quantity(1);
  switch (event.type()) {
    case v1::CHARGE_EVENT_LATE_CANCELLATION:
      line.set_kind(v1::CHARGE_KIND_LATE_CANCELLATION);
      line.set_description("Late cancellation fee");
      *line.mutable_unit_price() =
          quote != nullptr ? quote->late_cancellation_fee() : list.late_cancellation_fee();
      return line;
    case v1::CHARGE_EVENT_NO_SHOW:
      line.set_kind(v1::CHARGE_KIND_NO_SHOW);
      line.set_description("No-show fee");
      *line.mutable_unit_price() = quote != nullptr ? quote->no_show_fee() : list.no_show_fee();
      return line;
    case v1::CHARGE_EVENT_SESSION_COMPLETED:
      break;
    default:
      return absl::InvalidArgumentError("type: is required");
  }
  line.set_kind(event.completed_kind());
  switch (event.completed_kind()) {
    case v1::CHARGE_KIND_CONSULTATION:
      line.set_description("Consultation");
      *line.mutable_unit_price() = list.consultation_fee();
      return line;
    case v1::CHARGE_KIND_SAMPLE_PATCH:
      line.set_description("Sample patch");
      *line.mutable_unit_price() = list.sample_patch_fee();
      return line;
    case v1::CHARGE_KIND_TOUCH_UP:
      line.set_description("Touch-up session");
      *line.mutable_unit_price() = list.touch_up_fee();
      return line;
    case v1::CHARGE_KIND_TREATMENT_SESSION:
      if (quote != nullptr) {
        // The accepted quote binds: its per-session price and discount.
        line.set_description(quote->lines(0).description());
        *line.mutable_unit_price() = quote->lines(0).unit_price();
        line.set_discount_bp(quote->lines(0).discount_bp());
        return line;
      } else {
        ASSIGN_OR_RETURN(*line.mutable_unit_price(), SessionPrice("area", list, event.area()));
        line.set_description(
            absl::StrCat("Treatment session (", v1::TreatmentArea_Name(event.area()), ")"));
        return line;
      }
    default:
      return absl::InvalidArgumentError(
          "completed_kind: a consultation, treatment session, sample patch or touch-up");
  }
}

int AgingBucket(absl::Time issued, absl::Time as_of) {
  const int64_t days = absl::ToInt64Hours(as_of - issued) / 24;
  if (days <= 30) return 0;
  if (days <= 60) return 1;
  if (days <= 90) return 2;
  return 3;
}

}  // namespace smp::billing
