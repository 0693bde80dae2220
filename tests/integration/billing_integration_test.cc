// The billing service as a real process, with identity and a real redis-server, over real gRPC.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/billing/billing_reasons.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::billing {
namespace {

using common::v1::Money;
using ::smp::testing::ServiceProcess;

using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;
using ::testing::AllOf;

constexpr char kZone[] = "America/New_York";

// A grpc::Status whose ErrorInfo (in the standard details trailer) has `reason`.
MATCHER_P(HasReason, reason, "") {
  const std::string got = ErrorReason(FromGrpcStatus(arg));
  *result_listener << "reason \"" << got << "\"";
  return got == std::string(reason);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return CallContext(token); }

Money M(int64_t minor, const std::string& currency = "USD") {
  Money m;
  m.set_amount_minor(minor);
  m.set_currency_code(currency);
  return m;
}

common::v1::LocalDate DateOf(absl::CivilDay day) {
  common::v1::LocalDate d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

absl::CivilDay Today() {
  absl::TimeZone zone;
  absl::LoadTimeZone(kZone, &zone);
  return absl::ToCivilDay(absl::Now(), zone);
}

v1::Line Line(int64_t unit_minor, int64_t quantity = 1, const std::string& currency = "USD") {
  v1::Line line;
  line.set_kind(v1::CHARGE_KIND_OTHER);
  line.set_description("Aftercare kit");
  line.set_quantity(quantity);
  *line.mutable_unit_price() = M(unit_minor, currency);
  return line;
}

class BillingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    SetUpIdentity();
    const std::string redis = harness_.RedisFlag();
    redis_flag_ = redis;
    billing_dir_ = smp::testing::MakeTempDir("bill");
    ASSERT_OK_AND_ASSIGN(
        billing_, ServiceProcess::Start(SMP_BILLING_BINARY, {"--data_dir=" + billing_dir_, redis}));
    stub_ = v1::BillingService::NewStub(
        grpc::CreateChannel(billing_->address(), grpc::InsecureChannelCredentials()));
    patient_ = NewId();
    // Today's prices, and a rise effective tomorrow (clinic-local).
    CreatePriceList(Today(), 120000, "today");
    CreatePriceList(Today() + 1, 150000, "tomorrow");
  }

  void SetUpIdentity() {
    admin_ = harness_.admin_token();
    clinic_a_ = harness_.MakeClinic("Boston", kZone);
    clinic_b_ = harness_.MakeClinic("Albany", kZone);
    harness_.MakeStaff("clerk.a", common::v1::ROLE_BILLING_CLERK, clinic_a_);
    harness_.MakeStaff("desk.a", common::v1::ROLE_FRONT_DESK, clinic_a_);
    harness_.MakeStaff("desk.b", common::v1::ROLE_FRONT_DESK, clinic_b_);
    harness_.MakeStaff("auditor", common::v1::ROLE_AUDITOR, clinic_a_);
    harness_.MakeStaff("svc.scheduling", common::v1::ROLE_SERVICE, clinic_a_);
    clerk_ = harness_.Login("clerk.a");
    desk_a_ = harness_.Login("desk.a");
    desk_b_ = harness_.Login("desk.b");
    auditor_ = harness_.Login("auditor");
    service_ = harness_.Login("svc.scheduling");
  }

