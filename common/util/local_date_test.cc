#include "common/util/local_date.h"

#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

common::v1::LocalDate Date(int y, int m, int d) {
  common::v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

TEST(ParseLocalDateTest, AcceptsTheContractsWholeRange) {
  EXPECT_THAT(ParseLocalDate("d", Date(1900, 1, 1)), IsOkAndHolds(absl::CivilDay(1900, 1, 1)));
  EXPECT_THAT(ParseLocalDate("d", Date(9999, 12, 31)), IsOkAndHolds(absl::CivilDay(9999, 12, 31)));
  EXPECT_THAT(ParseLocalDate("d", Date(2028, 2, 29)), IsOkAndHolds(absl::CivilDay(2028, 2, 29)));
}

TEST(ParseLocalDateTest, RefusesWhatIsNotACalendarDayNamingTheField) {
  EXPECT_THAT(ParseLocalDate("patient.birth_date", Date(1899, 12, 31)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("patient.birth_date: year")));
  EXPECT_THAT(ParseLocalDate("d", Date(10000, 1, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocalDate("d", Date(2027, 2, 29)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a calendar date")));
  EXPECT_THAT(ParseLocalDate("d", Date(2026, 13, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocalDate("d", Date(2026, 0, 1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocalDate("d", Date(2026, 4, 31)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocalDate("expiry", common::v1::LocalDate()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expiry: required")));
}

TEST(DayTextTest, RoundTripsAndRefusesOtherShapes) {
  EXPECT_EQ(DayText(absl::CivilDay(1901, 3, 4)), "1901-03-04");
  EXPECT_THAT(ParseDayText("from", "2026-12-05"), IsOkAndHolds(absl::CivilDay(2026, 12, 5)));
  EXPECT_THAT(ParseDayText("from", "1900-01-01"), IsOkAndHolds(absl::CivilDay(1900, 1, 1)));
  for (const char* bad : {"", "2026-1-05", "2026-12-5", "26-12-05", "2026/12/05", "2026-02-30",
                          "1899-12-31", "+026-12-05", "2026-12-05T10:00", "abcd-ef-gh"}) {
    EXPECT_THAT(ParseDayText("from", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from: ")))
        << bad;
  }
}

TEST(ValidatePeriodTest, BoundsTheSpanInclusively) {
  const absl::CivilDay jan1(2026, 1, 1);
  EXPECT_OK(ValidatePeriod("period", jan1, jan1, 1));
  EXPECT_OK(ValidatePeriod("period", jan1, jan1 + 365, 366));
  EXPECT_THAT(ValidatePeriod("period", jan1, jan1 + 366, 366),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spans 367 days; at most 366")));
  EXPECT_THAT(ValidatePeriod("period", jan1, jan1 - 1, 366),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("before start_date")));
}

TEST(ParseDateRangeTest, NamesTheBadEnd) {
  common::v1::DateRange range;
  *range.mutable_start_date() = Date(2026, 1, 1);
  *range.mutable_end_date() = Date(2026, 2, 30);
  EXPECT_THAT(ParseDateRange("period", range, 366),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period.end_date")));
  *range.mutable_end_date() = Date(2026, 1, 31);
  absl::StatusOr<LocalPeriod> period = ParseDateRange("period", range, 366);
  ASSERT_OK(period.status());
  EXPECT_EQ(period->first, absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(period->last, absl::CivilDay(2026, 1, 31));
  EXPECT_EQ(FromLocalDate(ToLocalDate(period->last)), period->last);
}

}  // namespace
}  // namespace smp
