#include "services/billing/price_lists.h"

#include "services/billing/billing_test_env.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class PriceListsTest : public BillingUnitTest {
 protected:
  v1::CreatePriceListRequest Request(const std::string& request_id, absl::CivilDay day,
                                     int64_t hairline = 120000,
                                     const std::string& currency = "USD") {
    v1::CreatePriceListRequest req;
    req.set_request_id(request_id);
    *req.mutable_price_list() = PriceListOf(kClinicA, day, hairline, currency);
    return req;
  }
};

TEST_F(PriceListsTest, CreatedVersionTakesEffectAtClinicLocalMidnight) {
  PriceLists lists(db_.get(), &store_);
  const Call call = Clerk("CreatePriceList");
  ASSERT_OK_AND_ASSIGN(v1::PriceList today,
                       lists.Create(call, Request("pl-1", absl::CivilDay(2026, 1, 15))));
  ASSERT_OK_AND_ASSIGN(v1::PriceList tomorrow,
                       lists.Create(call, Request("pl-2", absl::CivilDay(2026, 1, 16), 150000)));
  EXPECT_FALSE(today.id().empty());
  // Midnight in New York is 05:00 UTC in January.
  EXPECT_EQ(FromProtoTimestamp(today.effective_time()), absl::FromUnixSeconds(1768453200));

  v1::GetEffectivePriceListRequest get;
  get.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::PriceList now, lists.GetEffective(Desk("GetEffectivePriceList"), get));
  EXPECT_EQ(now.id(), today.id());
  EXPECT_EQ(now.session_prices().hairline().amount_minor(), 120000);
  *get.mutable_at_time() = ToProtoTimestamp(kNow + absl::Hours(14));  // 00:00 on the 16th
  ASSERT_OK_AND_ASSIGN(v1::PriceList later, lists.GetEffective(Desk("GetEffectivePriceList"), get));
  EXPECT_EQ(later.id(), tomorrow.id());
  EXPECT_EQ(later.session_prices().hairline().amount_minor(), 150000);
}