  void CreatePriceList(absl::CivilDay day, int64_t hairline, const std::string& key) {
    v1::PriceList out;
    grpc::Status s = PutPriceList(day, hairline, key, "USD", &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status PutPriceList(absl::CivilDay day, int64_t hairline, const std::string& key,
                            const std::string& currency, v1::PriceList* out) {
    auto M = [&](int64_t minor) { return ::smp::billing::M(minor, currency); };
    v1::CreatePriceListRequest req;
    req.set_request_id("prices-" + key);
    v1::PriceList* p = req.mutable_price_list();
    p->set_clinic_id(clinic_a_);
    *p->mutable_effective_date() = DateOf(day);
    p->set_time_zone(kZone);
    p->set_currency_code(currency);
    p->set_tax_rate_bp(825);
    *p->mutable_consultation_fee() = M(15000);
    *p->mutable_session_prices()->mutable_hairline() = M(hairline);
    *p->mutable_session_prices()->mutable_crown() = M(110000);
    *p->mutable_session_prices()->mutable_full_scalp() = M(175000);
    *p->mutable_session_prices()->mutable_scar_camouflage() = M(90000);
    *p->mutable_sample_patch_fee() = M(5000);
    *p->mutable_touch_up_fee() = M(40000);
    *p->mutable_late_cancellation_fee() = M(10000);
    *p->mutable_no_show_fee() = M(15000);
    return stub_->CreatePriceList(Ctx(clerk_).get(), req, out);
  }

  grpc::Status TryCreateInvoice(const std::vector<v1::Line>& lines, const std::string& request_id,
                                v1::Invoice* out, const std::string& token = "") {
    v1::CreateInvoiceRequest req;
    req.set_request_id(request_id);
    req.mutable_invoice()->set_clinic_id(clinic_a_);
    req.mutable_invoice()->set_patient_id(patient_);
    for (const v1::Line& l : lines) *req.mutable_invoice()->add_lines() = l;
    return stub_->CreateInvoice(Ctx(token.empty() ? clerk_ : token).get(), req, out);
  }

  v1::Invoice IssuedInvoice(int64_t unit_minor, const std::string& key) {
    v1::Invoice draft;
    grpc::Status s = TryCreateInvoice({Line(unit_minor)}, "inv-" + key, &draft);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::IssueInvoiceRequest issue;
    issue.set_request_id("issue-" + key);
    issue.set_id(draft.id());
    issue.set_etag(draft.etag());
    v1::Invoice out;
    s = stub_->IssueInvoice(Ctx(clerk_).get(), issue, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::RecordPaymentRequest CashPayment(const std::string& request_id, const std::string& invoice,
                                       Money amount) {
    v1::RecordPaymentRequest req;
    req.set_request_id(request_id);
    req.mutable_payment()->set_clinic_id(clinic_a_);
    req.mutable_payment()->set_patient_id(patient_);
    req.mutable_payment()->set_invoice_id(invoice);
    *req.mutable_payment()->mutable_amount() = amount;
    req.mutable_payment()->mutable_cash();
    return req;
  }

  v1::Invoice GetInvoice(const std::string& id) {
    v1::GetInvoiceRequest req;
    req.set_id(id);
    v1::Invoice out;
    grpc::Status s = stub_->GetInvoice(Ctx(auditor_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::PatientBalance Balance() {
    v1::GetPatientBalanceRequest req;
    req.set_clinic_id(clinic_a_);
    req.set_patient_id(patient_);
    v1::PatientBalance out;
    grpc::Status s = stub_->GetPatientBalance(Ctx(desk_a_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  IdentityHarness harness_;
  std::unique_ptr<ServiceProcess> billing_;
  std::unique_ptr<v1::BillingService::Stub> stub_;
  std::string admin_, clerk_, desk_a_, desk_b_, auditor_, service_;
  std::string clinic_a_, clinic_b_, patient_;
  std::string redis_flag_, billing_dir_;
};

TEST_F(BillingIntegrationTest, PriceChangeEffectiveTomorrowDoesNotChangeTodaysQuote) {
  v1::CreateQuoteRequest req;
  req.set_request_id("quote-1");
  req.mutable_quote()->set_clinic_id(clinic_a_);
  req.mutable_quote()->set_patient_id(patient_);
  req.mutable_quote()->set_area(v1::TREATMENT_AREA_HAIRLINE);
  req.mutable_quote()->set_sessions(3);
  req.mutable_quote()->set_discount_bp(1000);
  *req.mutable_quote()->mutable_valid_until() = DateOf(Today() + 30);
  v1::Quote quote;
  ASSERT_TRUE(stub_->CreateQuote(Ctx(clerk_).get(), req, &quote).ok());
  EXPECT_EQ(quote.lines(0).unit_price().amount_minor(), 120000);
  EXPECT_EQ(quote.totals().net().amount_minor(), 324000);
  EXPECT_EQ(quote.totals().tax().amount_minor(), 26730);
  EXPECT_EQ(quote.totals().total().amount_minor(), 350730);
  EXPECT_EQ(quote.no_show_fee().amount_minor(), 15000);

  // Tomorrow's version exists and is what tomorrow will use.
  v1::GetEffectivePriceListRequest at;
  at.set_clinic_id(clinic_a_);
  *at.mutable_at_time() = ToProtoTimestamp(absl::Now() + absl::Hours(48));
  v1::PriceList later;
  ASSERT_TRUE(stub_->GetEffectivePriceList(Ctx(desk_a_).get(), at, &later).ok());
  EXPECT_EQ(later.session_prices().hairline().amount_minor(), 150000);

  // The quote keeps its snapshot once accepted.
  v1::AcceptQuoteRequest accept;
  accept.set_request_id("accept-1");
  accept.set_id(quote.id());
  accept.set_etag(quote.etag());
  v1::Quote accepted;
  ASSERT_TRUE(stub_->AcceptQuote(Ctx(clerk_).get(), accept, &accepted).ok());
  EXPECT_EQ(accepted.status(), v1::QUOTE_ACCEPTED);
  EXPECT_EQ(accepted.totals().total().amount_minor(), 350730);
  accept.set_request_id("accept-2");
  EXPECT_THAT(
      stub_->AcceptQuote(Ctx(clerk_).get(), accept, &accepted),
      AllOf(GrpcIs(grpc::StatusCode::ABORTED, "current etag"), HasReason(reason::kStaleEtag)));
  accept.set_etag(accepted.etag());
  EXPECT_THAT(stub_->AcceptQuote(Ctx(clerk_).get(), accept, &accepted),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "not open"),
                    HasReason(billing_reason::kQuoteNotOpen)));

  // A clinic's currency cannot change; a second version for the same day is refused.
  v1::PriceList ignored;
  EXPECT_THAT(PutPriceList(Today() + 5, 100000, "eur", "EUR", &ignored),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "currency cannot change"),
                    HasReason(billing_reason::kCurrencyFixed)));
  EXPECT_THAT(PutPriceList(Today() + 1, 100000, "tomorrow-again", "USD", &ignored),
              AllOf(GrpcIs(grpc::StatusCode::ALREADY_EXISTS, "already has a price list"),
                    HasReason(billing_reason::kPriceListDateTaken)));
}

TEST_F(BillingIntegrationTest, ConcurrentIssuingNumbersInvoicesWithoutGaps) {
  constexpr int kInvoices = 30;
  std::vector<v1::Invoice> drafts(kInvoices);
  for (int i = 0; i < kInvoices; ++i) {
    ASSERT_TRUE(TryCreateInvoice({Line(1000 + i)}, absl::StrCat("draft-", i), &drafts[i]).ok());
    EXPECT_EQ(drafts[i].status(), v1::INVOICE_DRAFT);
    EXPECT_EQ(drafts[i].number(), 0);
  }
  absl::Mutex mu;
  std::set<int64_t> numbers;
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::BillingService::NewStub(
          grpc::CreateChannel(billing_->address(), grpc::InsecureChannelCredentials()));
      for (int i = t; i < kInvoices; i += 10) {
        v1::IssueInvoiceRequest req;
        req.set_request_id(absl::StrCat("issue-", i));
        req.set_id(drafts[i].id());
        req.set_etag(drafts[i].etag());
        v1::Invoice out;
        grpc::Status s = stub->IssueInvoice(Ctx(clerk_).get(), req, &out);
        EXPECT_TRUE(s.ok()) << s.error_message();
        absl::MutexLock lock(&mu);
        numbers.insert(out.number());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(numbers.size(), static_cast<size_t>(kInvoices));
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), kInvoices);

  // An issued invoice is never edited, only credited.
  v1::Invoice issued = GetInvoice(drafts[0].id());
  EXPECT_EQ(issued.status(), v1::INVOICE_ISSUED);
  v1::UpdateDraftInvoiceRequest edit;
  edit.set_request_id("edit-0");
  edit.set_id(issued.id());
  edit.set_etag(issued.etag());
  *edit.add_lines() = Line(1);
  v1::Invoice ignored;
  EXPECT_THAT(stub_->UpdateDraftInvoice(Ctx(clerk_).get(), edit, &ignored),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "never edited"),
                    HasReason(billing_reason::kInvoiceNotDraft)));
  v1::CreateCreditNoteRequest credit;
  credit.set_request_id("credit-0");
  credit.mutable_credit_note()->set_invoice_id(issued.id());
  *credit.mutable_credit_note()->mutable_amount() = M(500);
  credit.mutable_credit_note()->set_reason("goodwill");
  v1::CreditNote note;
  ASSERT_TRUE(stub_->CreateCreditNote(Ctx(clerk_).get(), credit, &note).ok());
  issued = GetInvoice(issued.id());
  EXPECT_EQ(issued.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(issued.amount_due().amount_minor(), issued.totals().total().amount_minor() - 500);
}

TEST_F(BillingIntegrationTest, DraftsChangeIssuedInvoicesDoNotAndEverythingSurvivesRestart) {
  v1::Invoice draft;
  ASSERT_TRUE(TryCreateInvoice({Line(333, 3)}, "draft", &draft).ok());
  v1::UpdateDraftInvoiceRequest edit;
  edit.set_request_id("edit-1");
  edit.set_id(draft.id());
  edit.set_etag(draft.etag());
  v1::Line discounted = Line(333, 3);
  discounted.set_discount_bp(1250);  // 12.5% of 9.99 = 1.24875 -> 1.25
  *edit.add_lines() = discounted;
  *edit.add_lines() = Line(1000);
  v1::Invoice edited;
  ASSERT_TRUE(stub_->UpdateDraftInvoice(Ctx(clerk_).get(), edit, &edited).ok());
  EXPECT_EQ(edited.lines(0).discount_amount().amount_minor(), 125);
  EXPECT_EQ(edited.totals().net().amount_minor(), 874 + 1000);
  EXPECT_EQ(edited.totals().tax().amount_minor(), 155);  // 8.25% of 18.74 = 1.546 -> 1.55
  EXPECT_EQ(edited.totals().total().amount_minor(), 2029);
  EXPECT_EQ(edited.number(), 0);

  // A stale etag is ABORTED naming the current one; a void keeps nothing payable.
  v1::IssueInvoiceRequest issue;
  issue.set_request_id("issue-stale");
  issue.set_id(draft.id());
  issue.set_etag(draft.etag());
  v1::Invoice issued;
  EXPECT_THAT(
      stub_->IssueInvoice(Ctx(clerk_).get(), issue, &issued),
      AllOf(GrpcIs(grpc::StatusCode::ABORTED, edited.etag()), HasReason(reason::kStaleEtag)));
  issue.set_request_id("issue-1");
  issue.set_etag(edited.etag());
  ASSERT_TRUE(stub_->IssueInvoice(Ctx(clerk_).get(), issue, &issued).ok());
  EXPECT_EQ(issued.number(), 1);
  v1::VoidInvoiceRequest void_req;
  void_req.set_request_id("void-1");
  void_req.set_id(issued.id());
  void_req.set_etag(issued.etag());
  void_req.set_reason("entered for the wrong patient");
  v1::Invoice voided;
  ASSERT_TRUE(stub_->VoidInvoice(Ctx(clerk_).get(), void_req, &voided).ok());
  EXPECT_EQ(voided.status(), v1::INVOICE_VOID);
  EXPECT_EQ(voided.number(), 1);
  v1::Payment payment;
  EXPECT_THAT(stub_->RecordPayment(Ctx(desk_a_).get(), CashPayment("pay-void", voided.id(), M(1)),
                                   &payment),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "INVOICE_VOID"),
                    HasReason(billing_reason::kInvoiceNotPayable)));

  // The next issued invoice takes number 2; a paid one cannot be voided.
  const v1::Invoice second = IssuedInvoice(5000, "second");
  EXPECT_EQ(second.number(), 2);
  ASSERT_TRUE(stub_
                  ->RecordPayment(Ctx(desk_a_).get(),
                                  CashPayment("pay-second", second.id(), second.totals().total()),
                                  &payment)
                  .ok());
  void_req.set_request_id("void-2");
  void_req.set_id(second.id());
  void_req.set_etag(GetInvoice(second.id()).etag());
  EXPECT_THAT(stub_->VoidInvoice(Ctx(clerk_).get(), void_req, &voided),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "refund or credit"),
                    HasReason(billing_reason::kInvoiceNotVoidable)));

