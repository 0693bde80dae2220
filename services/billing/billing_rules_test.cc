#include "services/billing/billing_rules.h"

#include "common/money/money.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/billing/billing_reasons.h"

namespace smp::billing {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kClinic[] = "01JD00000000000000000000C1";
constexpr char kPatient[] = "01JD00000000000000000000P1";

v1::Line MakeLine(int64_t unit_minor, int64_t qty, int32_t discount_bp = 0,
                  const char* currency = "USD") {
  v1::Line line;
  line.set_kind(v1::CHARGE_KIND_OTHER);
  line.set_description("item");
  line.set_quantity(qty);
  *line.mutable_unit_price() = MakeMoney(unit_minor, currency);
  line.set_discount_bp(discount_bp);
  return line;
}

common::v1::LocalDate Date(int y, int m, int d) { return ToLocalDate(absl::CivilDay(y, m, d)); }

v1::PriceList MakeList() {
  v1::PriceList list;
  list.set_id("01JD0000000000000000000PL1");
  list.set_clinic_id(kClinic);
  *list.mutable_effective_date() = Date(2026, 3, 8);
  list.set_time_zone("America/Chicago");
  list.set_currency_code("USD");
  list.set_tax_rate_bp(825);
  *list.mutable_consultation_fee() = MakeMoney(15000, "USD");
  *list.mutable_session_prices()->mutable_hairline() = MakeMoney(120000, "USD");
  *list.mutable_session_prices()->mutable_crown() = MakeMoney(110000, "USD");
  *list.mutable_session_prices()->mutable_full_scalp() = MakeMoney(175000, "USD");
  *list.mutable_session_prices()->mutable_scar_camouflage() = MakeMoney(90000, "USD");
  *list.mutable_sample_patch_fee() = MakeMoney(5000, "USD");
  *list.mutable_touch_up_fee() = MakeMoney(40000, "USD");
  *list.mutable_late_cancellation_fee() = MakeMoney(10000, "USD");
  *list.mutable_no_show_fee() = MakeMoney(15000, "USD");
  return list;
}

TEST(PriceLinesTest, DiscountRoundsHalfAwayFromZeroPerLine) {
  v1::Line line = MakeLine(333, 3, 1250);  // gross 999; 12.5% = 124.875 -> 125
  ASSERT_OK(PriceLine("line", "USD", line));
  EXPECT_EQ(line.gross_amount().amount_minor(), 999);
  EXPECT_EQ(line.discount_amount().amount_minor(), 125);
  EXPECT_EQ(line.net_amount().amount_minor(), 874);

  v1::Line half = MakeLine(1, 1, 5000);  // 0.5 -> 1
  ASSERT_OK(PriceLine("line", "USD", half));
  EXPECT_EQ(half.discount_amount().amount_minor(), 1);
  EXPECT_EQ(half.net_amount().amount_minor(), 0);
}

TEST(PriceLinesTest, TaxIsRoundedOnceOnTheInvoiceNet) {
  // Three lines of 0.10 at 5%: per-line tax would be 3 x round(0.5) = 3 cents; on the total
  // (30 cents) it is round(1.5) = 2 cents. The invoice uses the total.
  google::protobuf::RepeatedPtrField<v1::Line> lines;
  for (int i = 0; i < 3; ++i) *lines.Add() = MakeLine(10, 1);
  ASSERT_OK_AND_ASSIGN(v1::Totals totals,
                       PriceLines("lines", "USD", 500, /*prices_include_tax=*/false, lines));
  EXPECT_EQ(totals.net().amount_minor(), 30);
  EXPECT_EQ(totals.tax().amount_minor(), 2);
  EXPECT_EQ(totals.total().amount_minor(), 32);

  // 8.25% of 4,350.00 = 358.875 -> 358.88.
  google::protobuf::RepeatedPtrField<v1::Line> course;
  *course.Add() = MakeLine(435000, 1);
  ASSERT_OK_AND_ASSIGN(v1::Totals t2,
                       PriceLines("lines", "USD", 825, /*prices_include_tax=*/false, course));
  EXPECT_EQ(t2.tax().amount_minor(), 35888);
  EXPECT_EQ(t2.total().amount_minor(), 470888);
  EXPECT_EQ(FormatMoney(t2.total()), "USD 4708.88");
}

TEST(PriceLinesTest, ZeroDigitCurrencyRoundsToWholeUnits) {
  google::protobuf::RepeatedPtrField<v1::Line> lines;
  *lines.Add() = MakeLine(999, 1, 0, "JPY");
  ASSERT_OK_AND_ASSIGN(v1::Totals totals,
                       PriceLines("lines", "JPY", 1000, /*prices_include_tax=*/false, lines));
  EXPECT_EQ(totals.tax().amount_minor(), 100);  // 99.9 -> 100
}

TEST(PriceLinesTest, RefusesBadMoney) {
  v1::Line negative = MakeLine(-1, 1);
  EXPECT_THAT(PriceLine("invoice.lines[0]", "USD", negative),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must not be negative")));
  v1::Line other = MakeLine(100, 1, 0, "EUR");
  EXPECT_THAT(PriceLine("invoice.lines[0]", "USD", other),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("currency mismatch")));
  v1::Line unknown = MakeLine(100, 1, 0, "XYZ");
  EXPECT_THAT(PriceLine("invoice.lines[0]", "USD", unknown),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ISO-4217")));
  v1::Line huge = MakeLine(kMaxAmountMinor, 2);
  EXPECT_THAT(PriceLine("invoice.lines[0]", "USD", huge),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.lines[0]")));
  v1::Line too_big = MakeLine(kMaxAmountMinor + 1, 1);
  EXPECT_THAT(PriceLine("invoice.lines[0]", "USD", too_big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("beyond")));
  v1::Line bad_discount = MakeLine(100, 1, 10001);
  EXPECT_THAT(PriceLine("l", "USD", bad_discount),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("l.discount_bp")));
  v1::Line zero_qty = MakeLine(100, 0);
  EXPECT_THAT(PriceLine("l", "USD", zero_qty),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("l.quantity")));
}

TEST(PriceLinesTest, SumOfLinesBeyondTheLimitIsRefused) {
  google::protobuf::RepeatedPtrField<v1::Line> lines;
  *lines.Add() = MakeLine(kMaxAmountMinor, 1);
  *lines.Add() = MakeLine(1, 1);
  EXPECT_THAT(PriceLines("invoice.lines", "USD", 0, /*prices_include_tax=*/false, lines),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.lines[1]")));
  google::protobuf::RepeatedPtrField<v1::Line> taxed;
  *taxed.Add() = MakeLine(kMaxAmountMinor, 1);
  EXPECT_THAT(PriceLines("invoice.lines", "USD", 100, /*prices_include_tax=*/false, taxed),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.lines")));
}

TEST(PriceListTest, EffectiveTimeIsClinicLocalMidnight) {
  v1::PriceList list = MakeList();
  ASSERT_OK_AND_ASSIGN(absl::Time t, ValidatePriceList(list));
  // 2026-03-08 00:00 CST (UTC-6), the day US DST starts at 02:00.
  EXPECT_EQ(t, absl::FromUnixSeconds(1772949600));

  v1::PriceList bad = MakeList();
  *bad.mutable_no_show_fee() = MakeMoney(100, "EUR");
  EXPECT_THAT(ValidatePriceList(bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price_list.no_show_fee")));
  bad = MakeList();
  bad.set_tax_rate_bp(-1);
  EXPECT_THAT(ValidatePriceList(bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tax_rate_bp")));
  bad = MakeList();
  bad.mutable_effective_date()->set_day(30);  // 2026-02-30
  bad.mutable_effective_date()->set_month(2);
  EXPECT_THAT(ValidatePriceList(bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("effective_date")));
}

TEST(QuoteTest, PricesSessionsWithDiscountAndTaxAndSnapshotsFees) {
  v1::Quote quote;
  quote.set_clinic_id(kClinic);
  quote.set_patient_id(kPatient);
  quote.set_area(v1::TREATMENT_AREA_HAIRLINE);
  quote.set_sessions(3);
  quote.set_discount_bp(1000);
  *quote.mutable_valid_until() = Date(2026, 4, 1);
  ASSERT_OK(PriceQuote(MakeList(), Date(2026, 3, 10), quote));
  EXPECT_EQ(quote.totals().gross().amount_minor(), 360000);
  EXPECT_EQ(quote.totals().discount().amount_minor(), 36000);
  EXPECT_EQ(quote.totals().net().amount_minor(), 324000);
  EXPECT_EQ(quote.totals().tax().amount_minor(), 26730);  // 8.25% of 3240.00
  EXPECT_EQ(quote.late_cancellation_fee().amount_minor(), 10000);
  EXPECT_EQ(quote.no_show_fee().amount_minor(), 15000);
  EXPECT_EQ(quote.status(), v1::QUOTE_OPEN);
  EXPECT_FALSE(QuoteExpired(quote, Date(2026, 4, 1)));
  EXPECT_TRUE(QuoteExpired(quote, Date(2026, 4, 2)));

  quote.set_sessions(5);
  EXPECT_THAT(PriceQuote(MakeList(), Date(2026, 3, 10), quote),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quote.sessions")));
  quote.set_sessions(2);
  *quote.mutable_valid_until() = Date(2026, 3, 9);
  EXPECT_THAT(PriceQuote(MakeList(), Date(2026, 3, 10), quote),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("valid_until")));
}

v1::Invoice IssuedInvoice(int64_t total_minor) {
  v1::Invoice inv;
  inv.set_id("01JD0000000000000000000IN1");
  inv.set_currency_code("USD");
  inv.set_status(v1::INVOICE_ISSUED);
  *inv.mutable_totals()->mutable_total() = MakeMoney(total_minor, "USD");
  EXPECT_OK(SettleInvoice(inv));
  return inv;
}

TEST(InvoiceTest, PartPaymentsMoveTheStatusAndOverpaymentIsRefused) {
  v1::Invoice inv = IssuedInvoice(10000);
  EXPECT_EQ(inv.amount_due().amount_minor(), 10000);
  ASSERT_OK(CheckPayable(inv, MakeMoney(4000, "USD"), "payment"));
  ASSERT_OK(ApplyToInvoice(inv, MakeMoney(4000, "USD"), false));
  EXPECT_EQ(inv.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(inv.amount_due().amount_minor(), 6000);
  EXPECT_THAT(CheckPayable(inv, MakeMoney(6001, "USD"), "payment"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("exceeds")));
  ASSERT_OK(ApplyToInvoice(inv, MakeMoney(1000, "USD"), true));  // a credit note
  ASSERT_OK(ApplyToInvoice(inv, MakeMoney(5000, "USD"), false));
  EXPECT_EQ(inv.status(), v1::INVOICE_PAID);
  EXPECT_EQ(inv.amount_due().amount_minor(), 0);
  EXPECT_THAT(CheckPayable(inv, MakeMoney(1, "USD"), "payment"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("INVOICE_PAID")));
  ASSERT_OK(RefundFromInvoice(inv, MakeMoney(2000, "USD")));
  EXPECT_EQ(inv.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(inv.amount_due().amount_minor(), 2000);

  v1::Invoice draft = IssuedInvoice(100);
  draft.set_status(v1::INVOICE_DRAFT);
  EXPECT_THAT(CheckPayable(draft, MakeMoney(1, "USD"), "payment"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("INVOICE_DRAFT")));
}

TEST(RefundTest, NeverMoreThanCapturedLessRefundedAndApplied) {
  v1::Payment p;
  p.set_id("01JD0000000000000000000PA1");
  *p.mutable_amount() = MakeMoney(5000, "USD");
  ASSERT_OK(CheckRefund(p, MakeMoney(5000, "USD")));
  EXPECT_THAT(CheckRefund(p, MakeMoney(5001, "USD")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("exceeds")));
  *p.mutable_amount_refunded() = MakeMoney(3000, "USD");
  *p.mutable_amount_applied() = MakeMoney(1000, "USD");
  ASSERT_OK_AND_ASSIGN(common::v1::Money left, Refundable(p));
  EXPECT_EQ(left.amount_minor(), 1000);
  EXPECT_THAT(CheckRefund(p, MakeMoney(1001, "USD")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(InvoiceTest, OnlyDraftsAreEditedAndOnlyUntouchedInvoicesVoided) {
  const absl::Time now = absl::FromUnixSeconds(1767261600);
  v1::Invoice draft = IssuedInvoice(100);
  draft.set_status(v1::INVOICE_DRAFT);
  ASSERT_OK(CheckDraft(draft, /*edit=*/true));
  v1::Invoice inv = IssuedInvoice(10000);
  const absl::Status edit = CheckDraft(inv, /*edit=*/true);
  EXPECT_THAT(edit, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("never edited")));
  EXPECT_EQ(ErrorReason(edit), billing_reason::kInvoiceNotDraft);
  EXPECT_EQ(ErrorMetadata(edit, "status"), "INVOICE_ISSUED");
  EXPECT_THAT(CheckDraft(inv, /*edit=*/false),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a draft")));

  v1::Invoice paid = inv;
  ASSERT_OK(ApplyToInvoice(paid, MakeMoney(1, "USD"), /*credit=*/true));
  const absl::Status refused = VoidUntouchedInvoice(paid, "typo", now);
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refund or credit")));
  EXPECT_EQ(ErrorReason(refused), billing_reason::kInvoiceNotVoidable);
  EXPECT_EQ(paid.status(), v1::INVOICE_PARTIALLY_PAID);
  ASSERT_OK(VoidUntouchedInvoice(inv, "typo", now));
  EXPECT_EQ(inv.status(), v1::INVOICE_VOID);
  EXPECT_EQ(inv.amount_due().amount_minor(), 0);
  EXPECT_EQ(inv.void_reason(), "typo");
  EXPECT_EQ(ErrorReason(VoidUntouchedInvoice(inv, "again", now)),
            billing_reason::kInvoiceNotVoidable);
}

TEST(QuoteTest, AcceptedOnceAndUntilValidUntil) {
  const absl::Time now = absl::FromUnixSeconds(1767261600);
  v1::Quote quote;
  quote.set_id("01JD0000000000000000000QA1");
  quote.set_status(v1::QUOTE_OPEN);
  *quote.mutable_valid_until() = Date(2026, 3, 9);
  EXPECT_EQ(ErrorReason(AcceptOpenQuote(quote, Date(2026, 3, 10), now)),
            billing_reason::kQuoteExpired);
  EXPECT_EQ(quote.status(), v1::QUOTE_OPEN);
  ASSERT_OK(AcceptOpenQuote(quote, Date(2026, 3, 9), now));
  EXPECT_EQ(quote.status(), v1::QUOTE_ACCEPTED);
  EXPECT_EQ(quote.accept_time().seconds(), 1767261600);
  const absl::Status again = AcceptOpenQuote(quote, Date(2026, 3, 9), now);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not open")));
  EXPECT_EQ(ErrorReason(again), billing_reason::kQuoteNotOpen);
}

TEST(DepositTest, AppliedOnlyToItsPlansInvoicesAndOnlyWhatItHolds) {
  v1::Payment deposit;
  deposit.set_id("01JD0000000000000000000PA1");
  deposit.set_clinic_id(kClinic);
  deposit.set_patient_id(kPatient);
  deposit.set_plan_id("01JD0000000000000000000TP1");
  *deposit.mutable_amount() = MakeMoney(5000, "USD");
  *deposit.mutable_amount_applied() = MakeMoney(1000, "USD");
  v1::Invoice inv = IssuedInvoice(10000);
  inv.set_clinic_id(kClinic);
  inv.set_patient_id(kPatient);
  inv.set_plan_id(deposit.plan_id());
  ASSERT_OK(CheckDepositApplication(deposit, inv, MakeMoney(4000, "USD")));
  EXPECT_EQ(ErrorReason(CheckDepositApplication(deposit, inv, MakeMoney(4001, "USD"))),
            billing_reason::kExceedsDeposit);
  v1::Invoice other = inv;
  other.set_plan_id("01JD0000000000000000000TP2");
  EXPECT_EQ(ErrorReason(CheckDepositApplication(deposit, other, MakeMoney(1, "USD"))),
            billing_reason::kDepositPlanMismatch);
  v1::Payment payment = deposit;
  payment.set_invoice_id(inv.id());
  EXPECT_EQ(ErrorReason(CheckDepositApplication(payment, inv, MakeMoney(1, "USD"))),
            billing_reason::kNotADeposit);
}

TEST(TaxInclusiveTest, LondonVatAndSydneyGstAreTakenOutOfGrossPrices) {
  // gross x rate / (1 + rate): GBP 120.00 at 20% holds 20.00; GBP 99.99 holds 16.665 -> 16.67.
  EXPECT_THAT(TaxIncluded(12000, 2000), ::smp::testing::IsOkAndHolds(2000));
  EXPECT_THAT(TaxIncluded(9999, 2000), ::smp::testing::IsOkAndHolds(1667));
  // AUD 4,350.00 at 10% holds 395.4545 -> 395.45; AUD 0.55 holds exactly 0.05.
  EXPECT_THAT(TaxIncluded(435000, 1000), ::smp::testing::IsOkAndHolds(39545));
  EXPECT_THAT(TaxIncluded(55, 1000), ::smp::testing::IsOkAndHolds(5));
  // A half is rounded away from zero: 0.33 at 10% holds 0.03 exactly; 0.11 x 10/11 = 0.01.
  EXPECT_THAT(TaxIncluded(11, 1000), ::smp::testing::IsOkAndHolds(1));
  EXPECT_THAT(TaxIncluded(0, 2000), ::smp::testing::IsOkAndHolds(0));

  // A London invoice: a session at GBP 1,800.00 with 10% off and an aftercare kit at GBP 24.99,
  // VAT-inclusive. The patient pays the lines' sum; the tax is computed once on it.
  google::protobuf::RepeatedPtrField<v1::Line> london;
  *london.Add() = MakeLine(180000, 1, 1000, "GBP");
  *london.Add() = MakeLine(2499, 1, 0, "GBP");
  ASSERT_OK_AND_ASSIGN(v1::Totals uk,
                       PriceLines("lines", "GBP", 2000, /*prices_include_tax=*/true, london));
  EXPECT_EQ(uk.gross().amount_minor(), 182499);
  EXPECT_EQ(uk.discount().amount_minor(), 18000);
  EXPECT_EQ(uk.total().amount_minor(), 164499);  // what the patient pays, tax included
  EXPECT_EQ(uk.tax().amount_minor(), 27417);     // 164499 / 6 = 27416.5 -> 27417
  EXPECT_EQ(uk.net().amount_minor(), 137082);
  EXPECT_EQ(uk.net().amount_minor() + uk.tax().amount_minor(), uk.total().amount_minor());
  EXPECT_EQ(uk.total().currency_code(), "GBP");

  // A Sydney course at AUD 4,350.00 GST-inclusive; the same price tax-exclusive adds GST on top.
  google::protobuf::RepeatedPtrField<v1::Line> sydney;
  *sydney.Add() = MakeLine(435000, 1, 0, "AUD");
  ASSERT_OK_AND_ASSIGN(v1::Totals au,
                       PriceLines("lines", "AUD", 1000, /*prices_include_tax=*/true, sydney));
  EXPECT_EQ(au.total().amount_minor(), 435000);
  EXPECT_EQ(au.tax().amount_minor(), 39545);
  EXPECT_EQ(au.net().amount_minor(), 395455);
  ASSERT_OK_AND_ASSIGN(v1::Totals added,
                       PriceLines("lines", "AUD", 1000, /*prices_include_tax=*/false, sydney));
  EXPECT_EQ(added.total().amount_minor(), 478500);
}

TEST(TaxInclusiveTest, QuotesSnapshotTheFlagAndPriceFromGross) {
  v1::PriceList list = MakeList();
  list.set_prices_include_tax(true);
  list.set_tax_rate_bp(1000);
  v1::Quote quote;
  quote.set_clinic_id(kClinic);
  quote.set_patient_id(kPatient);
  quote.set_area(v1::TREATMENT_AREA_HAIRLINE);  // 1,200.00 a session
  quote.set_sessions(2);
  *quote.mutable_valid_until() = Date(2026, 3, 20);
  ASSERT_OK(PriceQuote(list, Date(2026, 3, 10), quote));
  EXPECT_TRUE(quote.prices_include_tax());
  EXPECT_EQ(quote.totals().total().amount_minor(), 240000);
  EXPECT_EQ(quote.totals().tax().amount_minor(), 21818);  // 21818.18
  EXPECT_EQ(quote.totals().net().amount_minor(), 218182);
}

TEST(CreditNoteTest, CreditsWhatIsDueFirstAndThePaidRestGoesToTheCreditBalance) {
  v1::Invoice inv = IssuedInvoice(10000);
  ASSERT_OK(ApplyToInvoice(inv, MakeMoney(10000, "USD"), /*credit=*/false));
  ASSERT_EQ(inv.status(), v1::INVOICE_PAID);
  // A paid invoice can be credited: all of it goes to the patient's credit balance.
  ASSERT_OK_AND_ASSIGN(common::v1::Money to_balance, CreditInvoice(inv, MakeMoney(3000, "USD")));
  EXPECT_EQ(to_balance.amount_minor(), 3000);
  EXPECT_EQ(inv.amount_credited().amount_minor(), 3000);
  EXPECT_EQ(inv.credited_to_balance().amount_minor(), 3000);
  EXPECT_EQ(inv.amount_paid().amount_minor(), 7000);
  EXPECT_EQ(inv.amount_due().amount_minor(), 0);
  EXPECT_EQ(inv.status(), v1::INVOICE_PAID);
  // Never more than the total less earlier credits.
  const absl::Status too_much = CreditInvoice(inv, MakeMoney(7001, "USD")).status();
  EXPECT_EQ(ErrorReason(too_much), billing_reason::kExceedsCreditable);
  EXPECT_EQ(ErrorMetadata(too_much, "creditable_minor"), "7000");
  // The paid part moved to the balance cannot also be refunded from the invoice.
  EXPECT_EQ(ErrorReason(RefundFromInvoice(inv, MakeMoney(7001, "USD"))),
            billing_reason::kExceedsRefundable);

  // Part paid: the due part is credited first, the rest goes to the balance.
  v1::Invoice part = IssuedInvoice(10000);
  ASSERT_OK(ApplyToInvoice(part, MakeMoney(6000, "USD"), /*credit=*/false));
  ASSERT_OK_AND_ASSIGN(to_balance, CreditInvoice(part, MakeMoney(5000, "USD")));
  EXPECT_EQ(to_balance.amount_minor(), 1000);
  EXPECT_EQ(part.amount_paid().amount_minor(), 5000);
  EXPECT_EQ(part.amount_due().amount_minor(), 0);
  EXPECT_EQ(part.status(), v1::INVOICE_PAID);

  v1::Invoice draft = IssuedInvoice(100);
  draft.set_status(v1::INVOICE_DRAFT);
  EXPECT_EQ(ErrorReason(CreditInvoice(draft, MakeMoney(1, "USD")).status()),
            billing_reason::kInvoiceNotPayable);
}

TEST(DepositTest, UnapplyingGivesTheAmountBackToTheDepositAndTheInvoiceOwesIt) {
  v1::Payment deposit;
  deposit.set_id("01JD0000000000000000000PA1");
  *deposit.mutable_amount() = MakeMoney(10000, "USD");
  *deposit.mutable_amount_applied() = MakeMoney(10000, "USD");
  v1::Invoice inv = IssuedInvoice(10000);
  ASSERT_OK(ApplyToInvoice(inv, MakeMoney(10000, "USD"), /*credit=*/false));
  const absl::Status over =
      UnapplyDepositFrom(deposit, inv, /*applied_minor=*/8000, MakeMoney(8001, "USD"));
  EXPECT_EQ(ErrorReason(over), billing_reason::kExceedsApplied);
  EXPECT_EQ(ErrorMetadata(over, "applied_minor"), "8000");
  EXPECT_EQ(inv.status(), v1::INVOICE_PAID);
  ASSERT_OK(UnapplyDepositFrom(deposit, inv, 8000, MakeMoney(8000, "USD")));
  EXPECT_EQ(inv.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(inv.amount_due().amount_minor(), 8000);
  EXPECT_EQ(deposit.amount_applied().amount_minor(), 2000);
  ASSERT_OK_AND_ASSIGN(common::v1::Money refundable, Refundable(deposit));
  EXPECT_EQ(refundable.amount_minor(), 8000);

  v1::Payment payment = deposit;
  payment.set_invoice_id(inv.id());
  EXPECT_EQ(ErrorReason(UnapplyDepositFrom(payment, inv, 2000, MakeMoney(1, "USD"))),
            billing_reason::kNotADeposit);
  EXPECT_EQ(ErrorReason(CheckCreditBalance(MakeMoney(500, "USD"), MakeMoney(501, "USD"))),
            billing_reason::kExceedsCreditBalance);
  EXPECT_OK(CheckCreditBalance(MakeMoney(500, "USD"), MakeMoney(500, "USD")));
}

TEST(PaymentMethodTest, ExactlyOneWellFormedMethod) {
  v1::Payment p;
  EXPECT_THAT(ValidatePaymentMethod(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.method")));
  p.mutable_card()->set_last4("12a4");
  EXPECT_THAT(ValidatePaymentMethod(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("last4")));
  p.mutable_card()->set_last4("1234");
  p.mutable_card()->set_authorization_reference("AUTH1");
  EXPECT_OK(ValidatePaymentMethod(p));
  p.mutable_cash();
  EXPECT_OK(ValidatePaymentMethod(p));
  p.mutable_financing()->set_provider("CareCredit");
  EXPECT_THAT(ValidatePaymentMethod(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("financing.reference")));
}

TEST(ChargeLineTest, QuoteBindsItsPricesElseThePriceList) {
  v1::RecordChargeEventRequest ev;
  ev.set_type(v1::CHARGE_EVENT_NO_SHOW);
  ASSERT_OK_AND_ASSIGN(v1::Line fee, ChargeLine(ev, MakeList(), nullptr));
  EXPECT_EQ(fee.unit_price().amount_minor(), 15000);
  v1::Quote quote;
  *quote.mutable_no_show_fee() = MakeMoney(7500, "USD");
  v1::Line* ql = quote.add_lines();
  ql->set_description("Treatment session (TREATMENT_AREA_CROWN)");
  *ql->mutable_unit_price() = MakeMoney(99900, "USD");
  ql->set_discount_bp(500);
  ASSERT_OK_AND_ASSIGN(fee, ChargeLine(ev, MakeList(), &quote));
  EXPECT_EQ(fee.unit_price().amount_minor(), 7500);

  ev.set_type(v1::CHARGE_EVENT_SESSION_COMPLETED);
  ev.set_completed_kind(v1::CHARGE_KIND_TREATMENT_SESSION);
  ASSERT_OK_AND_ASSIGN(v1::Line session, ChargeLine(ev, MakeList(), &quote));
  EXPECT_EQ(session.unit_price().amount_minor(), 99900);
  EXPECT_EQ(session.discount_bp(), 500);
  EXPECT_THAT(ChargeLine(ev, MakeList(), nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("area")));
  ev.set_area(v1::TREATMENT_AREA_FULL_SCALP);
  ASSERT_OK_AND_ASSIGN(session, ChargeLine(ev, MakeList(), nullptr));
  EXPECT_EQ(session.unit_price().amount_minor(), 175000);
}

TEST(AgingTest, Buckets) {
  const absl::Time issued = absl::FromUnixSeconds(1767261600);
  const absl::Duration day = absl::Hours(24);
  EXPECT_EQ(AgingBucket(issued, issued), 0);
  EXPECT_EQ(AgingBucket(issued, issued + 30 * day + absl::Hours(23)), 0);
  EXPECT_EQ(AgingBucket(issued, issued + 31 * day), 1);
  EXPECT_EQ(AgingBucket(issued, issued + 60 * day), 1);
  EXPECT_EQ(AgingBucket(issued, issued + 61 * day), 2);
  EXPECT_EQ(AgingBucket(issued, issued + 90 * day), 2);
  EXPECT_EQ(AgingBucket(issued, issued + 91 * day), 3);
}

}  // namespace
}  // namespace smp::billing
