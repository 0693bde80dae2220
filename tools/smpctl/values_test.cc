#include "tools/smpctl/values.h"

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.pb.h"
#include "smp/common/v1/auth.pb.h"
#include "smp/scheduling/v1/scheduling.pb.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

using ::testing::HasSubstr;

TEST(Enums, ShortNamesBothWays) {
  EXPECT_EQ(EnumName(common::v1::ROLE_FRONT_DESK), "front_desk");
  EXPECT_EQ(EnumName(scheduling::v1::BOOKED), "booked");
  EXPECT_EQ(EnumName(billing::v1::INVOICE_DRAFT), "draft");
  EXPECT_EQ(EnumName(scheduling::v1::PLAN_ACTIVE), "active");
  EXPECT_EQ(EnumName(scheduling::v1::APPOINTMENT_STATUS_UNSPECIFIED), "");
  EXPECT_EQ(*ParseEnum<common::v1::Role>("role", "front-desk"), common::v1::ROLE_FRONT_DESK);
  EXPECT_EQ(*ParseEnum<common::v1::Role>("role", "ROLE_SERVICE"), common::v1::ROLE_SERVICE);
  EXPECT_EQ(*ParseEnum<scheduling::v1::AppointmentType>("type", "Sample_Patch"),
            scheduling::v1::SAMPLE_PATCH);
  absl::StatusOr<common::v1::Role> bad = ParseEnum<common::v1::Role>("role", "unspecified");
  EXPECT_TRUE(IsUsageError(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("admin, front_desk"));
}

TEST(Dates, StrictDates) {
  ASSERT_OK_AND_ASSIGN(absl::CivilDay d, ParseDate("from", "2026-02-28"));
  EXPECT_EQ(FormatDate(ToLocalDate(d)), "2026-02-28");
  for (const char* bad : {"2026-02-30", "2026-2-3", "26-02-03", "tomorrow", "2026-02-03x"}) {
    EXPECT_TRUE(IsUsageError(ParseDate("from", bad).status())) << bad;
  }
}

TEST(Times, AbsoluteAndLocal) {
  ASSERT_OK_AND_ASSIGN(TimeArg z, ParseTimeArg("start", "2026-12-01T15:00:00Z"));
  ASSERT_FALSE(z.needs_zone());
  EXPECT_EQ(absl::ToUnixSeconds(*z.instant), 1796137200);
  ASSERT_OK_AND_ASSIGN(TimeArg off, ParseTimeArg("start", "2026-12-01T10:00-05:00"));
  EXPECT_EQ(*off.instant, *z.instant);
  // As smpctl prints it.
  ASSERT_OK_AND_ASSIGN(TimeArg printed, ParseTimeArg("start", "2026-12-01 10:00 -05:00"));
  EXPECT_EQ(*printed.instant, *z.instant);
  ASSERT_OK_AND_ASSIGN(TimeArg local, ParseTimeArg("start", "2026-12-01T10:00"));
  ASSERT_TRUE(local.needs_zone());
  absl::TimeZone ny;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &ny));
  EXPECT_EQ(local.Resolve(ny), *z.instant);
  EXPECT_EQ(FormatInstant(*z.instant, ny), "2026-12-01 10:00 -05:00");
  EXPECT_EQ(FormatInstant(*z.instant, absl::UTCTimeZone()), "2026-12-01 15:00 +00:00");
  EXPECT_TRUE(IsUsageError(ParseTimeArg("start", "10am").status()));
  EXPECT_TRUE(IsUsageError(ParseTimeArg("start", "2026-13-01T10:00").status()));
}

TEST(Weekly, DaysAndRanges) {
  ASSERT_OK_AND_ASSIGN(std::vector<WeeklySpan> spans, ParseWeekly("open", "mon-fri/09:00-18:00"));
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[4].day, common::v1::FRIDAY);
  EXPECT_EQ(FormatWeekly(spans[0].day, spans[0].start, spans[0].end), "mon 09:00-18:00");
  ASSERT_OK_AND_ASSIGN(spans, ParseWeekly("open", "sat,sun/10:00-24:00"));
  EXPECT_EQ(spans.size(), 2u);
  ASSERT_OK_AND_ASSIGN(spans, ParseWeekly("open", "sat-mon/10:00-14:00"));
  EXPECT_EQ(spans.size(), 3u);
  EXPECT_TRUE(IsUsageError(ParseWeekly("open", "mon/9-5").status()));
  EXPECT_TRUE(IsUsageError(ParseWeekly("open", "moon/09:00-10:00").status()));
}

TEST(Durations, ParseAndFormat) {
  ASSERT_OK_AND_ASSIGN(google::protobuf::Duration d, ParseDuration("buffer", "4h30m"));
  EXPECT_EQ(d.seconds(), 16200);
  EXPECT_EQ(FormatDuration(d), "4h30m");
  EXPECT_TRUE(IsUsageError(ParseDuration("buffer", "-5m").status()));
  EXPECT_TRUE(IsUsageError(ParseDuration("buffer", "soon").status()));
}

TEST(Money, ExactParsing) {
  ASSERT_OK_AND_ASSIGN(common::v1::Money m, ParseMoney("amount", "4350.5", "USD"));
  EXPECT_EQ(m.amount_minor(), 435050);
  EXPECT_EQ(m.currency_code(), "USD");
  ASSERT_OK_AND_ASSIGN(m, ParseMoney("amount", "JPY 5000", ""));
  EXPECT_EQ(m.amount_minor(), 5000);
  ASSERT_OK_AND_ASSIGN(m, ParseMoney("amount", "12.34 EUR", "USD"));
  EXPECT_EQ(m.currency_code(), "EUR");
  EXPECT_EQ(m.amount_minor(), 1234);
  EXPECT_EQ(FormatMoneyOrEmpty(m), "EUR 12.34");
  EXPECT_TRUE(IsUsageError(ParseMoney("amount", "1.234", "USD").status()));
  EXPECT_TRUE(IsUsageError(ParseMoney("amount", "-5", "USD").status()));
  EXPECT_TRUE(IsUsageError(ParseMoney("amount", "5", "").status()));
  EXPECT_TRUE(IsUsageError(ParseMoney("amount", "5 usd", "").status()));
  EXPECT_TRUE(IsUsageError(ParseMoney("amount", "99999999999999999", "USD").status()));
}

}  // namespace
}  // namespace smp::smpctl
