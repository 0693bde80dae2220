#include "services/billing/payments.h"

#include "services/billing/billing_test_env.h"
#include "services/billing/invoices.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class PaymentsTest : public PricedBillingUnitTest {
 protected:
  Payments payments() { return Payments(db_.get(), &store_); }

  // An issued invoice of one line (plus 8.25% tax), optionally of `plan`.
  v1::Invoice IssuedInvoice(const std::string& key, int64_t unit_minor,
                            const std::string& plan = "") {
    Invoices invoices(db_.get(), &store_);
    v1::CreateInvoiceRequest create;
    create.set_request_id(key);
    create.mutable_invoice()->set_clinic_id(kClinicA);
    create.mutable_invoice()->set_patient_id(kPatient);
    create.mutable_invoice()->set_plan_id(plan);
    *create.mutable_invoice()->add_lines() = LineOf(unit_minor);
    absl::StatusOr<v1::Invoice> draft = invoices.Create(Clerk("CreateInvoice"), create);
    EXPECT_OK(draft.status());
    v1::IssueInvoiceRequest issue;
    issue.set_request_id(key + "-issue");
    issue.set_id(draft->id());
    issue.set_etag(draft->etag());
    absl::StatusOr<v1::Invoice> issued = invoices.Issue(Clerk("IssueInvoice"), issue);
    EXPECT_OK(issued.status());
    return issued.value_or(v1::Invoice());
  }

  v1::Invoice Read(const std::string& id) {
    v1::GetInvoiceRequest get;
    get.set_id(id);
    absl::StatusOr<v1::Invoice> inv = Invoices(db_.get(), &store_).Get(Clerk("GetInvoice"), get);
    EXPECT_OK(inv.status());
    return inv.value_or(v1::Invoice());
  }

  // A cash payment of `invoice_id`, or with `plan` and no invoice a deposit.
  static v1::RecordPaymentRequest Cash(const std::string& key, const std::string& invoice_id,
                                       int64_t minor, const std::string& plan = "") {
    v1::RecordPaymentRequest req;
    req.set_request_id(key);
    v1::Payment* p = req.mutable_payment();
    p->set_clinic_id(kClinicA);
    p->set_patient_id(kPatient);
    p->set_invoice_id(invoice_id);
    p->set_plan_id(plan);
    *p->mutable_amount() = Usd(minor);
    p->mutable_cash();
    return req;
  }

  static v1::RefundPaymentRequest RefundOf(const std::string& key, const v1::Payment& payment,
                                           int64_t minor) {
    v1::RefundPaymentRequest req;
    req.set_request_id(key);
    req.mutable_refund()->set_payment_id(payment.id());
    *req.mutable_refund()->mutable_amount() = Usd(minor);
    req.mutable_refund()->set_reason("patient moved away");
    return req;
  }

  static v1::ApplyDepositRequest Apply(const std::string& key, const v1::Payment& deposit,
                                       const v1::Invoice& invoice, int64_t minor) {
    v1::ApplyDepositRequest req;
    req.set_request_id(key);
    req.set_deposit_id(deposit.id());
    req.set_invoice_id(invoice.id());
    *req.mutable_amount() = Usd(minor);
    return req;
  }

  v1::PatientBalance Balance() {
    v1::GetPatientBalanceRequest req;
    req.set_clinic_id(kClinicA);
    req.set_patient_id(kPatient);
    absl::StatusOr<v1::PatientBalance> balance = payments().Balance(Desk("GetPatientBalance"), req);
    EXPECT_OK(balance.status());
    return balance.value_or(v1::PatientBalance());
  }
};

TEST_F(PaymentsTest, PartPaymentsSettleTheInvoiceAndRefundsReopenIt) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);  // 108.25 due
  ASSERT_OK_AND_ASSIGN(v1::Payment part,
                       payments().Record(Desk("RecordPayment"), Cash("pay-1", inv.id(), 5000)));
  EXPECT_EQ(part.recorded_by(), "desk-a");
  EXPECT_EQ(part.amount_refunded().amount_minor(), 0);
  EXPECT_EQ(FromProtoTimestamp(part.create_time()), kNow);
  EXPECT_EQ(Read(inv.id()).status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 5825);
  EXPECT_EQ(Balance().open_invoices(), 1);
  ASSERT_OK(payments().Record(Desk("RecordPayment"), Cash("pay-2", inv.id(), 5825)).status());
  EXPECT_EQ(Read(inv.id()).status(), v1::INVOICE_PAID);
  EXPECT_EQ(Balance().amount_due().amount_minor(), 0);

  ASSERT_OK_AND_ASSIGN(v1::Refund refund,
                       payments().Refund(Clerk("RefundPayment"), RefundOf("ref-1", part, 2000)));
  EXPECT_EQ(refund.clinic_id(), kClinicA);
  const v1::Invoice reopened = Read(inv.id());
  EXPECT_EQ(reopened.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(reopened.amount_due().amount_minor(), 2000);
  v1::GetPaymentRequest get;
  get.set_id(part.id());
  ASSERT_OK_AND_ASSIGN(v1::Payment read, payments().Get(Desk("GetPayment"), get));
  EXPECT_EQ(read.amount_refunded().amount_minor(), 2000);
}

