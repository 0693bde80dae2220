#include "services/scheduling/plan_rules.h"

#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/scheduling/aftercare.h"
#include "services/scheduling/scheduling_reasons.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPatient[] = "01JD00000000000000000000P1";
constexpr char kClinic[] = "01JD00000000000000000000C1";
const absl::Time kDay0 = absl::FromUnixSeconds(1767261600);  // 2026-01-01 10:00 UTC
constexpr absl::Duration kDay = absl::Hours(24);

v1::TreatmentPlan NewPlan(int sessions = 3) {
  v1::TreatmentPlan plan;
  plan.set_id("01JD00000000000000000000PL");
  plan.set_patient_id(kPatient);
  plan.set_clinic_id(kClinic);
  plan.set_area(v1::HAIRLINE);
  plan.set_planned_sessions(sessions);
  EXPECT_OK(NormalizeNewPlan(plan));
  return plan;
}

void AddSession(v1::TreatmentPlan& plan, int number, absl::Time start,
                v1::AppointmentStatus status = v1::BOOKED) {
  v1::PlanSession* s = plan.add_sessions();
  s->set_session_number(number);
  *s->mutable_start_time() = ToProtoTimestamp(start);
  s->set_status(status);
}

TEST(PlanRulesTest, NewPlanDefaultsAndValidation) {
  v1::TreatmentPlan plan = NewPlan();
  EXPECT_EQ(plan.status(), v1::PLAN_ACTIVE);
  EXPECT_EQ(SpacingOf(plan).min_interval, 10 * kDay);
  EXPECT_EQ(SpacingOf(plan).max_interval, 42 * kDay);

  v1::TreatmentPlan bad = plan;
  bad.set_planned_sessions(5);
  EXPECT_THAT(NormalizeNewPlan(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("planned_sessions")));
  bad = plan;
  bad.set_area(v1::TREATMENT_AREA_UNSPECIFIED);
  EXPECT_THAT(NormalizeNewPlan(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("area")));
  bad = plan;
  bad.mutable_min_interval()->set_seconds(3600);
  EXPECT_THAT(NormalizeNewPlan(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_interval")));
  bad = plan;
  bad.mutable_max_interval()->set_seconds(5 * 86400);  // below min
  EXPECT_THAT(NormalizeNewPlan(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_interval")));
}

TEST(PlanRulesTest, SessionNumbersSkipCancelledAndStopAtThePlan) {
  v1::TreatmentPlan plan = NewPlan(2);
  EXPECT_EQ(*NextSessionNumber(plan), 1);
  AddSession(plan, 1, kDay0);
  EXPECT_EQ(*NextSessionNumber(plan), 2);
  AddSession(plan, 2, kDay0 + 14 * kDay, v1::CANCELLED);
  EXPECT_EQ(*NextSessionNumber(plan), 2);  // the cancelled one does not count
  AddSession(plan, 2, kDay0 + 15 * kDay);
  EXPECT_THAT(NextSessionNumber(plan),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("all 2 sessions")));
  plan.set_status(v1::PLAN_CANCELLED);
  EXPECT_THAT(NextSessionNumber(plan),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("PLAN_CANCELLED")));
}

// Issue 14: with session 2 of 3 cancelled (or missed, or stopped) after session 3 was booked,
// the rebooking is session 2 (the lowest free number), not a second session 3.
TEST(PlanRulesTest, ARebookingTakesTheLowestFreeNumber) {
  for (v1::AppointmentStatus gone : {v1::CANCELLED, v1::NOSHOW, v1::APPOINTMENT_STATUS_STOPPED}) {
    v1::TreatmentPlan plan = NewPlan(3);
    AddSession(plan, 1, kDay0, v1::FULFILLED);
    AddSession(plan, 2, kDay0 + 14 * kDay, gone);
    AddSession(plan, 3, kDay0 + 30 * kDay);
    EXPECT_EQ(*NextSessionNumber(plan), 2) << v1::AppointmentStatus_Name(gone);
  }
  v1::TreatmentPlan plan = NewPlan(4);
  AddSession(plan, 2, kDay0 + 14 * kDay);
  AddSession(plan, 4, kDay0 + 40 * kDay);
  EXPECT_EQ(*NextSessionNumber(plan), 1);
}

TEST(PlanRulesTest, SpacingMinAndMaxOnBothSides) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  v1::TreatmentPlan plan = NewPlan(3);
  AddSession(plan, 1, kDay0);
  Interval w2 = SpacingWindow(plan, kDay0 + 20 * kDay, utc, "");
  EXPECT_EQ(w2.start, kDay0 + 10 * kDay);
  EXPECT_EQ(w2.end, kDay0 + 42 * kDay);
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 10 * kDay, utc, ""));  // exactly the minimum
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 10 * kDay - absl::Minutes(1), utc, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("healing interval")));
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 42 * kDay, utc, ""));  // exactly the maximum
  const absl::Status late = CheckSessionSpacing(plan, 2, kDay0 + 43 * kDay, utc, "");
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(late), kOutsideSessionWindowReason);
  EXPECT_EQ(ErrorMetadata(late, "earliest_start"),
            absl::FormatTime(absl::RFC3339_sec, kDay0 + 10 * kDay, utc));
  EXPECT_EQ(ErrorMetadata(late, "latest_start"),
            absl::FormatTime(absl::RFC3339_sec, kDay0 + 42 * kDay, utc));

  // Rescheduling session 2 between booked sessions 1 and 3 honours both neighbours.
  v1::PlanSession* second = plan.add_sessions();
  second->set_session_number(2);
  second->set_appointment_id("second");
  *second->mutable_start_time() = ToProtoTimestamp(kDay0 + 20 * kDay);
  second->set_status(v1::BOOKED);
  AddSession(plan, 3, kDay0 + 35 * kDay);
  Interval between = SpacingWindow(plan, kDay0 + 20 * kDay, utc, "second");
  EXPECT_EQ(between.start, kDay0 + 10 * kDay);
  EXPECT_EQ(between.end, kDay0 + 25 * kDay);  // session 3 minus 10 days
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 26 * kDay, utc, "second"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 25 * kDay, utc, "second"));
  EXPECT_EQ(SpacingWindow(NewPlan(), kDay0, utc, "").start, absl::InfinitePast());
}

