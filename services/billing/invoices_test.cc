#include "services/billing/invoices.h"

#include "common/db/testing/recording_database.h"
#include "services/billing/billing_test_env.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class InvoicesTest : public PricedBillingUnitTest {
 protected:
  Invoices invoices() { return Invoices(db_.get(), &store_); }

  static v1::CreateInvoiceRequest Request(const std::string& request_id,
                                          std::vector<v1::Line> lines) {
    v1::CreateInvoiceRequest req;
    req.set_request_id(request_id);
    req.mutable_invoice()->set_clinic_id(kClinicA);
    req.mutable_invoice()->set_patient_id(kPatient);
    for (v1::Line& line : lines) *req.mutable_invoice()->add_lines() = std::move(line);
    return req;
  }

  v1::Invoice Draft(const std::string& key, int64_t unit_minor = 10000) {
    absl::StatusOr<v1::Invoice> inv =
        invoices().Create(Clerk("CreateInvoice"), Request(key, {LineOf(unit_minor)}));
    EXPECT_OK(inv.status());
    return inv.value_or(v1::Invoice());
  }

  static v1::IssueInvoiceRequest IssueOf(const std::string& key, const v1::Invoice& inv) {
    v1::IssueInvoiceRequest req;
    req.set_request_id(key);
    req.set_id(inv.id());
    req.set_etag(inv.etag());
    return req;
  }

  v1::Invoice Issued(const std::string& key, int64_t unit_minor = 10000) {
    absl::StatusOr<v1::Invoice> inv =
        invoices().Issue(Clerk("IssueInvoice"), IssueOf(key + "-issue", Draft(key, unit_minor)));
    EXPECT_OK(inv.status());
    return inv.value_or(v1::Invoice());
  }

  static v1::CreateCreditNoteRequest Credit(const std::string& key, const v1::Invoice& inv,
                                            int64_t minor) {
    v1::CreateCreditNoteRequest req;
    req.set_request_id(key);
    req.mutable_credit_note()->set_invoice_id(inv.id());
    *req.mutable_credit_note()->mutable_amount() = Usd(minor);
    req.mutable_credit_note()->set_reason("goodwill");
    return req;
  }
};

TEST_F(InvoicesTest, DraftIsPricedEditedThenIssuedWithTheNextNumber) {
  v1::Line discounted = LineOf(333, 3);
  discounted.set_discount_bp(1250);  // 12.5% of 9.99 = 1.24875 -> 1.25
  ASSERT_OK_AND_ASSIGN(
      v1::Invoice draft,
      invoices().Create(Clerk("CreateInvoice"), Request("inv-1", {discounted, LineOf(1000)})));
  EXPECT_EQ(draft.status(), v1::INVOICE_DRAFT);
  EXPECT_EQ(draft.number(), 0);
  EXPECT_EQ(draft.totals().net().amount_minor(), 874 + 1000);
  EXPECT_EQ(draft.totals().tax().amount_minor(), 155);  // 8.25% of 18.74 = 1.546 -> 1.55
  EXPECT_EQ(draft.amount_due().amount_minor(), 2029);

  v1::UpdateDraftInvoiceRequest edit;
  edit.set_request_id("edit-1");
  edit.set_id(draft.id());
  edit.set_etag(draft.etag());
  *edit.add_lines() = LineOf(20000);
  ASSERT_OK_AND_ASSIGN(v1::Invoice edited,
                       invoices().UpdateDraft(Clerk("UpdateDraftInvoice"), edit));
  EXPECT_EQ(edited.totals().total().amount_minor(), 21650);
  EXPECT_NE(edited.etag(), draft.etag());

  ASSERT_OK_AND_ASSIGN(v1::Invoice issued,
                       invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-1", edited)));
  EXPECT_EQ(issued.status(), v1::INVOICE_ISSUED);
  EXPECT_EQ(issued.number(), 1);
  EXPECT_EQ(FromProtoTimestamp(issued.issue_time()), kNow);
  EXPECT_EQ(Issued("inv-2").number(), 2);

  v1::GetInvoiceRequest get;
  get.set_id(issued.id());
  ASSERT_OK_AND_ASSIGN(v1::Invoice read, invoices().Get(Desk("GetInvoice"), get));
  EXPECT_EQ(read.number(), 1);
  EXPECT_EQ(read.etag(), issued.etag());
}

TEST_F(InvoicesTest, ListsNewestFirstInPagesOptionallyOfOnePatient) {
  for (int i = 0; i < 3; ++i) Draft(absl::StrCat("inv-", i));
  v1::CreateInvoiceRequest other = Request("inv-other", {LineOf(100)});
  other.mutable_invoice()->set_patient_id(NewId());
  ASSERT_OK(invoices().Create(Clerk("CreateInvoice"), other).status());
  v1::ListInvoicesRequest req;
  req.set_clinic_id(kClinicA);
  req.set_patient_id(kPatient);
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListInvoicesResponse first, invoices().List(Desk("ListInvoices"), req));
  ASSERT_EQ(first.invoices_size(), 2);
  EXPECT_GT(first.invoices(0).id(), first.invoices(1).id());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListInvoicesResponse second, invoices().List(Desk("ListInvoices"), req));
  ASSERT_EQ(second.invoices_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  req.clear_patient_id();
  req.clear_page_token();
  req.set_page_size(10);
  ASSERT_OK_AND_ASSIGN(v1::ListInvoicesResponse all, invoices().List(Desk("ListInvoices"), req));
  EXPECT_EQ(all.invoices_size(), 4);
}