TEST_F(PaymentsTest, DepositsAreHeldForThePlanAndAppliedToItsInvoices) {
  ASSERT_OK_AND_ASSIGN(v1::Payment deposit,
                       payments().Record(Desk("RecordPayment"), Cash("dep-1", "", 50000, kPlan)));
  EXPECT_EQ(deposit.amount_applied().amount_minor(), 0);
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 50000);
  const v1::Invoice inv = IssuedInvoice("inv-plan", 100000, kPlan);  // 1082.50 due
  ASSERT_OK_AND_ASSIGN(
      v1::Payment applied,
      payments().ApplyDeposit(Desk("ApplyDeposit"), Apply("apply-1", deposit, inv, 30000)));
  EXPECT_EQ(applied.id(), deposit.id());
  EXPECT_EQ(applied.amount_applied().amount_minor(), 30000);
  EXPECT_EQ(Read(inv.id()).amount_due().amount_minor(), 108250 - 30000);
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 20000);
  // What was applied can no longer be refunded.
  const absl::StatusOr<v1::Refund> over =
      payments().Refund(Clerk("RefundPayment"), RefundOf("ref-1", applied, 20001));
  EXPECT_THAT(over, AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("exceeds")),
                          HasReason(billing_reason::kExceedsRefundable)));
  EXPECT_EQ(ErrorMetadata(over.status(), "refundable_minor"), "20000");
  EXPECT_OK(payments().Refund(Clerk("RefundPayment"), RefundOf("ref-2", applied, 20000)).status());
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 0);
}

