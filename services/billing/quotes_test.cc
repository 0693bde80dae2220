#include "services/billing/quotes.h"

#include "services/billing/billing_test_env.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class QuotesTest : public PricedBillingUnitTest {
 protected:
  static v1::CreateQuoteRequest Request(const std::string& request_id, int sessions = 2) {
    v1::CreateQuoteRequest req;
    req.set_request_id(request_id);
    v1::Quote* q = req.mutable_quote();
    q->set_clinic_id(kClinicA);
    q->set_patient_id(kPatient);
    q->set_plan_id(kPlan);
    q->set_area(v1::TREATMENT_AREA_HAIRLINE);
    q->set_sessions(sessions);
    q->set_discount_bp(500);
    *q->mutable_valid_until() = ToLocalDate(absl::CivilDay(2026, 1, 31));
    return req;
  }

  static v1::AcceptQuoteRequest Accept(const std::string& request_id, const v1::Quote& quote) {
    v1::AcceptQuoteRequest req;
    req.set_request_id(request_id);
    req.set_id(quote.id());
    req.set_etag(quote.etag());
    return req;
  }

  Quotes quotes() { return Quotes(db_.get(), &store_); }
};

TEST_F(QuotesTest, PricesFromTheListInForceAndAcceptsOnce) {
  ASSERT_OK_AND_ASSIGN(v1::Quote quote, quotes().Create(Clerk("CreateQuote"), Request("q-1")));
  EXPECT_EQ(quote.status(), v1::QUOTE_OPEN);
  EXPECT_EQ(quote.totals().gross().amount_minor(), 240000);
  EXPECT_EQ(quote.totals().discount().amount_minor(), 12000);
  EXPECT_EQ(quote.totals().net().amount_minor(), 228000);
  EXPECT_EQ(quote.totals().tax().amount_minor(), 18810);  // 8.25% of 2280.00
  EXPECT_EQ(quote.late_cancellation_fee().amount_minor(), 10000);
  EXPECT_EQ(FromProtoTimestamp(quote.create_time()), kNow);

  v1::GetQuoteRequest get;
  get.set_id(quote.id());
  ASSERT_OK_AND_ASSIGN(v1::Quote read, quotes().Get(Desk("GetQuote"), get));
  EXPECT_EQ(read.etag(), quote.etag());

  ASSERT_OK_AND_ASSIGN(v1::Quote accepted,
                       quotes().Accept(Clerk("AcceptQuote"), Accept("a-1", quote)));
  EXPECT_EQ(accepted.status(), v1::QUOTE_ACCEPTED);
  EXPECT_EQ(FromProtoTimestamp(accepted.accept_time()), kNow);
  EXPECT_NE(accepted.etag(), quote.etag());
  ASSERT_OK_AND_ASSIGN(read, quotes().Get(Desk("GetQuote"), get));
  EXPECT_EQ(read.status(), v1::QUOTE_ACCEPTED);
}