  // Restart the billing process on the same data: everything acknowledged is there.
  const std::string dir = billing_dir_;
  billing_.reset();
  ASSERT_OK_AND_ASSIGN(
      billing_, ServiceProcess::Start(SMP_BILLING_BINARY, {"--data_dir=" + dir, redis_flag_}));
  stub_ = v1::BillingService::NewStub(
      grpc::CreateChannel(billing_->address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(GetInvoice(second.id()).status(), v1::INVOICE_PAID);
  v1::GetPaymentRequest get_payment;
  get_payment.set_id(payment.id());
  v1::Payment reread;
  ASSERT_TRUE(stub_->GetPayment(Ctx(desk_a_).get(), get_payment, &reread).ok());
  EXPECT_EQ(reread.amount().amount_minor(), second.totals().total().amount_minor());
  v1::ListPriceListsRequest lists;
  lists.set_clinic_id(clinic_a_);
  lists.set_page_size(1);
  v1::ListPriceListsResponse page;
  ASSERT_TRUE(stub_->ListPriceLists(Ctx(auditor_).get(), lists, &page).ok());
  ASSERT_EQ(page.price_lists_size(), 1);
  EXPECT_EQ(page.price_lists(0).session_prices().hairline().amount_minor(), 150000);
  lists.set_page_token(page.next_page_token());
  ASSERT_TRUE(stub_->ListPriceLists(Ctx(auditor_).get(), lists, &page).ok());
  ASSERT_EQ(page.price_lists_size(), 1);
  EXPECT_EQ(page.price_lists(0).session_prices().hairline().amount_minor(), 120000);
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_F(BillingIntegrationTest, ReplayedPaymentCountsOnceAndRefundsNeverExceedWhatWasPaid) {
  const v1::Invoice inv = IssuedInvoice(10000, "pay");  // 100.00 + 8.25% = 108.25
  ASSERT_EQ(inv.totals().total().amount_minor(), 10825);
  ASSERT_EQ(inv.number(), 1);

  v1::Payment first, replay;
  ASSERT_TRUE(
      stub_->RecordPayment(Ctx(desk_a_).get(), CashPayment("pay-1", inv.id(), M(4000)), &first)
          .ok());
  ASSERT_TRUE(
      stub_->RecordPayment(Ctx(desk_a_).get(), CashPayment("pay-1", inv.id(), M(4000)), &replay)
          .ok());
  EXPECT_EQ(first.id(), replay.id());
  EXPECT_THAT(
      stub_->RecordPayment(Ctx(desk_a_).get(), CashPayment("pay-1", inv.id(), M(4001)), &replay),
      AllOf(GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "different request"),
            HasReason(reason::kRequestIdReused)));
  v1::Invoice after = GetInvoice(inv.id());
  EXPECT_EQ(after.amount_paid().amount_minor(), 4000);
  EXPECT_EQ(after.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 6825);

  // Overpaying is refused; paying the rest settles it.
  v1::Payment rest;
  EXPECT_THAT(
      stub_->RecordPayment(Ctx(desk_a_).get(), CashPayment("pay-2", inv.id(), M(6826)), &rest),
      AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "exceeds"),
            HasReason(billing_reason::kExceedsAmountDue)));
  auto card = CashPayment("pay-3", inv.id(), M(6825));
  card.mutable_payment()->mutable_card()->set_last4("4242");
  card.mutable_payment()->mutable_card()->set_authorization_reference("AUTH-778");
  ASSERT_TRUE(stub_->RecordPayment(Ctx(desk_a_).get(), card, &rest).ok());
  EXPECT_EQ(GetInvoice(inv.id()).status(), v1::INVOICE_PAID);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 0);

  // Refunds: never above what the payment captured less earlier refunds; front desks cannot.
  v1::RefundPaymentRequest refund;
  refund.set_request_id("refund-1");
  refund.mutable_refund()->set_payment_id(first.id());
  *refund.mutable_refund()->mutable_amount() = M(4001);
  refund.mutable_refund()->set_reason("patient moved away");
  v1::Refund done;
  EXPECT_THAT(stub_->RefundPayment(Ctx(clerk_).get(), refund, &done),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "exceeds"),
                    HasReason(billing_reason::kExceedsRefundable)));
  *refund.mutable_refund()->mutable_amount() = M(2500);
  EXPECT_THAT(stub_->RefundPayment(Ctx(desk_a_).get(), refund, &done),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_BILLING_WRITE"));
  ASSERT_TRUE(stub_->RefundPayment(Ctx(clerk_).get(), refund, &done).ok());
  refund.set_request_id("refund-2");
  *refund.mutable_refund()->mutable_amount() = M(1501);
  EXPECT_THAT(stub_->RefundPayment(Ctx(clerk_).get(), refund, &done),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "exceeds"),
                    HasReason(billing_reason::kExceedsRefundable)));
  EXPECT_EQ(GetInvoice(inv.id()).status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 2500);

  // A deposit for a plan, applied to one of its invoices; refunds only its unapplied part.
  const std::string plan = NewId();
  v1::CreateInvoiceRequest plan_inv;
  plan_inv.set_request_id("inv-plan");
  plan_inv.mutable_invoice()->set_clinic_id(clinic_a_);
  plan_inv.mutable_invoice()->set_patient_id(patient_);
  plan_inv.mutable_invoice()->set_plan_id(plan);
  *plan_inv.mutable_invoice()->add_lines() = Line(20000);
  v1::Invoice session_inv;
  ASSERT_TRUE(stub_->CreateInvoice(Ctx(clerk_).get(), plan_inv, &session_inv).ok());
  v1::IssueInvoiceRequest issue;
  issue.set_request_id("issue-plan");
  issue.set_id(session_inv.id());
  issue.set_etag(session_inv.etag());
  ASSERT_TRUE(stub_->IssueInvoice(Ctx(clerk_).get(), issue, &session_inv).ok());
  auto deposit_req = CashPayment("deposit-1", "", M(50000));
  deposit_req.mutable_payment()->set_plan_id(plan);
  v1::Payment deposit;
  ASSERT_TRUE(stub_->RecordPayment(Ctx(desk_a_).get(), deposit_req, &deposit).ok());
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 50000);
  v1::ApplyDepositRequest apply;
  apply.set_request_id("apply-1");
  apply.set_deposit_id(deposit.id());
  apply.set_invoice_id(session_inv.id());
  *apply.mutable_amount() = M(21650);
  ASSERT_TRUE(stub_->ApplyDeposit(Ctx(desk_a_).get(), apply, &deposit).ok());
  EXPECT_EQ(deposit.amount_applied().amount_minor(), 21650);
  EXPECT_EQ(GetInvoice(session_inv.id()).status(), v1::INVOICE_PAID);
  refund.set_request_id("refund-deposit");
  refund.mutable_refund()->set_payment_id(deposit.id());
  *refund.mutable_refund()->mutable_amount() = M(28351);
  EXPECT_THAT(stub_->RefundPayment(Ctx(clerk_).get(), refund, &done),
              AllOf(GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "exceeds"),
                    HasReason(billing_reason::kExceedsRefundable)));
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 28350);
}