TEST_F(PriceListsTest, ListsNewestDateFirstInPages) {
  PriceLists lists(db_.get(), &store_);
  for (int d = 1; d <= 3; ++d) {
    ASSERT_OK(lists
                  .Create(Clerk("CreatePriceList"),
                          Request(absl::StrCat("pl-", d), absl::CivilDay(2026, 2, d)))
                  .status());
  }
  v1::ListPriceListsRequest req;
  req.set_clinic_id(kClinicA);
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListPriceListsResponse first, lists.List(Desk("ListPriceLists"), req));
  ASSERT_EQ(first.price_lists_size(), 2);
  EXPECT_EQ(first.price_lists(0).effective_date().day(), 3);
  EXPECT_EQ(first.price_lists(1).effective_date().day(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListPriceListsResponse second, lists.List(Desk("ListPriceLists"), req));
  ASSERT_EQ(second.price_lists_size(), 1);
  EXPECT_EQ(second.price_lists(0).effective_date().day(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  // A token belongs to its query.
  req.set_clinic_id(kClinicB);
  EXPECT_THAT(lists.List(OtherClinic("ListPriceLists"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

// Identity as one clinic's zone; `down` makes it unreachable.
class OneClinicZone final : public ClinicZoneSource {
 public:
  absl::StatusOr<std::string> ZoneOf(absl::string_view clinic_id) override {
    if (down) return absl::UnavailableError("identity is down");
    if (clinic_id != kClinicA) return absl::NotFoundError("clinic not found");
    return zone;
  }
  absl::StatusOr<std::vector<::smp::ClinicZone>> AllZones() override {
    if (down) return absl::UnavailableError("identity is down");
    return std::vector<::smp::ClinicZone>{{kClinicA, zone}};
  }
  std::string zone = "America/Chicago";
  bool down = false;
};

TEST_F(PriceListsTest, TheTimeZoneComesFromIdentityAndTheLastKnownOneStays) {
  OneClinicZone identity;
  PriceLists lists(db_.get(), &store_, &identity);
  v1::CreatePriceListRequest req = Request("pl-1", absl::CivilDay(2026, 1, 15));
  req.mutable_price_list()->clear_time_zone();
  ASSERT_OK_AND_ASSIGN(v1::PriceList saved, lists.Create(Clerk("CreatePriceList"), req));
  EXPECT_EQ(saved.time_zone(), "America/Chicago");
  // Midnight in Chicago is 06:00 UTC in January.
  EXPECT_EQ(FromProtoTimestamp(saved.effective_time()), absl::FromUnixSeconds(1768456800));
  req = Request("pl-2", absl::CivilDay(2026, 1, 20));  // says America/New_York
  EXPECT_THAT(lists.Create(Clerk("CreatePriceList"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price_list.time_zone")));

  // Identity moves the clinic: the refresh stores it and every reader sees the new zone.
  identity.zone = "America/Denver";
  EXPECT_THAT(lists.RefreshZones(kNow), ::smp::testing::IsOkAndHolds(1));
  EXPECT_THAT(lists.RefreshZones(kNow), ::smp::testing::IsOkAndHolds(0));
  v1::GetEffectivePriceListRequest get;
  get.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::PriceList now, lists.GetEffective(Desk("GetEffectivePriceList"), get));
  EXPECT_EQ(now.time_zone(), "America/Denver");

  // Identity down: a new version keeps the last known zone.
  identity.down = true;
  EXPECT_THAT(lists.RefreshZones(kNow), StatusIs(absl::StatusCode::kUnavailable));
  req = Request("pl-3", absl::CivilDay(2026, 2, 1));
  req.mutable_price_list()->clear_time_zone();
  ASSERT_OK_AND_ASSIGN(v1::PriceList offline, lists.Create(Clerk("CreatePriceList"), req));
  EXPECT_EQ(offline.time_zone(), "America/Denver");
}

TEST_F(PriceListsTest, BadInputNamesTheField) {
  PriceLists lists(db_.get(), &store_);
  v1::CreatePriceListRequest req = Request("pl-bad", absl::CivilDay(2026, 2, 1));
  req.mutable_price_list()->set_time_zone("Mars/Olympus");
  EXPECT_THAT(lists.Create(Clerk("CreatePriceList"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price_list.time_zone")));
  req = Request("pl-bad", absl::CivilDay(2026, 2, 1));
  req.mutable_price_list()->mutable_effective_date()->set_day(30);  // 2026-02-30
  EXPECT_THAT(lists.Create(Clerk("CreatePriceList"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price_list.effective_date")));
  req = Request("pl-bad", absl::CivilDay(2026, 2, 1));
  req.mutable_price_list()->mutable_effective_date()->set_year(1899);
  EXPECT_THAT(lists.Create(Clerk("CreatePriceList"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price_list.effective_date")));
  v1::GetEffectivePriceListRequest get;
  get.set_clinic_id("not-an-id");
  EXPECT_THAT(lists.GetEffective(Desk("GetEffectivePriceList"), get),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
  v1::ListPriceListsRequest list;
  list.set_clinic_id(kClinicA);
  list.set_page_size(-1);
  EXPECT_THAT(lists.List(Desk("ListPriceLists"), list),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  // Nothing was stored.
  get.set_clinic_id(kClinicA);
  EXPECT_THAT(lists.GetEffective(Desk("GetEffectivePriceList"), get),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no price list")));
}

TEST_F(PriceListsTest, AnotherClinicsCallerIsRefused) {
  SeedPriceList();
  PriceLists lists(db_.get(), &store_);
  EXPECT_THAT(
      lists.Create(OtherClinic("CreatePriceList"), Request("pl-b", absl::CivilDay(2026, 2, 1))),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  v1::GetEffectivePriceListRequest get;
  get.set_clinic_id(kClinicA);
  EXPECT_THAT(
      lists.GetEffective(OtherClinic("GetEffectivePriceList"), get),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
  v1::ListPriceListsRequest list;
  list.set_clinic_id(kClinicA);
  EXPECT_THAT(lists.List(OtherClinic("ListPriceLists"), list),
              HasReason(reason::kOutsideClinicScope));
}

TEST_F(PriceListsTest, ReplayReturnsTheFirstVersionAndAReusedKeyIsRefused) {
  PriceLists lists(db_.get(), &store_);
  const v1::CreatePriceListRequest req = Request("pl-once", absl::CivilDay(2026, 2, 1));
  ASSERT_OK_AND_ASSIGN(v1::PriceList first, lists.Create(Clerk("CreatePriceList"), req));
  ASSERT_OK_AND_ASSIGN(v1::PriceList again, lists.Create(Clerk("CreatePriceList"), req));
  EXPECT_EQ(again.id(), first.id());
  v1::ListPriceListsRequest list;
  list.set_clinic_id(kClinicA);
  ASSERT_OK_AND_ASSIGN(v1::ListPriceListsResponse all, lists.List(Desk("ListPriceLists"), list));
  EXPECT_EQ(all.price_lists_size(), 1);
  EXPECT_THAT(
      lists.Create(Clerk("CreatePriceList"), Request("pl-once", absl::CivilDay(2026, 3, 1))),
      AllOf(StatusIs(absl::StatusCode::kInvalidArgument), HasReason(reason::kRequestIdReused)));
}

TEST_F(PriceListsTest, OneVersionPerDateOneCurrencyPerClinicAndNoneBeforeTheFirst) {
  PriceLists lists(db_.get(), &store_);
  ASSERT_OK(
      lists.Create(Clerk("CreatePriceList"), Request("pl-1", absl::CivilDay(2026, 2, 1))).status());
  EXPECT_THAT(
      lists.Create(Clerk("CreatePriceList"), Request("pl-2", absl::CivilDay(2026, 2, 1), 99)),
      AllOf(StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already has a price list")),
            HasReason(billing_reason::kPriceListDateTaken)));
  EXPECT_THAT(
      lists.Create(Clerk("CreatePriceList"),
                   Request("pl-3", absl::CivilDay(2026, 3, 1), 99, "EUR")),
      AllOf(StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("currency cannot change")),
            HasReason(billing_reason::kCurrencyFixed)));
  // kNow is before 2026-02-01: the clinic is known but has no prices in force yet.
  v1::GetEffectivePriceListRequest get;
  get.set_clinic_id(kClinicA);
  EXPECT_THAT(lists.GetEffective(Desk("GetEffectivePriceList"), get),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition),
                    HasReason(billing_reason::kNoPriceListInForce)));
}

}  // namespace
}  // namespace smp::billing