TEST_F(QuotesTest, BadInputNamesTheField) {
  EXPECT_THAT(quotes().Create(Clerk("CreateQuote"), Request("q-bad", 5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quote.sessions")));
  v1::CreateQuoteRequest past = Request("q-bad");
  *past.mutable_quote()->mutable_valid_until() = ToLocalDate(absl::CivilDay(2026, 1, 14));
  EXPECT_THAT(quotes().Create(Clerk("CreateQuote"), past),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quote.valid_until")));
  v1::CreateQuoteRequest no_clinic = Request("q-bad");
  no_clinic.mutable_quote()->clear_clinic_id();
  EXPECT_THAT(quotes().Create(Clerk("CreateQuote"), no_clinic),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quote.clinic_id")));
  v1::AcceptQuoteRequest accept;
  accept.set_request_id("a-bad");
  accept.set_id(NewId());
  accept.set_etag("whatever");
  EXPECT_THAT(quotes().Accept(Clerk("AcceptQuote"), accept),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("etag")));
  accept.set_etag("v1");
  EXPECT_THAT(quotes().Accept(Clerk("AcceptQuote"), accept), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(QuotesTest, AnotherClinicsCallerIsRefused) {
  EXPECT_THAT(
      quotes().Create(OtherClinic("CreateQuote"), Request("q-b")),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  ASSERT_OK_AND_ASSIGN(v1::Quote quote, quotes().Create(Clerk("CreateQuote"), Request("q-a")));
  v1::GetQuoteRequest get;
  get.set_id(quote.id());
  EXPECT_THAT(quotes().Get(OtherClinic("GetQuote"), get), HasReason(reason::kOutsideClinicScope));
  EXPECT_THAT(
      quotes().Accept(OtherClinic("AcceptQuote"), Accept("a-b", quote)),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
}

TEST_F(QuotesTest, ReplaysReturnTheFirstResult) {
  ASSERT_OK_AND_ASSIGN(v1::Quote first, quotes().Create(Clerk("CreateQuote"), Request("q-1")));
  ASSERT_OK_AND_ASSIGN(v1::Quote again, quotes().Create(Clerk("CreateQuote"), Request("q-1")));
  EXPECT_EQ(again.id(), first.id());
  EXPECT_THAT(quotes().Create(Clerk("CreateQuote"), Request("q-1", 3)),
              HasReason(reason::kRequestIdReused));
  ASSERT_OK_AND_ASSIGN(v1::Quote accepted,
                       quotes().Accept(Clerk("AcceptQuote"), Accept("a-1", first)));
  ASSERT_OK_AND_ASSIGN(v1::Quote replayed,
                       quotes().Accept(Clerk("AcceptQuote"), Accept("a-1", first)));
  EXPECT_EQ(replayed.etag(), accepted.etag());
  EXPECT_EQ(replayed.status(), v1::QUOTE_ACCEPTED);
}

TEST_F(QuotesTest, StaleEtagIsAbortedNamingTheCurrentOne) {
  ASSERT_OK_AND_ASSIGN(v1::Quote quote, quotes().Create(Clerk("CreateQuote"), Request("q-1")));
  v1::AcceptQuoteRequest stale = Accept("a-stale", quote);
  stale.set_etag("v7");
  const absl::StatusOr<v1::Quote> refused = quotes().Accept(Clerk("AcceptQuote"), stale);
  EXPECT_THAT(refused, AllOf(StatusIs(absl::StatusCode::kAborted), HasReason(reason::kStaleEtag)));
  EXPECT_EQ(ErrorMetadata(refused.status(), "current_etag"), quote.etag());
}

TEST_F(QuotesTest, OnlyAnOpenUnexpiredQuoteIsAccepted) {
  ASSERT_OK_AND_ASSIGN(v1::Quote quote, quotes().Create(Clerk("CreateQuote"), Request("q-1")));
  ASSERT_OK_AND_ASSIGN(v1::Quote accepted,
                       quotes().Accept(Clerk("AcceptQuote"), Accept("a-1", quote)));
  EXPECT_THAT(quotes().Accept(Clerk("AcceptQuote"), Accept("a-2", accepted)),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not open")),
                    HasReason(billing_reason::kQuoteNotOpen)));

  ASSERT_OK_AND_ASSIGN(v1::Quote later, quotes().Create(Clerk("CreateQuote"), Request("q-2")));
  // valid_until is 2026-01-31 in New York; 2026-02-01 10:00 there is past it.
  Call february = Clerk("AcceptQuote");
  february.now = kNow + absl::Hours(24 * 17);
  EXPECT_THAT(quotes().Accept(february, Accept("a-3", later)),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition),
                    HasReason(billing_reason::kQuoteExpired)));
  // On the last valid day it is accepted.
  Call last_day = Clerk("AcceptQuote");
  last_day.now = kNow + absl::Hours(24 * 16);
  EXPECT_OK(quotes().Accept(last_day, Accept("a-4", later)).status());
}

TEST_F(QuotesTest, NoQuoteBeforeTheClinicHasPricesInForce) {
  v1::CreateQuoteRequest req = Request("q-b");
  req.mutable_quote()->set_clinic_id(kClinicB);
  EXPECT_THAT(quotes().Create(OtherClinic("CreateQuote"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quote.clinic_id")));
  SeedPriceList(kClinicB, absl::CivilDay(2026, 2, 1));
  EXPECT_THAT(quotes().Create(OtherClinic("CreateQuote"), req),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition),
                    HasReason(billing_reason::kNoPriceListInForce)));
}

}  // namespace
}  // namespace smp::billing