TEST_F(PaymentsTest, DepositPaidInvoiceCanBeCreditedToPatientCreditAndUnapplied) {
  Invoices invoices(db_.get(), &store_);
  ASSERT_OK_AND_ASSIGN(v1::Payment deposit,
                       payments().Record(Desk("RecordPayment"), Cash("dep-1", "", 108250, kPlan)));
  const v1::Invoice inv = IssuedInvoice("inv-plan", 100000, kPlan);  // 1082.50 due
  ASSERT_OK(payments()
                .ApplyDeposit(Desk("ApplyDeposit"), Apply("apply-1", deposit, inv, 108250))
                .status());
  ASSERT_EQ(Read(inv.id()).status(), v1::INVOICE_PAID);

  // A credit note on the paid invoice: the whole credit goes to the patient's credit balance.
  v1::CreateCreditNoteRequest credit;
  credit.set_request_id("cn-1");
  credit.mutable_credit_note()->set_invoice_id(inv.id());
  *credit.mutable_credit_note()->mutable_amount() = Usd(8250);
  credit.mutable_credit_note()->set_reason("goodwill: session ran short");
  ASSERT_OK_AND_ASSIGN(v1::CreditNote note,
                       invoices.CreateCreditNote(Clerk("CreateCreditNote"), credit));
  EXPECT_EQ(note.to_credit_balance().amount_minor(), 8250);
  EXPECT_EQ(Balance().credit_balance().amount_minor(), 8250);
  EXPECT_EQ(Read(inv.id()).credited_to_balance().amount_minor(), 8250);
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 100000);

  // A later invoice uses the credit, never more than the patient holds.
  const v1::Invoice later = IssuedInvoice("inv-later", 10000);  // 108.25 due
  v1::ApplyPatientCreditRequest use;
  use.set_request_id("use-1");
  use.set_invoice_id(later.id());
  *use.mutable_amount() = Usd(8251);
  EXPECT_THAT(payments().ApplyCredit(Desk("ApplyPatientCredit"), use),
              HasReason(billing_reason::kExceedsCreditBalance));
  use.set_request_id("use-2");
  *use.mutable_amount() = Usd(8250);
  ASSERT_OK_AND_ASSIGN(v1::Invoice paid_from_credit,
                       payments().ApplyCredit(Desk("ApplyPatientCredit"), use));
  EXPECT_EQ(paid_from_credit.amount_due().amount_minor(), 10825 - 8250);
  ASSERT_OK(payments().ApplyCredit(Desk("ApplyPatientCredit"), use).status());  // a replay
  EXPECT_EQ(Balance().credit_balance().amount_minor(), 0);
  EXPECT_EQ(Read(later.id()).amount_due().amount_minor(), 10825 - 8250);

  // Undo part of the deposit application: the invoice owes it again, the deposit can refund it.
  v1::UnapplyDepositRequest undo;
  undo.set_request_id("undo-1");
  undo.set_deposit_id(deposit.id());
  undo.set_invoice_id(inv.id());
  *undo.mutable_amount() = Usd(100001);  // the invoice holds only 1000.00 paid now
  undo.set_reason("patient pays by card instead");
  const absl::StatusOr<v1::Payment> too_much =
      payments().UnapplyDeposit(Clerk("UnapplyDeposit"), undo);
  EXPECT_THAT(too_much, HasReason(billing_reason::kExceedsApplied));
  EXPECT_EQ(ErrorMetadata(too_much.status(), "applied_minor"), "100000");
  undo.set_request_id("undo-2");
  *undo.mutable_amount() = Usd(50000);
  ASSERT_OK_AND_ASSIGN(v1::Payment back, payments().UnapplyDeposit(Clerk("UnapplyDeposit"), undo));
  EXPECT_EQ(back.amount_applied().amount_minor(), 108250 - 50000);
  ASSERT_OK(payments().UnapplyDeposit(Clerk("UnapplyDeposit"), undo).status());  // a replay
  const v1::Invoice reopened = Read(inv.id());
  EXPECT_EQ(reopened.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(reopened.amount_due().amount_minor(), 50000);
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 50000);
  ASSERT_OK(payments().Refund(Clerk("RefundPayment"), RefundOf("ref-1", back, 50000)).status());
  EXPECT_EQ(Balance().unapplied_deposits().amount_minor(), 0);
  // The un-application is on record with who and why.
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT amount, recorded_by, reason FROM "
                                          "deposit_applications WHERE amount < 0",
                                          {}));
    EXPECT_EQ(rows.size(), 1u);
    if (rows.size() == 1) {
      EXPECT_EQ(rows[0].Int(0), -50000);
      EXPECT_EQ(rows[0].Text(1), "clerk-a");
      EXPECT_EQ(rows[0].Text(2), "patient pays by card instead");
    }
    return absl::OkStatus();
  }));

  // Credit beyond what is due goes to the balance, which can be paid back as a refund.
  credit.set_request_id("cn-2");
  *credit.mutable_credit_note()->mutable_amount() = Usd(60000);
  ASSERT_OK_AND_ASSIGN(note, invoices.CreateCreditNote(Clerk("CreateCreditNote"), credit));
  EXPECT_EQ(note.to_credit_balance().amount_minor(), 10000);
  EXPECT_EQ(Read(inv.id()).status(), v1::INVOICE_PAID);
  v1::RefundPatientCreditRequest payout;
  payout.set_request_id("payout-1");
  payout.set_clinic_id(kClinicA);
  payout.set_patient_id(kPatient);
  *payout.mutable_amount() = Usd(10001);
  payout.set_reason("credit paid back in cash");
  EXPECT_THAT(payments().RefundCredit(Clerk("RefundPatientCredit"), payout),
              HasReason(billing_reason::kExceedsCreditBalance));
  payout.set_request_id("payout-2");
  *payout.mutable_amount() = Usd(10000);
  ASSERT_OK_AND_ASSIGN(v1::Refund paid_back,
                       payments().RefundCredit(Clerk("RefundPatientCredit"), payout));
  EXPECT_EQ(paid_back.payment_id(), "");
  EXPECT_EQ(paid_back.patient_id(), kPatient);
  EXPECT_EQ(Balance().credit_balance().amount_minor(), 0);

  // Another clinic's clerk is refused before any rule answers.
  undo.set_request_id("undo-3");
  EXPECT_THAT(payments().UnapplyDeposit(OtherClinic("UnapplyDeposit"), undo),
              StatusIs(absl::StatusCode::kPermissionDenied));
  payout.set_request_id("payout-3");
  EXPECT_THAT(payments().RefundCredit(OtherClinic("RefundPatientCredit"), payout),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(PaymentsTest, ListsNewestFirstInPagesFilteredByInvoice) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(payments()
                  .Record(Desk("RecordPayment"), Cash(absl::StrCat("pay-", i), inv.id(), 100))
                  .status());
  }
  ASSERT_OK(payments().Record(Desk("RecordPayment"), Cash("dep", "", 100, kPlan)).status());
  v1::ListPaymentsRequest req;
  req.set_clinic_id(kClinicA);
  req.set_invoice_id(inv.id());
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsResponse first, payments().List(Desk("ListPayments"), req));
  ASSERT_EQ(first.payments_size(), 2);
  EXPECT_GT(first.payments(0).id(), first.payments(1).id());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsResponse second, payments().List(Desk("ListPayments"), req));
  EXPECT_EQ(second.payments_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  v1::ListPaymentsRequest all;
  all.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsResponse every, payments().List(Desk("ListPayments"), all));
  EXPECT_EQ(every.payments_size(), 4);
}

