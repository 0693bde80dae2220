#include "services/billing/reports.h"

#include "services/billing/billing_test_env.h"
#include "services/billing/invoices.h"
#include "services/billing/payments.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class ReportsTest : public BillingUnitTest {
 protected:
  void SetUp() override {
    BillingUnitTest::SetUp();
    SeedPriceList(kClinicA, absl::CivilDay(2025, 1, 1));
  }

  Reports reports() { return Reports(db_.get(), &store_); }

  // An invoice of one `unit_minor` line (plus 8.25% tax) issued at `at`.
  v1::Invoice IssuedAt(const std::string& key, int64_t unit_minor, absl::Time at) {
    Invoices invoices(db_.get(), &store_);
    Call call = Clerk("CreateInvoice");
    call.now = at;
    v1::CreateInvoiceRequest create;
    create.set_request_id(key);
    create.mutable_invoice()->set_clinic_id(kClinicA);
    create.mutable_invoice()->set_patient_id(kPatient);
    *create.mutable_invoice()->add_lines() = LineOf(unit_minor);
    absl::StatusOr<v1::Invoice> draft = invoices.Create(call, create);
    EXPECT_OK(draft.status());
    call.method = "IssueInvoice";
    v1::IssueInvoiceRequest issue;
    issue.set_request_id(key + "-issue");
    issue.set_id(draft->id());
    issue.set_etag(draft->etag());
    absl::StatusOr<v1::Invoice> issued = invoices.Issue(call, issue);
    EXPECT_OK(issued.status());
    return issued.value_or(v1::Invoice());
  }

  static v1::GetRevenueReportRequest Period(absl::CivilDay first, absl::CivilDay last) {
    v1::GetRevenueReportRequest req;
    req.set_clinic_id(kClinicA);
    *req.mutable_period()->mutable_start_date() = ToLocalDate(first);
    *req.mutable_period()->mutable_end_date() = ToLocalDate(last);
    return req;
  }
};

TEST_F(ReportsTest, RevenueSumsTheClinicLocalDays) {
  const v1::Invoice inv = IssuedAt("inv-1", 10000, kNow);
  // 2026-01-15 22:00 in New York is the 16th in UTC: still the 15th for the clinic.
  IssuedAt("inv-2", 20000, absl::FromUnixSeconds(1768532400));
  // The 16th in New York.
  IssuedAt("inv-3", 40000, absl::FromUnixSeconds(1768543200));
  Payments payments(db_.get(), &store_);
  v1::RecordPaymentRequest pay;
  pay.set_request_id("pay-1");
  pay.mutable_payment()->set_clinic_id(kClinicA);
  pay.mutable_payment()->set_patient_id(kPatient);
  pay.mutable_payment()->set_invoice_id(inv.id());
  *pay.mutable_payment()->mutable_amount() = Usd(5000);
  pay.mutable_payment()->mutable_cash();
  ASSERT_OK_AND_ASSIGN(v1::Payment payment, payments.Record(Desk("RecordPayment"), pay));
  v1::RefundPaymentRequest refund;
  refund.set_request_id("ref-1");
  refund.mutable_refund()->set_payment_id(payment.id());
  *refund.mutable_refund()->mutable_amount() = Usd(1000);
  refund.mutable_refund()->set_reason("overcharged");
  ASSERT_OK(payments.Refund(Clerk("RefundPayment"), refund).status());
  v1::CreateCreditNoteRequest credit;
  credit.set_request_id("cn-1");
  credit.mutable_credit_note()->set_invoice_id(inv.id());
  *credit.mutable_credit_note()->mutable_amount() = Usd(700);
  credit.mutable_credit_note()->set_reason("goodwill");
  ASSERT_OK(
      Invoices(db_.get(), &store_).CreateCreditNote(Clerk("CreateCreditNote"), credit).status());

  const absl::CivilDay day(2026, 1, 15);
  ASSERT_OK_AND_ASSIGN(v1::RevenueReport report,
                       reports().Revenue(Desk("GetRevenueReport"), Period(day, day)));
  EXPECT_EQ(report.clinic_id(), kClinicA);
  EXPECT_EQ(report.invoices_issued(), 2);
  EXPECT_EQ(report.invoiced_net().amount_minor(), 30000);
  EXPECT_EQ(report.invoiced_tax().amount_minor(), 825 + 1650);
  EXPECT_EQ(report.collected().amount_minor(), 5000);
  EXPECT_EQ(report.refunded().amount_minor(), 1000);
  EXPECT_EQ(report.credited().amount_minor(), 700);
  EXPECT_EQ(report.period().end_date().day(), 15);

  ASSERT_OK_AND_ASSIGN(report,
                       reports().Revenue(Desk("GetRevenueReport"), Period(day + 1, day + 1)));
  EXPECT_EQ(report.invoices_issued(), 1);
  EXPECT_EQ(report.invoiced_net().amount_minor(), 40000);
  EXPECT_EQ(report.collected().amount_minor(), 0);
  EXPECT_EQ(report.collected().currency_code(), "USD");
}