// Issue 14: session 2 of 3 cancelled, session 3 booked: the rebooking is spaced against sessions
// 1 and 3 (its nearest live sessions by time), not left unbounded for want of a session "1 or 3"
// numbered next to it.
TEST(PlanRulesTest, SpacingIsAgainstTheNearestLiveSessionsByTime) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  v1::TreatmentPlan plan = NewPlan(3);
  AddSession(plan, 1, kDay0, v1::FULFILLED);
  AddSession(plan, 2, kDay0 + 14 * kDay, v1::CANCELLED);
  AddSession(plan, 3, kDay0 + 30 * kDay);
  ASSERT_EQ(*NextSessionNumber(plan), 2);
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 15 * kDay, utc, ""));
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 25 * kDay, utc, ""),  // 5 days before 3
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("healing interval")));
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 5 * kDay, utc, ""),  // 5 days after 1
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // After session 3 it is spaced against 3 alone, both ways.
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 90 * kDay, utc, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 40 * kDay, utc, ""));

  // The window offered is the gap between 1 and 3, until it has passed.
  std::optional<Interval> gap = NextSessionWindow(plan, utc, kDay0 + kDay);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->start, kDay0 + 10 * kDay);
  EXPECT_EQ(gap->end, kDay0 + 20 * kDay);
  gap = NextSessionWindow(plan, utc, kDay0 + 21 * kDay);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->start, kDay0 + 40 * kDay);
  EXPECT_EQ(gap->end, kDay0 + 72 * kDay);
}

// Issue 14: 10 days after 10:00 on the Saturday before the UK's clocks go forward is 10:00 local
// again (9 days and 23 hours later), and the refusal names the clinic's local times.
TEST(PlanRulesTest, SpacingCountsLocalCalendarDaysAcrossDst) {
  absl::TimeZone london;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  const absl::Time first = absl::FromCivil(absl::CivilSecond(2026, 3, 21, 10, 0, 0), london);
  const absl::Time ten_days = absl::FromCivil(absl::CivilSecond(2026, 3, 31, 10, 0, 0), london);
  EXPECT_EQ(ten_days - first, absl::Hours(239));
  EXPECT_EQ(ShiftLocalDays(first, 10 * kDay, london), ten_days);
  EXPECT_EQ(ShiftLocalDays(ten_days, -10 * kDay, london), first);
  EXPECT_EQ(ShiftLocalDays(first, 10 * kDay + absl::Hours(2), london), ten_days + absl::Hours(2));
  v1::TreatmentPlan plan = NewPlan(2);
  AddSession(plan, 1, first);
  EXPECT_OK(CheckSessionSpacing(plan, 2, ten_days, london, ""));
  const absl::Status early = CheckSessionSpacing(plan, 2, ten_days - absl::Minutes(15), london, "");
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kFailedPrecondition,
                              HasSubstr("between 2026-03-31 10:00 BST and 2026-05-02 10:00 BST")));
  EXPECT_EQ(ErrorMetadata(early, "earliest_start"), "2026-03-31T10:00:00+01:00");
  ASSERT_TRUE(NextSessionWindow(plan, london, first).has_value());
  EXPECT_EQ(NextSessionWindow(plan, london, first)->start, ten_days);
}