TEST_F(PaymentsTest, BadInputNamesTheFieldAndStoresNothing) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);
  EXPECT_THAT(payments().Record(Desk("RecordPayment"), Cash("bad-1", inv.id(), 100, kPlan)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.invoice_id")));
  v1::RecordPaymentRequest no_method = Cash("bad-2", inv.id(), 100);
  no_method.mutable_payment()->clear_cash();
  EXPECT_THAT(payments().Record(Desk("RecordPayment"), no_method),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.method")));
  EXPECT_THAT(payments().Record(Desk("RecordPayment"), Cash("bad-3", inv.id(), 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.amount")));
  v1::RecordPaymentRequest eur = Cash("bad-4", inv.id(), 100);
  eur.mutable_payment()->mutable_amount()->set_currency_code("EUR");
  EXPECT_THAT(payments().Record(Desk("RecordPayment"), eur),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("currency mismatch")));
  v1::GetPatientBalanceRequest balance;
  balance.set_clinic_id(kClinicA);
  EXPECT_THAT(payments().Balance(Desk("GetPatientBalance"), balance),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("patient_id")));
  v1::ListPaymentsRequest list;
  list.set_clinic_id(kClinicA);
  list.set_invoice_id("no");
  EXPECT_THAT(payments().List(Desk("ListPayments"), list),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_id")));
  v1::ApplyDepositRequest apply;
  apply.set_request_id("apply-bad");
  apply.set_deposit_id(NewId());
  EXPECT_THAT(payments().ApplyDeposit(Desk("ApplyDeposit"), apply),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_id")));
  v1::RefundPaymentRequest refund = RefundOf("ref-bad", v1::Payment(), 100);
  refund.mutable_refund()->set_payment_id(NewId());
  refund.mutable_refund()->clear_reason();
  EXPECT_THAT(payments().Refund(Clerk("RefundPayment"), refund),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("refund.reason")));
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 0);
  list.clear_invoice_id();
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsResponse none, payments().List(Desk("ListPayments"), list));
  EXPECT_EQ(none.payments_size(), 0);
}

TEST_F(PaymentsTest, AnotherClinicsCallerIsRefused) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);
  EXPECT_THAT(
      payments().Record(OtherClinic("RecordPayment"), Cash("pay-b", inv.id(), 100)),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  ASSERT_OK_AND_ASSIGN(v1::Payment payment,
                       payments().Record(Desk("RecordPayment"), Cash("pay-a", inv.id(), 100)));
  v1::GetPaymentRequest get;
  get.set_id(payment.id());
  EXPECT_THAT(payments().Get(OtherClinic("GetPayment"), get),
              HasReason(reason::kOutsideClinicScope));
  EXPECT_THAT(payments().Refund(OtherClinic("RefundPayment"), RefundOf("ref-b", payment, 100)),
              HasReason(reason::kOutsideClinicScope));
  ASSERT_OK_AND_ASSIGN(v1::Payment deposit,
                       payments().Record(Desk("RecordPayment"), Cash("dep", "", 100, kPlan)));
  EXPECT_THAT(
      payments().ApplyDeposit(OtherClinic("ApplyDeposit"), Apply("apply-b", deposit, inv, 100)),
      HasReason(reason::kOutsideClinicScope));
  v1::ListPaymentsRequest list;
  list.set_clinic_id(kClinicA);
  EXPECT_THAT(payments().List(OtherClinic("ListPayments"), list),
              HasReason(reason::kOutsideClinicScope));
  v1::GetPatientBalanceRequest balance;
  balance.set_clinic_id(kClinicA);
  balance.set_patient_id(kPatient);
  EXPECT_THAT(payments().Balance(OtherClinic("GetPatientBalance"), balance),
              HasReason(reason::kOutsideClinicScope));
  // A payment at clinic B naming clinic A's invoice is refused on the invoice's clinic.
  SeedPriceList(kClinicB);
  v1::RecordPaymentRequest at_b = Cash("pay-b2", inv.id(), 100);
  at_b.mutable_payment()->set_clinic_id(kClinicB);
  EXPECT_THAT(
      payments().Record(OtherClinic("RecordPayment"), at_b),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 100);
}

TEST_F(PaymentsTest, ReplayedPaymentCountsOnce) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);
  ASSERT_OK_AND_ASSIGN(v1::Payment first,
                       payments().Record(Desk("RecordPayment"), Cash("pay-1", inv.id(), 4000)));
  ASSERT_OK_AND_ASSIGN(v1::Payment again,
                       payments().Record(Desk("RecordPayment"), Cash("pay-1", inv.id(), 4000)));
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 4000);
  EXPECT_THAT(
      payments().Record(Desk("RecordPayment"), Cash("pay-1", inv.id(), 4001)),
      AllOf(StatusIs(absl::StatusCode::kInvalidArgument), HasReason(reason::kRequestIdReused)));
  // The same key from another caller is that caller's own key (issue 13: keys are per caller):
  // it is not handed the first caller's payment, it records its own.
  ASSERT_OK_AND_ASSIGN(v1::Payment clerks,
                       payments().Record(Clerk("RecordPayment"), Cash("pay-1", inv.id(), 4000)));
  EXPECT_NE(clerks.id(), first.id());
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 8000);
  ASSERT_OK(payments().Refund(Clerk("RefundPayment"), RefundOf("ref-1", first, 1000)).status());
  ASSERT_OK(payments().Refund(Clerk("RefundPayment"), RefundOf("ref-1", first, 1000)).status());
  EXPECT_EQ(Read(inv.id()).amount_paid().amount_minor(), 7000);
}

