#include "services/scheduling/schedule_rules.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr char kClinic[] = "01JD00000000000000000000C1";

v1::WeeklyInterval Interval(common::v1::DayOfWeek day, int h1, int m1, int h2, int m2) {
  v1::WeeklyInterval w;
  w.set_day(day);
  w.mutable_start_time()->set_hours(h1);
  w.mutable_start_time()->set_minutes(m1);
  w.mutable_end_time()->set_hours(h2);
  w.mutable_end_time()->set_minutes(m2);
  return w;
}

v1::ClinicSchedule Schedule() {
  v1::ClinicSchedule s;
  s.set_clinic_id(kClinic);
  s.set_time_zone("America/New_York");
  *s.add_opening_hours() = Interval(common::v1::MONDAY, 9, 0, 12, 0);
  *s.add_opening_hours() = Interval(common::v1::MONDAY, 13, 0, 24, 0);
  return s;
}

TEST(ScheduleRulesTest, DefaultsFillWhatIsUnset) {
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule s, NormalizeSchedule(Schedule()));
  EXPECT_EQ(ToDuration(s.buffer_after()), absl::Minutes(30));
  EXPECT_EQ(ToDuration(s.late_cancellation_window()), absl::Hours(48));
  EXPECT_EQ(ToDuration(s.hold_duration()), absl::Minutes(10));
  EXPECT_EQ(ToDuration(s.slot_step()), absl::Minutes(15));
  EXPECT_EQ(ToDuration(s.durations().treatment_session()), absl::Minutes(270));
  EXPECT_EQ(*AppointmentDuration(s, v1::CONSULTATION, nullptr), absl::Minutes(60));
  google::protobuf::Duration custom = ToProtoDuration(absl::Minutes(300));
  EXPECT_EQ(*AppointmentDuration(s, v1::TREATMENT_SESSION, &custom), absl::Minutes(300));
  google::protobuf::Duration odd = ToProtoDuration(absl::Minutes(7));
  EXPECT_THAT(AppointmentDuration(s, v1::CONSULTATION, &odd),
              StatusIs(kInvalid, HasSubstr("duration")));
}

TEST(ScheduleRulesTest, BadSettingsNameTheField) {
  v1::ClinicSchedule s = Schedule();
  s.set_time_zone("Nowhere/Else");
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("schedule.time_zone")));
  s = Schedule();
  *s.mutable_buffer_after() = ToProtoDuration(absl::Hours(3));
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("schedule.buffer_after")));
  s = Schedule();
  *s.mutable_slot_step() = ToProtoDuration(absl::Minutes(25));
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("schedule.slot_step")));
  s = Schedule();
  *s.add_opening_hours() = Interval(common::v1::MONDAY, 11, 0, 14, 0);
  EXPECT_THAT(NormalizeSchedule(s),
              StatusIs(kInvalid, HasSubstr("schedule.opening_hours[2]: overlaps")));
  s = Schedule();
  *s.add_opening_hours() = Interval(common::v1::TUESDAY, 18, 0, 9, 0);
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("cross midnight")));
  s = Schedule();
  *s.add_opening_hours() = Interval(common::v1::DAY_OF_WEEK_UNSPECIFIED, 9, 0, 10, 0);
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("day")));
  s = Schedule();
  *s.add_opening_hours() = Interval(common::v1::FRIDAY, 9, 7, 10, 0);
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("5-minute")));
  s = Schedule();
  *s.add_opening_hours() = Interval(common::v1::FRIDAY, 24, 30, 25, 0);
  EXPECT_THAT(NormalizeSchedule(s), StatusIs(kInvalid, HasSubstr("time of day")));
}

TEST(ScheduleRulesTest, ShiftsAreMinutesOfTheDay) {
  auto shifts = ToShifts(Schedule().opening_hours());
  ASSERT_EQ(shifts.size(), 2u);
  EXPECT_EQ(shifts[0].day, absl::Weekday::monday);
  EXPECT_EQ(shifts[0].start_minute, 540);
  EXPECT_EQ(shifts[1].end_minute, 1440);
}

TEST(ScheduleRulesTest, LocalDateTimesUseTheContractsDateRange) {
  common::v1::LocalDateTime when;
  when.mutable_date()->set_year(2026);
  when.mutable_date()->set_month(2);
  when.mutable_date()->set_day(30);
  when.mutable_time()->set_hours(9);
  EXPECT_THAT(ToCivilMinute("exception.start", when),
              StatusIs(kInvalid, HasSubstr("exception.start.date")));
  when.mutable_date()->set_day(28);
  EXPECT_THAT(ToCivilMinute("exception.start", when),
              IsOkAndHolds(absl::CivilMinute(2026, 2, 28, 9, 0)));
  when.mutable_date()->set_year(1899);
  EXPECT_THAT(ToCivilMinute("exception.start", when), StatusIs(kInvalid));
}

TEST(ScheduleRulesTest, Exceptions) {
  v1::ScheduleException e;
  e.set_clinic_id(kClinic);
  e.set_kind(v1::CLOSURE);
  e.mutable_start()->mutable_date()->set_year(2026);
  e.mutable_start()->mutable_date()->set_month(12);
  e.mutable_start()->mutable_date()->set_day(25);
  *e.mutable_end() = e.start();
  e.mutable_end()->mutable_date()->set_day(26);
  ASSERT_OK_AND_ASSIGN(LocalSpan span, ValidateException(e));
  EXPECT_EQ(span.end - span.start, 24 * 60);
  e.set_practitioner_id("01JD00000000000000000000T1");
  EXPECT_THAT(ValidateException(e), StatusIs(kInvalid, HasSubstr("practitioner_id")));
  e.set_kind(v1::LEAVE);
  EXPECT_OK(ValidateException(e).status());
  *e.mutable_end() = e.start();
  EXPECT_THAT(ValidateException(e), StatusIs(kInvalid, HasSubstr("exception.end")));
}

TEST(ScheduleRulesTest, Patients) {
  v1::Patient p;
  p.set_given_name("Sam");
  p.set_family_name("Rivera");
  p.set_phone("+12125550142");
  p.set_preferred_clinic_id(kClinic);
  const absl::CivilDay today(2026, 11, 25);
  EXPECT_OK(ValidatePatient(p, today));
  p.clear_phone();
  EXPECT_THAT(ValidatePatient(p, today), StatusIs(kInvalid, HasSubstr("phone number or an email")));
  p.set_email("sam@example.com");
  EXPECT_OK(ValidatePatient(p, today));
  p.mutable_birth_date()->set_year(2030);
  p.mutable_birth_date()->set_month(1);
  p.mutable_birth_date()->set_day(1);
  EXPECT_THAT(ValidatePatient(p, today), StatusIs(kInvalid, HasSubstr("future")));
  p.clear_birth_date();
  p.set_given_name("");
  EXPECT_THAT(ValidatePatient(p, today), StatusIs(kInvalid, HasSubstr("patient.given_name")));
}

}  // namespace
}  // namespace smp::scheduling