TEST_F(InvoicesTest, BadInputNamesTheFieldAndStoresNothing) {
  EXPECT_THAT(invoices().Create(Clerk("CreateInvoice"), Request("bad-1", {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.lines")));
  v1::CreateInvoiceRequest bad_patient = Request("bad-2", {LineOf(100)});
  bad_patient.mutable_invoice()->set_patient_id("nope");
  EXPECT_THAT(invoices().Create(Clerk("CreateInvoice"), bad_patient),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.patient_id")));
  v1::Line eur = LineOf(100);
  eur.mutable_unit_price()->set_currency_code("EUR");
  EXPECT_THAT(invoices().Create(Clerk("CreateInvoice"), Request("bad-3", {LineOf(100), eur})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice.lines[1]")));
  const v1::Invoice inv = Issued("inv-1");
  v1::VoidInvoiceRequest no_reason;
  no_reason.set_request_id("void-1");
  no_reason.set_id(inv.id());
  no_reason.set_etag(inv.etag());
  EXPECT_THAT(invoices().Void(Clerk("VoidInvoice"), no_reason),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  EXPECT_THAT(invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-1", inv, -5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credit_note.amount")));
  v1::ListInvoicesRequest list;
  list.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::ListInvoicesResponse all, invoices().List(Desk("ListInvoices"), list));
  EXPECT_EQ(all.invoices_size(), 1);
}

TEST_F(InvoicesTest, AnotherClinicsCallerIsRefused) {
  EXPECT_THAT(
      invoices().Create(OtherClinic("CreateInvoice"), Request("inv-b", {LineOf(100)})),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  const v1::Invoice draft = Draft("inv-a");
  EXPECT_THAT(invoices().Issue(OtherClinic("IssueInvoice"), IssueOf("issue-b", draft)),
              HasReason(reason::kOutsideClinicScope));
  v1::GetInvoiceRequest get;
  get.set_id(draft.id());
  EXPECT_THAT(invoices().Get(OtherClinic("GetInvoice"), get),
              HasReason(reason::kOutsideClinicScope));
  v1::ListInvoicesRequest list;
  list.set_clinic_id(kClinicA);
  EXPECT_THAT(invoices().List(OtherClinic("ListInvoices"), list),
              HasReason(reason::kOutsideClinicScope));
  const v1::Invoice issued = Issued("inv-a2");
  EXPECT_THAT(
      invoices().CreateCreditNote(OtherClinic("CreateCreditNote"), Credit("cn-b", issued, 100)),
      HasReason(reason::kOutsideClinicScope));
}

TEST_F(InvoicesTest, ReplaysCountOnceAndKeepTheNumber) {
  const v1::Invoice draft = Draft("inv-1");
  EXPECT_EQ(Draft("inv-1").id(), draft.id());
  ASSERT_OK_AND_ASSIGN(v1::Invoice issued,
                       invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-1", draft)));
  ASSERT_OK_AND_ASSIGN(v1::Invoice again,
                       invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-1", draft)));
  EXPECT_EQ(again.number(), issued.number());
  EXPECT_EQ(Issued("inv-2").number(), 2);  // the replay took no number
  ASSERT_OK(
      invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-1", issued, 500)).status());
  ASSERT_OK(
      invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-1", issued, 500)).status());
  v1::GetInvoiceRequest get;
  get.set_id(issued.id());
  ASSERT_OK_AND_ASSIGN(v1::Invoice read, invoices().Get(Desk("GetInvoice"), get));
  EXPECT_EQ(read.amount_credited().amount_minor(), 500);
  EXPECT_THAT(invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-1", issued, 600)),
              HasReason(reason::kRequestIdReused));
}

TEST_F(InvoicesTest, StaleEtagIsAbortedBeforeAnyRule) {
  const v1::Invoice draft = Draft("inv-1");
  v1::UpdateDraftInvoiceRequest edit;
  edit.set_request_id("edit-1");
  edit.set_id(draft.id());
  edit.set_etag(draft.etag());
  *edit.add_lines() = LineOf(500);
  ASSERT_OK_AND_ASSIGN(v1::Invoice edited,
                       invoices().UpdateDraft(Clerk("UpdateDraftInvoice"), edit));
  edit.set_request_id("edit-2");
  const absl::StatusOr<v1::Invoice> stale =
      invoices().UpdateDraft(Clerk("UpdateDraftInvoice"), edit);
  EXPECT_THAT(stale, AllOf(StatusIs(absl::StatusCode::kAborted), HasReason(reason::kStaleEtag)));
  EXPECT_EQ(ErrorMetadata(stale.status(), "current_etag"), edited.etag());
  EXPECT_THAT(invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-stale", draft)),
              HasReason(reason::kStaleEtag));
  ASSERT_OK_AND_ASSIGN(v1::Invoice issued,
                       invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-1", edited)));
  // Stale and no longer a draft: the etag is reported first.
  v1::VoidInvoiceRequest void_req;
  void_req.set_request_id("void-stale");
  void_req.set_id(issued.id());
  void_req.set_etag(edited.etag());
  void_req.set_reason("typo");
  EXPECT_THAT(invoices().Void(Clerk("VoidInvoice"), void_req), HasReason(reason::kStaleEtag));
}

TEST_F(InvoicesTest, IssuedInvoicesAreNeverEditedOnlyCreditedOrVoidedUntouched) {
  const v1::Invoice issued = Issued("inv-1");  // 100.00 + 8.25 tax
  v1::UpdateDraftInvoiceRequest edit;
  edit.set_request_id("edit-1");
  edit.set_id(issued.id());
  edit.set_etag(issued.etag());
  *edit.add_lines() = LineOf(1);
  EXPECT_THAT(invoices().UpdateDraft(Clerk("UpdateDraftInvoice"), edit),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("never edited")),
                    HasReason(billing_reason::kInvoiceNotDraft)));
  EXPECT_THAT(invoices().Issue(Clerk("IssueInvoice"), IssueOf("issue-again", issued)),
              HasReason(billing_reason::kInvoiceNotDraft));

  // Credits: never to a draft, never above the invoice's total less earlier credits.
  const v1::Invoice draft = Draft("inv-2");
  EXPECT_THAT(invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-0", draft, 100)),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition),
                    HasReason(billing_reason::kInvoiceNotPayable)));
  const absl::StatusOr<v1::CreditNote> over =
      invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-1", issued, 10826));
  EXPECT_THAT(over, HasReason(billing_reason::kExceedsCreditable));
  EXPECT_EQ(ErrorMetadata(over.status(), "creditable_minor"), "10825");
  ASSERT_OK_AND_ASSIGN(
      v1::CreditNote note,
      invoices().CreateCreditNote(Clerk("CreateCreditNote"), Credit("cn-2", issued, 825)));
  EXPECT_EQ(note.clinic_id(), kClinicA);
  EXPECT_EQ(note.patient_id(), kPatient);
  EXPECT_EQ(note.to_credit_balance().amount_minor(), 0);  // all of it was due
  v1::GetInvoiceRequest get;
  get.set_id(issued.id());
  ASSERT_OK_AND_ASSIGN(v1::Invoice credited, invoices().Get(Desk("GetInvoice"), get));
  EXPECT_EQ(credited.status(), v1::INVOICE_PARTIALLY_PAID);
  EXPECT_EQ(credited.amount_due().amount_minor(), 10000);

  // A credited invoice cannot be voided; an untouched one can, keeping its number.
  v1::VoidInvoiceRequest void_req;
  void_req.set_request_id("void-1");
  void_req.set_id(credited.id());
  void_req.set_etag(credited.etag());
  void_req.set_reason("wrong patient");
  EXPECT_THAT(invoices().Void(Clerk("VoidInvoice"), void_req),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refund or credit")),
                    HasReason(billing_reason::kInvoiceNotVoidable)));
  const v1::Invoice untouched = Issued("inv-3");
  void_req.set_request_id("void-2");
  void_req.set_id(untouched.id());
  void_req.set_etag(untouched.etag());
  ASSERT_OK_AND_ASSIGN(v1::Invoice voided, invoices().Void(Clerk("VoidInvoice"), void_req));
  EXPECT_EQ(voided.status(), v1::INVOICE_VOID);
  EXPECT_EQ(voided.number(), untouched.number());
  EXPECT_EQ(voided.amount_due().amount_minor(), 0);
  EXPECT_EQ(voided.void_reason(), "wrong patient");
}

TEST_F(InvoicesTest, TaxInclusivePriceListPricesFromGrossPrices) {
  // Clinic B is a London branch: VAT-inclusive prices at 20%, in pounds.
  v1::PriceList london = PriceListOf(kClinicB, absl::CivilDay(2026, 1, 1), 120000, "GBP");
  london.set_time_zone("Europe/London");
  london.set_tax_rate_bp(2000);
  london.set_prices_include_tax(true);
  ASSERT_OK_AND_ASSIGN(absl::Time effective, ValidatePriceList(london));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.InsertPriceList(txn, london, effective, kNow - absl::Hours(24)).status();
  }));
  v1::CreateInvoiceRequest req = Request("london-1", {});
  req.mutable_invoice()->set_clinic_id(kClinicB);
  v1::Line kit = LineOf(0);
  *kit.mutable_unit_price() = MakeMoney(9999, "GBP");  // GBP 99.99, VAT included
  *req.mutable_invoice()->add_lines() = kit;
  ASSERT_OK_AND_ASSIGN(v1::Invoice inv, invoices().Create(OtherClinic("CreateInvoice"), req));
  EXPECT_TRUE(inv.prices_include_tax());
  EXPECT_EQ(inv.currency_code(), "GBP");
  EXPECT_EQ(inv.totals().total().amount_minor(), 9999);  // the patient pays the shelf price
  EXPECT_EQ(inv.totals().tax().amount_minor(), 1667);    // 99.99 x 0.2 / 1.2 = 16.665
  EXPECT_EQ(inv.totals().net().amount_minor(), 8332);
  EXPECT_EQ(inv.amount_due().amount_minor(), 9999);
  // Clinic A's list is tax-exclusive: its invoices add the tax on top as before.
  const v1::Invoice ny = Draft("ny-1", 9999);
  EXPECT_FALSE(ny.prices_include_tax());
  EXPECT_EQ(ny.totals().total().amount_minor(), 9999 + 825);  // 8.25% of 99.99 = 8.249
}

// Issuing takes the next number of the invoice's clinic: the transaction is queued behind the
// clinic's other number takers (WriteQueue "billing.invoice_number:<clinic>"), so that on
// PostgreSQL they take turns at the counter instead of colliding there (ABORTED once retries run
// out). Drafts take no number and queue on nothing.
TEST_F(InvoicesTest, IssueQueuesOnTheClinicsInvoiceCounter) {
  smp::testing::RecordingDatabase recorded(db_.get());
  Invoices queued(&recorded, &store_);
  ASSERT_OK_AND_ASSIGN(v1::Invoice draft,
                       queued.Create(Clerk("CreateInvoice"), Request("q", {LineOf(10000)})));
  EXPECT_EQ(recorded.TakeWriteQueues(), std::vector<std::string>{""});
  ASSERT_OK_AND_ASSIGN(v1::Invoice issued,
                       queued.Issue(Clerk("IssueInvoice"), IssueOf("q-issue", draft)));
  EXPECT_EQ(issued.number(), 1);
  EXPECT_EQ(recorded.TakeWriteQueues(),
            std::vector<std::string>{absl::StrCat("billing.invoice_number:", kClinicA)});
}

}  // namespace
}  // namespace smp::billing