TEST_F(PaymentsTest, DomainRefusalsCarryTheirReasons) {
  const v1::Invoice inv = IssuedInvoice("inv-1", 10000);
  const absl::StatusOr<v1::Payment> over =
      payments().Record(Desk("RecordPayment"), Cash("pay-over", inv.id(), 10826));
  EXPECT_THAT(over, AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("exceeds")),
                          HasReason(billing_reason::kExceedsAmountDue)));
  ASSERT_OK_AND_ASSIGN(v1::Payment paid,
                       payments().Record(Desk("RecordPayment"), Cash("pay-all", inv.id(), 10825)));
  EXPECT_THAT(payments().Record(Desk("RecordPayment"), Cash("pay-more", inv.id(), 1)),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("INVOICE_PAID")),
                    HasReason(billing_reason::kInvoiceNotPayable)));

  // Deposits: only a deposit, only to its plan's invoices, only what it still holds.
  const v1::Invoice plan_inv = IssuedInvoice("inv-plan", 100000, kPlan);
  EXPECT_THAT(payments().ApplyDeposit(Desk("ApplyDeposit"), Apply("apply-1", paid, plan_inv, 1)),
              HasReason(billing_reason::kNotADeposit));
  ASSERT_OK_AND_ASSIGN(v1::Payment deposit,
                       payments().Record(Desk("RecordPayment"), Cash("dep-1", "", 5000, kPlan)));
  const v1::Invoice other_plan = IssuedInvoice("inv-other", 100000, NewId());
  EXPECT_THAT(
      payments().ApplyDeposit(Desk("ApplyDeposit"), Apply("apply-2", deposit, other_plan, 1)),
      HasReason(billing_reason::kDepositPlanMismatch));
  const absl::StatusOr<v1::Payment> too_much =
      payments().ApplyDeposit(Desk("ApplyDeposit"), Apply("apply-3", deposit, plan_inv, 5001));
  EXPECT_THAT(too_much, HasReason(billing_reason::kExceedsDeposit));
  EXPECT_EQ(ErrorMetadata(too_much.status(), "unapplied_minor"), "5000");
  EXPECT_EQ(Read(plan_inv.id()).amount_paid().amount_minor(), 0);
  // A deposit for a clinic billing does not know is refused naming the field.
  v1::RecordPaymentRequest unknown = Cash("dep-b", "", 100, kPlan);
  unknown.mutable_payment()->set_clinic_id(kClinicB);
  EXPECT_THAT(payments().Record(OtherClinic("RecordPayment"), unknown),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("payment.clinic_id")));
}

}  // namespace
}  // namespace smp::billing