TEST_F(BillingIntegrationTest, BadInputIsInvalidArgumentAndStoresNothing) {
  const v1::Invoice inv = IssuedInvoice(10000, "good");
  v1::Invoice out;
  const std::vector<std::pair<v1::Line, std::string>> bad_lines = {
      {Line(-100), "must not be negative"},
      {Line(100, 1, "ZZZ"), "ISO-4217"},
      {Line(100, 1, "EUR"), "currency mismatch"},
      {Line(1'000'000'000'000'000, 2), "invoice.lines[0]"},
      {Line(std::numeric_limits<int64_t>::max()), "beyond"},
      {Line(100, 0), "quantity"},
  };
  int n = 0;
  for (const auto& [line, message] : bad_lines) {
    EXPECT_THAT(TryCreateInvoice({line}, absl::StrCat("bad-", n++), &out),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, message));
  }
  // Two lines whose sum passes the limit.
  EXPECT_THAT(TryCreateInvoice({Line(1'000'000'000'000'000), Line(1)}, "bad-sum", &out),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "invoice.lines[1]"));

  v1::Payment payment;
  const std::vector<std::pair<Money, std::string>> bad_amounts = {
      {M(-1), "must not be negative"},
      {M(0), "must be positive"},
      {M(100, "usd"), "ISO-4217"},
      {M(100, "EUR"), "currency mismatch"},
      {M(std::numeric_limits<int64_t>::max()), "beyond"},
  };
  for (const auto& [amount, message] : bad_amounts) {
    EXPECT_THAT(stub_->RecordPayment(Ctx(desk_a_).get(),
                                     CashPayment(absl::StrCat("bad-pay-", n++), inv.id(), amount),
                                     &payment),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, message));
  }
  auto no_method = CashPayment("bad-method", inv.id(), M(100));
  no_method.mutable_payment()->clear_cash();
  EXPECT_THAT(stub_->RecordPayment(Ctx(desk_a_).get(), no_method, &payment),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "payment.method"));

  // Nothing was stored: still one invoice, no payments, nothing paid.
  v1::ListInvoicesRequest list;
  list.set_clinic_id(clinic_a_);
  v1::ListInvoicesResponse invoices;
  ASSERT_TRUE(stub_->ListInvoices(Ctx(auditor_).get(), list, &invoices).ok());
  ASSERT_EQ(invoices.invoices_size(), 1);
  EXPECT_EQ(invoices.invoices(0).id(), inv.id());
  v1::ListPaymentsRequest plist;
  plist.set_clinic_id(clinic_a_);
  v1::ListPaymentsResponse payments;
  ASSERT_TRUE(stub_->ListPayments(Ctx(auditor_).get(), plist, &payments).ok());
  EXPECT_EQ(payments.payments_size(), 0);
  EXPECT_EQ(GetInvoice(inv.id()).amount_paid().amount_minor(), 0);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 10825);
}

TEST_F(BillingIntegrationTest, RolesAndClinicScope) {
  const v1::Invoice inv = IssuedInvoice(10000, "scope");
  v1::GetInvoiceRequest get;
  get.set_id(inv.id());
  v1::Invoice out;
  EXPECT_THAT(stub_->GetInvoice(Ctx(desk_b_).get(), get, &out),
              AllOf(GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"),
                    HasReason(reason::kOutsideClinicScope)));
  EXPECT_TRUE(stub_->GetInvoice(Ctx(desk_a_).get(), get, &out).ok());
  EXPECT_THAT(TryCreateInvoice({Line(100)}, "desk-inv", &out, desk_a_),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_BILLING_WRITE"));
  EXPECT_THAT(TryCreateInvoice({Line(100)}, "auditor-inv", &out, auditor_),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_BILLING_WRITE"));
  v1::Payment payment;
  EXPECT_THAT(
      stub_->RecordPayment(Ctx(desk_b_).get(), CashPayment("b-pay", inv.id(), M(100)), &payment),
      AllOf(GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"),
            HasReason(reason::kOutsideClinicScope)));
  EXPECT_THAT(
      stub_->RecordPayment(Ctx(auditor_).get(), CashPayment("a-pay", inv.id(), M(100)), &payment),
      GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_PAYMENTS_TAKE"));
  EXPECT_THAT(stub_->GetInvoice(Ctx("").get(), get, &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
}

TEST_F(BillingIntegrationTest, ChargeEventsAreIdempotentByEventIdAndFeedTheReports) {
  v1::RecordChargeEventRequest ev;
  ev.set_event_id("sched-evt-0001");
  ev.set_type(v1::CHARGE_EVENT_NO_SHOW);
  ev.set_clinic_id(clinic_a_);
  ev.set_patient_id(patient_);
  ev.set_appointment_id(NewId());
  *ev.mutable_occur_time() = ToProtoTimestamp(absl::Now());
  v1::ChargeEventResult first, again;
  ASSERT_TRUE(stub_->RecordChargeEvent(Ctx(service_).get(), ev, &first).ok());
  EXPECT_FALSE(first.replayed());
  EXPECT_EQ(first.invoice().status(), v1::INVOICE_ISSUED);
  EXPECT_EQ(first.invoice().totals().net().amount_minor(), 15000);
  EXPECT_EQ(first.invoice().number(), 1);
  ASSERT_TRUE(stub_->RecordChargeEvent(Ctx(clerk_).get(), ev, &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.invoice().id(), first.invoice().id());
  ev.set_type(v1::CHARGE_EVENT_LATE_CANCELLATION);
  EXPECT_THAT(stub_->RecordChargeEvent(Ctx(service_).get(), ev, &again),
              AllOf(GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "already recorded with different"),
                    HasReason(reason::kRequestIdReused)));
  EXPECT_THAT(stub_->RecordChargeEvent(Ctx(desk_a_).get(), ev, &again),
              AllOf(GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_SERVICE_CALL"),
                    HasReason(reason::kMissingPermission)));

  // A completed session of a plan with an accepted quote is charged at the quote's price.
  const std::string plan = NewId();
  v1::CreateQuoteRequest q;
  q.set_request_id("quote-plan");
  q.mutable_quote()->set_clinic_id(clinic_a_);
  q.mutable_quote()->set_patient_id(patient_);
  q.mutable_quote()->set_plan_id(plan);
  q.mutable_quote()->set_area(v1::TREATMENT_AREA_CROWN);
  q.mutable_quote()->set_sessions(2);
  q.mutable_quote()->set_discount_bp(500);
  *q.mutable_quote()->mutable_valid_until() = DateOf(Today() + 10);
  v1::Quote quote;
  ASSERT_TRUE(stub_->CreateQuote(Ctx(clerk_).get(), q, &quote).ok());
  v1::AcceptQuoteRequest accept;
  accept.set_request_id("accept-plan");
  accept.set_id(quote.id());
  accept.set_etag(quote.etag());
  ASSERT_TRUE(stub_->AcceptQuote(Ctx(clerk_).get(), accept, &quote).ok());
  // The plan's deposit pays the session's invoice as far as it goes.
  v1::RecordPaymentRequest deposit_req;
  deposit_req.set_request_id("deposit-plan");
  deposit_req.mutable_payment()->set_clinic_id(clinic_a_);
  deposit_req.mutable_payment()->set_patient_id(patient_);
  deposit_req.mutable_payment()->set_plan_id(plan);
  *deposit_req.mutable_payment()->mutable_amount() = M(50000);
  deposit_req.mutable_payment()->mutable_financing()->set_provider("CareCredit");
  deposit_req.mutable_payment()->mutable_financing()->set_reference("CC-99812");
  v1::Payment deposit;
  ASSERT_TRUE(stub_->RecordPayment(Ctx(desk_a_).get(), deposit_req, &deposit).ok());
  v1::RecordChargeEventRequest done;
  done.set_event_id("sched-evt-0002");
  done.set_type(v1::CHARGE_EVENT_SESSION_COMPLETED);
  done.set_completed_kind(v1::CHARGE_KIND_TREATMENT_SESSION);
  done.set_clinic_id(clinic_a_);
  done.set_patient_id(patient_);
  done.set_appointment_id(NewId());
  done.set_plan_id(plan);
  *done.mutable_occur_time() = ToProtoTimestamp(absl::Now());
  v1::ChargeEventResult session;
  ASSERT_TRUE(stub_->RecordChargeEvent(Ctx(service_).get(), done, &session).ok());
  EXPECT_EQ(session.invoice().totals().net().amount_minor(), 104500);  // 1100.00 less 5%
  EXPECT_EQ(session.invoice().totals().tax().amount_minor(), 8621);    // 8.25%, 86.2125
  EXPECT_EQ(session.invoice().number(), 2);
  EXPECT_EQ(session.invoice().amount_paid().amount_minor(), 50000);
  EXPECT_EQ(session.invoice().status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 0);

  v1::GetRevenueReportRequest rr;
  rr.set_clinic_id(clinic_a_);
  *rr.mutable_period()->mutable_start_date() = DateOf(Today() - 1);
  *rr.mutable_period()->mutable_end_date() = DateOf(Today() + 1);
  v1::RevenueReport report;
  ASSERT_TRUE(stub_->GetRevenueReport(Ctx(auditor_).get(), rr, &report).ok());
  EXPECT_EQ(report.invoices_issued(), 2);
  EXPECT_EQ(report.invoiced_net().amount_minor(), 15000 + 104500);
  EXPECT_EQ(report.collected().amount_minor(), 50000);

  v1::GetReceivablesAgingRequest ar;
  ar.set_clinic_id(clinic_a_);
  *ar.mutable_as_of_time() = ToProtoTimestamp(absl::Now() + absl::Hours(24 * 45));
  v1::ReceivablesAging aging;
  ASSERT_TRUE(stub_->GetReceivablesAging(Ctx(auditor_).get(), ar, &aging).ok());
  const int64_t due = session.invoice().amount_due().amount_minor() +
                      first.invoice().totals().total().amount_minor();
  EXPECT_EQ(aging.days_31_60().amount_minor(), due);
  EXPECT_EQ(aging.days_0_30().amount_minor(), 0);
  EXPECT_EQ(aging.total().amount_minor(), due);
}

}  // namespace
}  // namespace smp::billing