TEST_F(ReportsTest, PeriodIsValidatedAsTheContractSays) {
  const absl::CivilDay day(2026, 1, 15);
  EXPECT_THAT(reports().Revenue(Desk("GetRevenueReport"), Period(day, day - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
  EXPECT_THAT(reports().Revenue(Desk("GetRevenueReport"), Period(day, day + 366)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
  EXPECT_OK(reports().Revenue(Desk("GetRevenueReport"), Period(day, day + 365)).status());
  v1::GetRevenueReportRequest bad = Period(day, day);
  bad.mutable_period()->mutable_start_date()->set_day(32);
  EXPECT_THAT(reports().Revenue(Desk("GetRevenueReport"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period.start_date")));
  bad = Period(absl::CivilDay(1899, 12, 31), day);
  EXPECT_THAT(reports().Revenue(Desk("GetRevenueReport"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period.start_date")));
  bad = Period(day, day);
  bad.mutable_period()->clear_end_date();
  EXPECT_THAT(reports().Revenue(Desk("GetRevenueReport"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period.end_date")));
  bad = Period(day, day);
  bad.set_clinic_id(kClinicB);
  EXPECT_THAT(reports().Revenue(OtherClinic("GetRevenueReport"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
}

TEST_F(ReportsTest, AnotherClinicsCallerIsRefused) {
  const absl::CivilDay day(2026, 1, 15);
  EXPECT_THAT(
      reports().Revenue(OtherClinic("GetRevenueReport"), Period(day, day)),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  v1::GetReceivablesAgingRequest aging;
  aging.set_clinic_id(kClinicA);
  EXPECT_THAT(
      reports().Aging(OtherClinic("GetReceivablesAging"), aging),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
}

TEST_F(ReportsTest, AgingBucketsWhatIsDueByDaysSinceIssue) {
  IssuedAt("inv-now", 10000, kNow);
  IssuedAt("inv-40", 20000, kNow - absl::Hours(24 * 40));
  IssuedAt("inv-100", 40000, kNow - absl::Hours(24 * 100));
  v1::GetReceivablesAgingRequest req;
  req.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::ReceivablesAging aging,
                       reports().Aging(Desk("GetReceivablesAging"), req));
  EXPECT_EQ(FromProtoTimestamp(aging.as_of_time()), kNow);
  EXPECT_EQ(aging.days_0_30().amount_minor(), 10825);
  EXPECT_EQ(aging.days_31_60().amount_minor(), 21650);
  EXPECT_EQ(aging.days_61_90().amount_minor(), 0);
  EXPECT_EQ(aging.days_over_90().amount_minor(), 43300);
  EXPECT_EQ(aging.total().amount_minor(), 10825 + 21650 + 43300);
  // As of 30 days ago: the newest invoice did not exist yet.
  *req.mutable_as_of_time() = ToProtoTimestamp(kNow - absl::Hours(24 * 30));
  ASSERT_OK_AND_ASSIGN(aging, reports().Aging(Desk("GetReceivablesAging"), req));
  EXPECT_EQ(aging.days_0_30().amount_minor(), 21650);
  EXPECT_EQ(aging.days_61_90().amount_minor(), 43300);
  EXPECT_EQ(aging.total().amount_minor(), 21650 + 43300);
}

}  // namespace
}  // namespace smp::billing
