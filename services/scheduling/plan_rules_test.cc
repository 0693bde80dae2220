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

TEST(PlanRulesTest, SpacingMinAndMaxOnBothSides) {
  v1::TreatmentPlan plan = NewPlan(3);
  AddSession(plan, 1, kDay0);
  Interval w2 = SessionWindow(plan, 2);
  EXPECT_EQ(w2.start, kDay0 + 10 * kDay);
  EXPECT_EQ(w2.end, kDay0 + 42 * kDay);
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 10 * kDay));  // exactly the minimum
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 10 * kDay - absl::Minutes(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("healing interval")));
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 42 * kDay));  // exactly the maximum
  const absl::Status late = CheckSessionSpacing(plan, 2, kDay0 + 43 * kDay);
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(late), kOutsideSessionWindowReason);
  EXPECT_EQ(ErrorMetadata(late, "earliest_start"),
            absl::FormatTime(absl::RFC3339_sec, kDay0 + 10 * kDay, absl::UTCTimeZone()));
  EXPECT_EQ(ErrorMetadata(late, "latest_start"),
            absl::FormatTime(absl::RFC3339_sec, kDay0 + 42 * kDay, absl::UTCTimeZone()));

  // Rescheduling session 2 between booked sessions 1 and 3 honours both neighbours.
  AddSession(plan, 2, kDay0 + 20 * kDay);
  AddSession(plan, 3, kDay0 + 35 * kDay);
  Interval between = SessionWindow(plan, 2);
  EXPECT_EQ(between.start, kDay0 + 10 * kDay);
  EXPECT_EQ(between.end, kDay0 + 25 * kDay);  // session 3 minus 10 days
  EXPECT_THAT(CheckSessionSpacing(plan, 2, kDay0 + 26 * kDay),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckSessionSpacing(plan, 2, kDay0 + 25 * kDay));
  // Session 1 is bounded only by session 2 (booked at day 20): 42 to 10 days before it.
  EXPECT_EQ(SessionWindow(plan, 1).start, kDay0 + 20 * kDay - 42 * kDay);
  EXPECT_EQ(SessionWindow(plan, 1).end, kDay0 + 10 * kDay);
  EXPECT_EQ(SessionWindow(NewPlan(), 1).start, absl::InfinitePast());
}

TEST(PlanRulesTest, NextSessionWindowOnlyBetweenFirstAndLastSession) {
  v1::TreatmentPlan plan = NewPlan(2);
  EXPECT_FALSE(NextSessionWindow(plan).has_value());  // nothing booked: no spacing yet
  AddSession(plan, 1, kDay0);
  ASSERT_TRUE(NextSessionWindow(plan).has_value());
  EXPECT_EQ(NextSessionWindow(plan)->start, kDay0 + 10 * kDay);
  EXPECT_EQ(NextSessionWindow(plan)->end, kDay0 + 42 * kDay);
  AddSession(plan, 2, kDay0 + 12 * kDay);
  EXPECT_FALSE(NextSessionWindow(plan).has_value());  // all booked
  plan.mutable_sessions()->RemoveLast();
  plan.set_status(v1::PLAN_CANCELLED);
  EXPECT_FALSE(NextSessionWindow(plan).has_value());
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