TEST(PlanRulesTest, NextSessionWindowOnlyBetweenFirstAndLastSession) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  v1::TreatmentPlan plan = NewPlan(2);
  EXPECT_FALSE(NextSessionWindow(plan, utc, kDay0).has_value());  // nothing booked: no spacing
  AddSession(plan, 1, kDay0);
  ASSERT_TRUE(NextSessionWindow(plan, utc, kDay0).has_value());
  EXPECT_EQ(NextSessionWindow(plan, utc, kDay0)->start, kDay0 + 10 * kDay);
  EXPECT_EQ(NextSessionWindow(plan, utc, kDay0)->end, kDay0 + 42 * kDay);
  AddSession(plan, 2, kDay0 + 12 * kDay);
  EXPECT_FALSE(NextSessionWindow(plan, utc, kDay0).has_value());  // all booked
  plan.mutable_sessions()->RemoveLast();
  plan.set_status(v1::PLAN_CANCELLED);
  EXPECT_FALSE(NextSessionWindow(plan, utc, kDay0).has_value());
}

TEST(PlanRulesTest, TouchUpDueTwoToThreeYearsLater) {
  DayRange due = TouchUpDue(absl::CivilDay(2026, 3, 14));
  EXPECT_EQ(due.first, absl::CivilDay(2028, 3, 14));
  EXPECT_EQ(due.last, absl::CivilDay(2029, 3, 14));
  DayRange leap = TouchUpDue(absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(leap.first, absl::CivilDay(2030, 2, 28));
  EXPECT_EQ(leap.last, absl::CivilDay(2031, 2, 28));
}

TEST(PlanRulesTest, CompletingTheLastPlannedSessionCompletesThePlan) {
  v1::TreatmentPlan plan = NewPlan(2);
  AddSession(plan, 1, kDay0, v1::FULFILLED);
  plan.mutable_sessions(0)->set_appointment_id("A1");
  AddSession(plan, 2, kDay0 + 20 * kDay, v1::IN_PROGRESS);
  plan.mutable_sessions(1)->set_appointment_id("A2");
  const absl::CivilDay day(2026, 1, 21);

  // Completing session 1 again (a replay) does not count it twice.
  v1::TreatmentPlan replay = plan;
  EXPECT_FALSE(CompletePlanIfDone(replay, "A1", day));
  EXPECT_EQ(replay.status(), v1::PLAN_ACTIVE);

  ASSERT_TRUE(CompletePlanIfDone(plan, "A2", day));
  EXPECT_EQ(plan.status(), v1::PLAN_COMPLETED);
  EXPECT_EQ(FromLocalDate(plan.touch_up_due().start_date()), absl::CivilDay(2028, 1, 21));
  EXPECT_EQ(FromLocalDate(plan.touch_up_due().end_date()), absl::CivilDay(2029, 1, 21));

  // A plan already completed or cancelled is left alone.
  EXPECT_FALSE(CompletePlanIfDone(plan, "A2", day));
  v1::TreatmentPlan cancelled = NewPlan(2);
  cancelled.set_status(v1::PLAN_CANCELLED);
  AddSession(cancelled, 1, kDay0, v1::FULFILLED);
  EXPECT_FALSE(CompletePlanIfDone(cancelled, "A9", day));
  EXPECT_EQ(cancelled.status(), v1::PLAN_CANCELLED);
}

TEST(PlanRulesTest, CompletingAnEarlierSessionLeavesThePlanActive) {
  v1::TreatmentPlan plan = NewPlan(3);
  AddSession(plan, 1, kDay0, v1::IN_PROGRESS);
  plan.mutable_sessions(0)->set_appointment_id("A1");
  EXPECT_FALSE(CompletePlanIfDone(plan, "A1", absl::CivilDay(2026, 1, 1)));
  EXPECT_EQ(plan.status(), v1::PLAN_ACTIVE);
  EXPECT_FALSE(plan.has_touch_up_due());
}

TEST(AftercareTest, FourDaysDryThenLimitedSun) {
  auto items =
      AftercareSchedule(absl::CivilDay(2026, 6, 5), /*course_continues=*/true);  // a Friday
  ASSERT_EQ(items.size(), 4u);
  EXPECT_THAT(items[0].instruction(), HasSubstr("No washing"));
  EXPECT_EQ(items[0].from_date().day(), 5);
  EXPECT_EQ(items[0].until_date().day(), 9);
  EXPECT_THAT(items[2].instruction(), HasSubstr("45-60 minutes"));
  EXPECT_EQ(items[2].from_date().day(), 10);  // day 5
  EXPECT_FALSE(items[2].has_until_date());
  EXPECT_THAT(items[3].instruction(), HasSubstr("minoxidil"));
  EXPECT_EQ(AftercareSchedule(absl::CivilDay(2026, 6, 5), false).size(), 3u);
  // Month boundary.
  auto end_of_month = AftercareSchedule(absl::CivilDay(2026, 6, 28), false);
  EXPECT_EQ(end_of_month[0].until_date().month(), 7);
  EXPECT_EQ(end_of_month[0].until_date().day(), 2);
}

}  // namespace
}  // namespace smp::scheduling
