#include "services/scheduling/availability.h"

#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::scheduling {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr absl::Weekday kAllDays[] = {absl::Weekday::monday,    absl::Weekday::tuesday,
                                      absl::Weekday::wednesday, absl::Weekday::thursday,
                                      absl::Weekday::friday,    absl::Weekday::saturday,
                                      absl::Weekday::sunday};

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

constexpr int Min(int hour, int minute = 0) { return hour * 60 + minute; }

// An instant stated in UTC, so DST expectations do not go through the code under test.
absl::Time Utc(int64_t year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0), absl::UTCTimeZone());
}

// A local time that occurs exactly once in `zone`.
absl::Time Local(absl::TimeZone zone, absl::CivilDay day, int minute_of_day) {
  const absl::TimeZone::TimeInfo ti = zone.At(absl::CivilSecond(day) + 60 * minute_of_day);
  EXPECT_EQ(ti.kind, absl::TimeZone::TimeInfo::UNIQUE) << day << " +" << minute_of_day << "min";
  return ti.pre;
}

// Local starts from `from` to `to` minutes inclusive on a day without a transition.
std::vector<absl::Time> LocalRange(absl::TimeZone zone, absl::CivilDay day, int from, int to,
                                   int step = 15) {
  std::vector<absl::Time> out;
  for (int m = from; m <= to; m += step) out.push_back(Local(zone, day, m));
  return out;
}

std::vector<absl::Time> UtcRange(absl::Time from, absl::Time to,
                                 absl::Duration step = absl::Minutes(15)) {
  std::vector<absl::Time> out;
  for (absl::Time t = from; t <= to; t += step) out.push_back(t);
  return out;
}

std::vector<absl::Time> Concat(std::vector<absl::Time> a, const std::vector<absl::Time>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<absl::Time> Starts(const AvailabilityResult& result) {
  std::vector<absl::Time> out;
  for (const Slot& s : result.slots) out.push_back(s.start);
  return out;
}

std::vector<absl::Time> StartsOf(const AvailabilityResult& result, const std::string& id) {
  std::vector<absl::Time> out;
  for (const Slot& s : result.slots) {
    if (s.practitioner_id == id) out.push_back(s.start);
  }
  return out;
}

using Offer = std::pair<absl::Time, std::string>;  // (start, practitioner_id)

std::vector<Offer> Offers(const AvailabilityResult& result) {
  std::vector<Offer> out;
  for (const Slot& s : result.slots) out.emplace_back(s.start, s.practitioner_id);
  return out;
}

// Every slot lasts exactly `duration` in absolute time; slots strictly ordered by (start, id).
void ExpectWellFormed(const AvailabilityResult& result, absl::Duration duration) {
  for (std::size_t i = 0; i < result.slots.size(); ++i) {
    const Slot& s = result.slots[i];
    EXPECT_EQ(s.end - s.start, duration) << "slot " << i << " at " << s.start;
    EXPECT_FALSE(s.chair_id.empty()) << "slot " << i;
    if (i > 0) {
      const Slot& p = result.slots[i - 1];
      EXPECT_TRUE(p.start < s.start ||
                  (p.start == s.start && p.practitioner_id < s.practitioner_id))
          << "slots " << i - 1 << " and " << i << " out of order";
    }
  }
}

std::vector<WeeklyShift> EveryDay(int start_minute, int end_minute) {
  std::vector<WeeklyShift> out;
  for (absl::Weekday d : kAllDays) out.push_back({d, start_minute, end_minute});
  return out;
}

std::vector<WeeklyShift> Weekdays(int start_minute, int end_minute) {
  std::vector<WeeklyShift> out;
  for (absl::Weekday d : kAllDays) {
    if (d != absl::Weekday::saturday && d != absl::Weekday::sunday) {
      out.push_back({d, start_minute, end_minute});
    }
  }
  return out;
}

PractitionerCalendar Cal(std::string id, std::vector<WeeklyShift> weekly) {
  PractitionerCalendar cal;
  cal.practitioner_id = std::move(id);
  cal.weekly = std::move(weekly);
  return cal;
}

ChairCalendar Chair(std::string id) {
  ChairCalendar chair;
  chair.chair_id = std::move(id);
  return chair;
}

LocalSpan Span(absl::CivilDay day, int start_minute, int end_minute) {
  const absl::CivilMinute midnight(day);
  return {midnight + start_minute, midnight + end_minute};
}

// ---------------------------------------------------------------------------------------------
// ToInterval

TEST(ToIntervalTest, UniqueBoundaries) {
  const absl::TimeZone chicago = Zone("America/Chicago");
  const Interval i = ToInterval(Span(absl::CivilDay(2026, 4, 14), Min(9), Min(17)), chicago);
  EXPECT_EQ(i.start, Utc(2026, 4, 14, 14, 0));  // CDT = UTC-5
  EXPECT_EQ(i.end, Utc(2026, 4, 14, 22, 0));
  const Interval to_midnight =
      ToInterval(Span(absl::CivilDay(2026, 4, 14), Min(22), Min(24)), chicago);
  EXPECT_EQ(to_midnight.end, Utc(2026, 4, 15, 5, 0));
}

TEST(ToIntervalTest, GapBoundariesMapToTheTransition) {
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::CivilDay day(2026, 3, 8);  // 02:00 EST -> 03:00 EDT at 07:00Z
  const absl::Time transition = Utc(2026, 3, 8, 7, 0);
  Interval i = ToInterval(Span(day, Min(2, 30), Min(4)), ny);
  EXPECT_EQ(i.start, transition);
  EXPECT_EQ(i.end, Utc(2026, 3, 8, 8, 0));
  i = ToInterval(Span(day, Min(1), Min(2, 30)), ny);
  EXPECT_EQ(i.start, Utc(2026, 3, 8, 6, 0));
  EXPECT_EQ(i.end, transition);
  i = ToInterval(Span(day, Min(2, 15), Min(2, 45)), ny);  // wholly inside the gap: empty
  EXPECT_EQ(i.start, transition);
  EXPECT_EQ(i.end, transition);
}

TEST(ToIntervalTest, RepeatedBoundariesCoverTheWholeWallClockPeriod) {
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::CivilDay day(2026, 11, 1);  // 01:00-02:00 twice: EDT (05:00Z..) then EST (06:00Z..)
  Interval i = ToInterval(Span(day, Min(1, 30), Min(3)), ny);
  EXPECT_EQ(i.start, Utc(2026, 11, 1, 5, 30));  // the earlier 01:30 (EDT)
  EXPECT_EQ(i.end, Utc(2026, 11, 1, 8, 0));
  i = ToInterval(Span(day, Min(0), Min(1, 30)), ny);
  EXPECT_EQ(i.start, Utc(2026, 11, 1, 4, 0));
  EXPECT_EQ(i.end, Utc(2026, 11, 1, 6, 30));  // the later 01:30 (EST)
  i = ToInterval(Span(day, Min(1, 15), Min(1, 45)), ny);
  EXPECT_EQ(i.start, Utc(2026, 11, 1, 5, 15));
  EXPECT_EQ(i.end, Utc(2026, 11, 1, 6, 45));
  EXPECT_EQ(i.end - i.start, absl::Minutes(90));

  const absl::TimeZone london = Zone("Europe/London");
  i = ToInterval(Span(absl::CivilDay(2026, 10, 25), Min(1), Min(2)), london);
  EXPECT_EQ(i.start, Utc(2026, 10, 25, 0, 0));  // 01:00 BST
  EXPECT_EQ(i.end, Utc(2026, 10, 25, 2, 0));    // 02:00 GMT
}

TEST(ToIntervalTest, EmptyOrInvertedSpanIsEmpty) {
  const absl::TimeZone ny = Zone("America/New_York");
  Interval i = ToInterval(Span(absl::CivilDay(2026, 11, 1), Min(1, 30), Min(1, 30)), ny);
  EXPECT_EQ(i.start, Utc(2026, 11, 1, 5, 30));
  EXPECT_EQ(i.end, i.start);
  i = ToInterval(Span(absl::CivilDay(2026, 4, 14), Min(10), Min(9)), ny);
  EXPECT_EQ(i.start, Utc(2026, 4, 14, 14, 0));
  EXPECT_EQ(i.end, i.start);
}

// ---------------------------------------------------------------------------------------------
// FindSlots on an ordinary day: Austin, Tuesday 2026-04-14 (CDT, no transition near).

class PlainDayTest : public ::testing::Test {
 protected:
  PlainDayTest() {
    query_.zone = zone_;
    query_.opening_hours = EveryDay(Min(9), Min(18));
    query_.first_day = day_;
    query_.last_day = day_;
    query_.duration = absl::Minutes(60);
    query_.buffer_after = absl::Minutes(30);
    practitioners_ = {Cal("p-ana", EveryDay(Min(9), Min(17)))};
    chairs_ = {Chair("chair-1")};
  }

  absl::Time At(int minute_of_day) const { return Local(zone_, day_, minute_of_day); }
  std::vector<absl::Time> Range(int from, int to, int step = 15) const {
    return LocalRange(zone_, day_, from, to, step);
  }
  AvailabilityResult Find() const {
    AvailabilityResult r = FindSlots(query_, practitioners_, chairs_);
    ExpectWellFormed(r, query_.duration);
    return r;
  }
  PractitionerCalendar Practitioner(std::string id) const {
    return Cal(std::move(id), EveryDay(Min(9), Min(17)));
  }

  absl::TimeZone zone_ = Zone("America/Chicago");
  absl::CivilDay day_{2026, 4, 14};
  AvailabilityQuery query_;
  std::vector<PractitionerCalendar> practitioners_;
  std::vector<ChairCalendar> chairs_;
};

TEST_F(PlainDayTest, OffersEveryStepThatFitsTheShift) {
  const AvailabilityResult r = Find();
  EXPECT_THAT(Starts(r), ElementsAreArray(Range(Min(9), Min(16))));
  ASSERT_EQ(r.slots.size(), 29u);
  EXPECT_EQ(r.slots.front().start, Utc(2026, 4, 14, 14, 0));
  EXPECT_EQ(r.slots.front().end, At(Min(10)));
  EXPECT_EQ(r.slots.back().start, At(Min(16)));
  EXPECT_EQ(r.slots.back().end, At(Min(17)));
  EXPECT_EQ(r.slots.front().practitioner_id, "p-ana");
  EXPECT_EQ(r.slots.front().chair_id, "chair-1");
  EXPECT_FALSE(r.truncated);
}

TEST_F(PlainDayTest, AnAppointmentBlocksItsBufferToo) {
  // Existing appointment 11:00-12:00 plus 30 min cleaning: busy [11:00, 12:30). A new block
  // [s, s + 90 min) must end by 11:00 or start at 12:30.
  const Interval busy{At(Min(11)), At(Min(12, 30))};
  practitioners_[0].busy.push_back(busy);
  chairs_[0].busy.push_back(busy);
  const AvailabilityResult r = Find();
  EXPECT_THAT(Starts(r),
              ElementsAreArray(Concat(Range(Min(9), Min(9, 30)), Range(Min(12, 30), Min(16)))));
}

TEST_F(PlainDayTest, StepsAreLocalMultiplesFromMidnight) {
  query_.step = absl::Minutes(40);  // 09:20 is 14 x 40 min after midnight; 09:00 is not a multiple
  EXPECT_THAT(Starts(Find()), ElementsAreArray(Range(Min(9, 20), Min(16), 40)));
  query_.step = absl::Minutes(60);
  EXPECT_THAT(Starts(Find()), ElementsAreArray(Range(Min(9), Min(16), 60)));
}

TEST_F(PlainDayTest, NotBeforeAndNotAfterAreInclusive) {
  query_.not_before = At(Min(10, 7));
  query_.not_after = At(Min(11));
  EXPECT_THAT(Starts(Find()), ElementsAreArray(Range(Min(10, 15), Min(11))));
}

// ---------------------------------------------------------------------------------------------
// Edges of the day and split opening hours.

TEST_F(PlainDayTest, ShiftEndingAtMidnight) {
  query_.opening_hours = EveryDay(0, 1440);
  practitioners_[0].weekly = EveryDay(Min(20), 1440);
  const AvailabilityResult r = Find();
  EXPECT_THAT(Starts(r), ElementsAreArray(Range(Min(20), Min(23))));
  ASSERT_FALSE(r.slots.empty());
  EXPECT_EQ(r.slots.back().end, Local(zone_, day_ + 1, 0));
}

TEST_F(PlainDayTest, LateWindowTooShortForALongSession) {
  query_.opening_hours = EveryDay(Min(22), 1440);
  practitioners_[0].weekly = EveryDay(Min(22), 1440);
  query_.duration = absl::Minutes(270);
  EXPECT_THAT(Find().slots, IsEmpty());
}

TEST_F(PlainDayTest, WindowsMeetingAtMidnightJoin) {
  // Tuesday 22:00-24:00 and Wednesday 00:00-03:00: one period of five hours.
  query_.opening_hours = {{absl::Weekday::tuesday, Min(22), 1440},
                          {absl::Weekday::wednesday, 0, Min(3)}};
  practitioners_[0].weekly = query_.opening_hours;
  query_.duration = absl::Minutes(270);
  const AvailabilityResult r = Find();  // Tuesday starts only, though they end on Wednesday
  EXPECT_THAT(Starts(r), ElementsAreArray(Range(Min(22), Min(22, 30))));
  ASSERT_FALSE(r.slots.empty());
  EXPECT_EQ(r.slots.back().end, Local(zone_, day_ + 1, Min(3)));
}

TEST_F(PlainDayTest, NoSlotSpansTheLunchBreak) {
  query_.opening_hours = {{absl::Weekday::tuesday, Min(9), Min(12)},
                          {absl::Weekday::tuesday, Min(13), Min(18)}};
  EXPECT_THAT(Starts(Find()),
              ElementsAreArray(Concat(Range(Min(9), Min(11)), Range(Min(13), Min(16)))));
}

TEST_F(PlainDayTest, ShiftsOutsideTheirRangeAreIgnored) {
  practitioners_[0].weekly = {{absl::Weekday::tuesday, Min(17), Min(9)},
                              {absl::Weekday::tuesday, -60, Min(12)},
                              {absl::Weekday::tuesday, Min(12), 1500},
                              {absl::Weekday::tuesday, Min(14), Min(16)}};
  EXPECT_THAT(Starts(Find()), ElementsAreArray(Range(Min(14), Min(15))));
}

// ---------------------------------------------------------------------------------------------
// Buffers.

TEST_F(PlainDayTest, BackToBackAppointmentsKeepTheBufferBetweenThem) {
  query_.opening_hours = EveryDay(Min(8), Min(18));
  practitioners_[0].weekly = EveryDay(Min(8), Min(18));
  const Interval busy{At(Min(10)), At(Min(11, 30))};  // 10:00-11:00 + 30 min buffer
  practitioners_[0].busy.push_back(busy);
  chairs_[0].busy.push_back(busy);
  // Before it: 08:30 + 60 + 30 ends exactly at 10:00. After it: from 11:30.
  EXPECT_THAT(Starts(Find()),
              ElementsAreArray(Concat(Range(Min(8), Min(8, 30)), Range(Min(11, 30), Min(17)))));
}

TEST_F(PlainDayTest, BufferMayRunPastClosing) {
  practitioners_[0].weekly = EveryDay(Min(9), Min(18));
  const AvailabilityResult r = Find();
  EXPECT_THAT(Starts(r), ElementsAreArray(Range(Min(9), Min(17))));
  ASSERT_FALSE(r.slots.empty());
  EXPECT_EQ(r.slots.back().end, At(Min(18)));  // ends at closing; cleaning runs to 18:30
}

TEST_F(PlainDayTest, BufferMustNotRunIntoABusyPeriodAfterClosing) {
  practitioners_[0].weekly = EveryDay(Min(9), Min(18));
  practitioners_[0].busy.push_back({At(Min(18, 15)), At(Min(19))});  // e.g. at another clinic
  EXPECT_THAT(Starts(Find()), ElementsAreArray(Range(Min(9), Min(16, 45))));
}

// ---------------------------------------------------------------------------------------------
// Chairs.

TEST_F(PlainDayTest, TwoPractitionersShareOneChairWhileItIsFree) {
  practitioners_ = {Practitioner("p-ben"), Practitioner("p-ana")};
  chairs_[0].busy.push_back({At(Min(12)), At(Min(13, 30))});  // someone else's appointment
  const AvailabilityResult r = Find();
  std::vector<Offer> expected;
  for (absl::Time s : Concat(Range(Min(9), Min(10, 30)), Range(Min(13, 30), Min(16)))) {
    expected.emplace_back(s, "p-ana");
    expected.emplace_back(s, "p-ben");
  }
  EXPECT_THAT(Offers(r), ElementsAreArray(expected));
  for (const Slot& s : r.slots) EXPECT_EQ(s.chair_id, "chair-1");
}

TEST_F(PlainDayTest, TheLowestFreeChairIsNamed) {
  chairs_ = {Chair("chair-2"), Chair("chair-1")};
  chairs_[1].busy.push_back({At(Min(9)), At(Min(10, 30))});
  const AvailabilityResult r = Find();
  ASSERT_EQ(r.slots.size(), 29u);
  for (const Slot& s : r.slots) {
    EXPECT_EQ(s.chair_id, s.start < At(Min(10, 30)) ? "chair-2" : "chair-1") << s.start;
  }
}

TEST_F(PlainDayTest, NoFreeChairNoSlot) {
  chairs_[0].busy.push_back({At(Min(8)), At(Min(20))});
  EXPECT_THAT(Find().slots, IsEmpty());
  chairs_.clear();
  EXPECT_THAT(Find().slots, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Practitioners' exceptions and commitments elsewhere. Tuesday 2026-04-14 .. Saturday 04-18.

TEST_F(PlainDayTest, LeaveRemovesOnlyThatPractitionersTime) {
  practitioners_ = {Practitioner("p-ana"), Practitioner("p-ben")};
  practitioners_[0].leave.push_back(Span(day_, 0, 1440));
  query_.last_day = day_ + 1;
  const AvailabilityResult r = Find();
  EXPECT_THAT(StartsOf(r, "p-ana"), ElementsAreArray(LocalRange(zone_, day_ + 1, Min(9), Min(16))));
  EXPECT_THAT(StartsOf(r, "p-ben"),
              ElementsAreArray(
                  Concat(Range(Min(9), Min(16)), LocalRange(zone_, day_ + 1, Min(9), Min(16)))));
}

TEST_F(PlainDayTest, PartialLeave) {
  practitioners_[0].leave.push_back(Span(day_, Min(13), Min(15)));
  EXPECT_THAT(Starts(Find()),
              ElementsAreArray(Concat(Range(Min(9), Min(12)), Range(Min(15), Min(16)))));
}

TEST_F(PlainDayTest, ClosureRemovesEveryone) {
  practitioners_ = {Practitioner("p-ana"), Practitioner("p-ben")};
  query_.last_day = day_ + 1;
  query_.closures.push_back(Span(day_ + 1, 0, 1440));
  query_.closures.push_back(Span(day_, Min(12), Min(14)));
  const AvailabilityResult r = Find();
  const std::vector<absl::Time> tuesday = Concat(Range(Min(9), Min(11)), Range(Min(14), Min(16)));
  EXPECT_THAT(StartsOf(r, "p-ana"), ElementsAreArray(tuesday));
  EXPECT_THAT(StartsOf(r, "p-ben"), ElementsAreArray(tuesday));
}

TEST_F(PlainDayTest, ExtraShiftOnADayOffAddsSlotsInsideOpeningHoursOnly) {
  const absl::CivilDay saturday = day_ + 4;
  const absl::CivilDay sunday = day_ + 5;
  ASSERT_EQ(absl::GetWeekday(saturday), absl::Weekday::saturday);
  query_.opening_hours = Weekdays(Min(9), Min(18));
  query_.opening_hours.push_back({absl::Weekday::saturday, Min(9), Min(14)});  // closed Sundays
  query_.first_day = saturday;
  query_.last_day = sunday;
  practitioners_ = {Practitioner("p-ana"), Practitioner("p-ben")};
  practitioners_[0].weekly = practitioners_[1].weekly = Weekdays(Min(9), Min(17));
  practitioners_[0].extra_shifts = {Span(saturday, Min(8), Min(16)), Span(sunday, Min(9), Min(17))};
  const AvailabilityResult r = Find();
  EXPECT_THAT(StartsOf(r, "p-ana"), ElementsAreArray(LocalRange(zone_, saturday, Min(9), Min(13))));
  EXPECT_THAT(StartsOf(r, "p-ben"), IsEmpty());
}

TEST_F(PlainDayTest, BusyAtAnotherClinicBlocks) {
  practitioners_ = {Practitioner("p-ana"), Practitioner("p-ben")};
  // Ana treats a patient in Denver 12:00-16:30 Mountain time (13:00-17:30 here), buffer included.
  const absl::TimeZone denver = Zone("America/Denver");
  practitioners_[0].busy.push_back(
      {Local(denver, day_, Min(12)), Local(denver, day_, Min(16, 30))});
  const AvailabilityResult r = Find();
  EXPECT_THAT(StartsOf(r, "p-ana"), ElementsAreArray(Range(Min(9), Min(11, 30))));
  EXPECT_THAT(StartsOf(r, "p-ben"), ElementsAreArray(Range(Min(9), Min(16))));
}

// ---------------------------------------------------------------------------------------------
// Result shape.

TEST_F(PlainDayTest, MaxSlotsTruncates) {
  query_.max_slots = 3;
  AvailabilityResult r = Find();
  EXPECT_THAT(Starts(r), ElementsAre(At(Min(9)), At(Min(9, 15)), At(Min(9, 30))));
  EXPECT_TRUE(r.truncated);
  query_.max_slots = 29;  // exactly all of them
  r = Find();
  EXPECT_EQ(r.slots.size(), 29u);
  EXPECT_FALSE(r.truncated);
  query_.max_slots = 0;
  r = Find();
  EXPECT_THAT(r.slots, IsEmpty());
  EXPECT_TRUE(r.truncated);
}

TEST_F(PlainDayTest, TruncationCountsPractitionersAtTheSameStart) {
  practitioners_ = {Practitioner("p-ben"), Practitioner("p-ana")};
  query_.max_slots = 3;
  const AvailabilityResult r = Find();
  EXPECT_THAT(Offers(r), ElementsAre(Offer{At(Min(9)), "p-ana"}, Offer{At(Min(9)), "p-ben"},
                                     Offer{At(Min(9, 15)), "p-ana"}));
  EXPECT_TRUE(r.truncated);
}

TEST_F(PlainDayTest, SortedByStartThenPractitionerWithoutDuplicates) {
  PractitionerCalendar ana_again = Practitioner("p-ana");
  ana_again.weekly = EveryDay(Min(15), Min(18));
  practitioners_ = {Practitioner("p-ben"), Practitioner("p-ana"), ana_again};
  practitioners_[0].weekly = EveryDay(Min(15), Min(17));
  practitioners_[1].weekly = EveryDay(Min(15), Min(17));
  const AvailabilityResult r = Find();
  std::vector<Offer> expected;
  for (absl::Time s : Range(Min(15), Min(16))) {
    expected.emplace_back(s, "p-ana");
    expected.emplace_back(s, "p-ben");
  }
  for (absl::Time s : Range(Min(16, 15), Min(17))) expected.emplace_back(s, "p-ana");
  EXPECT_THAT(Offers(r), ElementsAreArray(expected));
}

TEST_F(PlainDayTest, DegenerateInputsGiveNothing) {
  const AvailabilityQuery good = query_;
  query_.duration = absl::ZeroDuration();
  EXPECT_THAT(Find().slots, IsEmpty());
  query_ = good;
  query_.step = absl::ZeroDuration();
  EXPECT_THAT(Find().slots, IsEmpty());
  query_ = good;
  query_.step = absl::Milliseconds(500);
  EXPECT_THAT(Find().slots, IsEmpty());
  query_ = good;
  query_.first_day = day_ + 1;
  EXPECT_THAT(Find().slots, IsEmpty());
  query_ = good;
  query_.not_before = At(Min(12));
  query_.not_after = At(Min(11));
  EXPECT_THAT(Find().slots, IsEmpty());
  query_ = good;
  EXPECT_THAT(FindSlots(query_, {}, chairs_).slots, IsEmpty());
  query_.buffer_after = absl::Minutes(-30);  // counts as zero
  practitioners_[0].busy.push_back({At(Min(12)), At(Min(13))});
  EXPECT_THAT(Starts(Find()),
              ElementsAreArray(Concat(Range(Min(9), Min(11)), Range(Min(13), Min(16)))));
}

// ---------------------------------------------------------------------------------------------
// Plan spacing: session 2 at least 10 and at most 42 days after session 1.

TEST(PlanSpacingTest, NotBeforeAndNotAfterBoundTheNextSession) {
  const absl::TimeZone zone = Zone("America/Chicago");
  const absl::Time previous = Local(zone, absl::CivilDay(2026, 4, 6), Min(10));  // a Monday
  AvailabilityQuery q;
  q.zone = zone;
  q.opening_hours = Weekdays(Min(9), Min(18));
  q.first_day = absl::CivilDay(2026, 4, 1);
  q.last_day = absl::CivilDay(2026, 6, 30);
  q.duration = absl::Minutes(270);
  q.buffer_after = absl::Minutes(30);
  q.not_before = previous + absl::Hours(24 * 10);
  q.not_after = previous + absl::Hours(24 * 42);
  q.max_slots = 1000;
  const AvailabilityResult r =
      FindSlots(q, {Cal("p-ana", Weekdays(Min(9), Min(18)))}, {Chair("c")});
  ExpectWellFormed(r, q.duration);
  ASSERT_FALSE(r.slots.empty());
  EXPECT_EQ(r.slots.front().start, Local(zone, absl::CivilDay(2026, 4, 16), Min(10)));
  EXPECT_EQ(r.slots.back().start, Local(zone, absl::CivilDay(2026, 5, 18), Min(10)));
  // Thu 16th from 10:00 (15), Fri 17th (19), four full weeks (20 x 19), Mon 18 May to 10:00 (5).
  EXPECT_EQ(r.slots.size(), 15u + 19u + 380u + 5u);
  EXPECT_FALSE(r.truncated);
}

// ---------------------------------------------------------------------------------------------
// DST. Each clinic is open 00:00-06:00 local ("edge hours") on the day of the change.

AvailabilityResult EdgeHours(absl::TimeZone zone, absl::CivilDay day, absl::Duration duration,
                             int open_from = 0, int open_to = Min(6)) {
  AvailabilityQuery q;
  q.zone = zone;
  q.opening_hours = EveryDay(open_from, open_to);
  q.first_day = day;
  q.last_day = day;
  q.duration = duration;
  q.buffer_after = absl::Minutes(30);
  AvailabilityResult r = FindSlots(q, {Cal("p-ana", EveryDay(0, Min(8)))}, {Chair("chair-1")});
  ExpectWellFormed(r, duration);
  return r;
}

absl::CivilSecond LocalOf(absl::Time t, absl::TimeZone zone) { return zone.At(t).cs; }

TEST(DstTest, SpringForwardNewYorkSkipsTheMissingHour) {
  const absl::TimeZone ny = Zone("America/New_York");
  // 00:00 EST = 05:00Z; 02:00 EST becomes 03:00 EDT at 07:00Z; 06:00 EDT = 10:00Z (5 real hours).
  const AvailabilityResult r = EdgeHours(ny, absl::CivilDay(2026, 3, 8), absl::Minutes(60));
  EXPECT_THAT(Starts(r), ElementsAreArray(UtcRange(Utc(2026, 3, 8, 5, 0), Utc(2026, 3, 8, 9, 0))));
  for (const Slot& s : r.slots) EXPECT_NE(LocalOf(s.start, ny).hour(), 2) << s.start;
  ASSERT_EQ(r.slots.size(), 17u);
  EXPECT_EQ(LocalOf(r.slots[7].start, ny), absl::CivilSecond(2026, 3, 8, 1, 45, 0));
  EXPECT_EQ(LocalOf(r.slots[8].start, ny), absl::CivilSecond(2026, 3, 8, 3, 0, 0));
}

TEST(DstTest, SpringForwardLongSessionLastsRealHours) {
  const absl::TimeZone ny = Zone("America/New_York");
  const AvailabilityResult r = EdgeHours(ny, absl::CivilDay(2026, 3, 8), absl::Minutes(270));
  EXPECT_THAT(Starts(r),
              ElementsAre(Utc(2026, 3, 8, 5, 0), Utc(2026, 3, 8, 5, 15), Utc(2026, 3, 8, 5, 30)));
  ASSERT_FALSE(r.slots.empty());
  EXPECT_EQ(LocalOf(r.slots[0].start, ny), absl::CivilSecond(2026, 3, 8, 0, 0, 0));
  EXPECT_EQ(r.slots[0].end, Utc(2026, 3, 8, 9, 30));
  EXPECT_EQ(LocalOf(r.slots[0].end, ny), absl::CivilSecond(2026, 3, 8, 5, 30, 0));
}

TEST(DstTest, SpringForwardOpeningInsideTheGapStartsAtTheTransition) {
  const absl::TimeZone ny = Zone("America/New_York");
  const AvailabilityResult r =
      EdgeHours(ny, absl::CivilDay(2026, 3, 8), absl::Minutes(60), Min(2, 30), Min(6));
  // Open from the transition (03:00 EDT = 07:00Z) to 06:00 EDT.
  EXPECT_THAT(Starts(r), ElementsAreArray(UtcRange(Utc(2026, 3, 8, 7, 0), Utc(2026, 3, 8, 9, 0))));
}

TEST(DstTest, FallBackNewYorkOffersTheRepeatedHourTwice) {
  const absl::TimeZone ny = Zone("America/New_York");
  // 00:00 EDT = 04:00Z; 01:00-01:59 occur at 05:00Z (EDT) and 06:00Z (EST); 06:00 EST = 11:00Z.
  const AvailabilityResult r = EdgeHours(ny, absl::CivilDay(2026, 11, 1), absl::Minutes(60));
  EXPECT_THAT(Starts(r),
              ElementsAreArray(UtcRange(Utc(2026, 11, 1, 4, 0), Utc(2026, 11, 1, 10, 0))));
  std::vector<absl::Time> at_0130;
  for (const Slot& s : r.slots) {
    if (LocalOf(s.start, ny) == absl::CivilSecond(2026, 11, 1, 1, 30, 0))
      at_0130.push_back(s.start);
  }
  EXPECT_THAT(at_0130, ElementsAre(Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 1, 6, 30)));
  ASSERT_EQ(at_0130.size(), 2u);
  EXPECT_EQ(at_0130[1] - at_0130[0], absl::Hours(1));
}

TEST(DstTest, FallBackOpeningEndingInTheRepeatedHourCoversBothOccurrences) {
  const absl::TimeZone ny = Zone("America/New_York");
  // Open 00:00 to the later 01:30 (06:30Z): 2.5 real hours.
  const AvailabilityResult r =
      EdgeHours(ny, absl::CivilDay(2026, 11, 1), absl::Minutes(30), 0, Min(1, 30));
  EXPECT_THAT(Starts(r),
              ElementsAreArray(UtcRange(Utc(2026, 11, 1, 4, 0), Utc(2026, 11, 1, 6, 0))));
}

TEST(DstTest, SpringForwardLondon) {
  const absl::TimeZone london = Zone("Europe/London");
  // 01:00 GMT becomes 02:00 BST at 01:00Z. Open 00:00 GMT (00:00Z) to 06:00 BST (05:00Z).
  const AvailabilityResult r = EdgeHours(london, absl::CivilDay(2026, 3, 29), absl::Minutes(60));
  EXPECT_THAT(Starts(r),
              ElementsAreArray(UtcRange(Utc(2026, 3, 29, 0, 0), Utc(2026, 3, 29, 4, 0))));
  for (const Slot& s : r.slots) EXPECT_NE(LocalOf(s.start, london).hour(), 1) << s.start;
}

TEST(DstTest, FallBackLondon) {
  const absl::TimeZone london = Zone("Europe/London");
  // 02:00 BST becomes 01:00 GMT at 01:00Z. Open 00:00 BST (23:00Z the day before) to 06:00 GMT.
  const AvailabilityResult r = EdgeHours(london, absl::CivilDay(2026, 10, 25), absl::Minutes(60));
  EXPECT_THAT(Starts(r),
              ElementsAreArray(UtcRange(Utc(2026, 10, 24, 23, 0), Utc(2026, 10, 25, 5, 0))));
  std::vector<absl::Time> at_0130;
  for (const Slot& s : r.slots) {
    if (LocalOf(s.start, london) == absl::CivilSecond(2026, 10, 25, 1, 30, 0)) {
      at_0130.push_back(s.start);
    }
  }
  EXPECT_THAT(at_0130, ElementsAre(Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1, 30)));
}

// ---------------------------------------------------------------------------------------------
// Paging: FindSlots stops laying out days once max_slots is reached; what it returns must be the
// first max_slots of the whole answer, in zones whose transitions fall at midnight too.

bool SameSlot(const Slot& a, const Slot& b) {
  return a.start == b.start && a.end == b.end && a.practitioner_id == b.practitioner_id &&
         a.chair_id == b.chair_id;
}

TEST(PagingTest, AFirstPageIsThePrefixOfTheWholeSearch) {
  // Havana and Santiago change their clocks at midnight; New York at 02:00.
  const struct {
    const char* zone;
    absl::CivilDay first_day;
  } kCases[] = {{"America/Havana", absl::CivilDay(2026, 3, 4)},
                {"America/Havana", absl::CivilDay(2026, 10, 28)},
                {"America/Santiago", absl::CivilDay(2026, 4, 1)},
                {"America/Santiago", absl::CivilDay(2026, 9, 2)},
                {"America/New_York", absl::CivilDay(2026, 10, 28)}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.zone);
    AvailabilityQuery q;
    q.zone = Zone(c.zone);
    q.opening_hours = EveryDay(Min(0), Min(24));
    q.first_day = c.first_day;
    q.last_day = c.first_day + 9;
    q.duration = absl::Minutes(60);
    q.buffer_after = absl::Minutes(15);
    q.max_slots = 1000000;
    std::vector<PractitionerCalendar> practitioners = {Cal("p-a", EveryDay(Min(0), Min(24))),
                                                       Cal("p-b", EveryDay(Min(6), Min(22)))};
    practitioners[0].busy.push_back(
        {Local(q.zone, c.first_day + 2, Min(10)), Local(q.zone, c.first_day + 2, Min(13))});
    const std::vector<ChairCalendar> chairs = {Chair("chair-1")};
    const AvailabilityResult all = FindSlots(q, practitioners, chairs);
    ExpectWellFormed(all, q.duration);
    ASSERT_GT(all.slots.size(), 1000u);
    EXPECT_FALSE(all.truncated);
    for (const int k : {1, 7, 96, 333, static_cast<int>(all.slots.size()) - 1,
                        static_cast<int>(all.slots.size())}) {
      q.max_slots = k;
      const AvailabilityResult page = FindSlots(q, practitioners, chairs);
      ASSERT_EQ(page.slots.size(), static_cast<size_t>(k)) << "max_slots " << k;
      for (int i = 0; i < k; ++i) {
        ASSERT_TRUE(SameSlot(page.slots[i], all.slots[i])) << "max_slots " << k << ", slot " << i;
      }
      EXPECT_EQ(page.truncated, k < static_cast<int>(all.slots.size())) << "max_slots " << k;
    }
    // A window inside the days: exactly the whole answer's slots that start in it.
    q.max_slots = 1000000;
    q.not_before = all.slots[100].start + absl::Minutes(1);
    q.not_after = all.slots[700].start;
    const AvailabilityResult window = FindSlots(q, practitioners, chairs);
    std::vector<Offer> expected;
    for (const Slot& s : all.slots) {
      if (s.start >= q.not_before && s.start <= q.not_after) {
        expected.emplace_back(s.start, s.practitioner_id);
      }
    }
    EXPECT_THAT(Offers(window), ElementsAreArray(expected));
  }
}

// FindSlots lays out the rules prepare_days local days at a time: the answer must not depend on
// how many, across leave, extra shifts and a closure, busy blocks, sessions longer than a day,
// and clocks that change at midnight (Havana, Santiago) or at 02:00 (New York).
TEST(PreparedWindowsTest, TheSlotsDoNotDependOnHowManyDaysAreLaidOutAtATime) {
  const struct {
    const char* zone;
    absl::CivilDay first_day;
    absl::Duration duration;
  } kCases[] = {{"America/New_York", absl::CivilDay(2026, 10, 19), absl::Minutes(270)},
                {"America/New_York", absl::CivilDay(2026, 10, 19), absl::Hours(30)},
                {"America/Havana", absl::CivilDay(2026, 3, 1), absl::Minutes(45)},
                {"America/Havana", absl::CivilDay(2026, 10, 25), absl::Hours(26)},
                {"America/Santiago", absl::CivilDay(2026, 3, 30), absl::Minutes(60)},
                {"America/Santiago", absl::CivilDay(2026, 8, 30), absl::Minutes(90)}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.zone, " ", absl::FormatCivilTime(c.first_day), " ",
                              absl::FormatDuration(c.duration)));
    AvailabilityQuery q;
    q.zone = Zone(c.zone);
    q.opening_hours = EveryDay(Min(0), Min(24));
    q.first_day = c.first_day;
    q.last_day = c.first_day + 20;
    q.duration = c.duration;
    q.buffer_after = absl::Minutes(15);
    q.max_slots = 1000000;
    q.closures.push_back(Span(q.first_day + 6, Min(12), Min(18)));   // ends a window of 7
    q.closures.push_back(Span(q.first_day + 13, Min(20), Min(24)));  // across a window's end
    std::vector<PractitionerCalendar> practitioners;
    for (int p = 0; p < 3; ++p) {
      PractitionerCalendar cal;
      cal.practitioner_id = "p-" + std::to_string(p);
      for (absl::Weekday d : kAllDays) {
        if ((static_cast<int>(d) + p) % 7 < 5) cal.weekly.push_back({d, Min(p), Min(24)});
      }
      cal.leave.push_back(Span(q.first_day + 7 + p, Min(6), Min(20)));
      cal.extra_shifts.push_back(Span(q.first_day + 5 + 3 * p, Min(0), Min(24)));
      for (int day = 0; day < 21; day += 2 + p) {
        const absl::Time start = Local(q.zone, q.first_day + day, Min(9 + p));
        cal.busy.push_back({start, start + absl::Minutes(200)});
      }
      practitioners.push_back(std::move(cal));
    }
    const std::vector<ChairCalendar> chairs = {Chair("chair-1"), Chair("chair-2")};
    q.prepare_days = 1000;  // every day at once
    const AvailabilityResult all_at_once = FindSlots(q, practitioners, chairs);
    ExpectWellFormed(all_at_once, q.duration);
    ASSERT_GT(all_at_once.slots.size(), 100u);
    for (const int window : {1, 2, 3, 7}) {
      q.prepare_days = window;
      const AvailabilityResult windowed = FindSlots(q, practitioners, chairs);
      ASSERT_EQ(windowed.slots.size(), all_at_once.slots.size()) << "prepare_days " << window;
      for (std::size_t i = 0; i < windowed.slots.size(); ++i) {
        ASSERT_TRUE(SameSlot(windowed.slots[i], all_at_once.slots[i]))
            << "prepare_days " << window << ", slot " << i;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cost: 10 practitioners x 4 weeks x 15-minute steps. Prints the time; asserts none.

TEST(FindSlotsCostTest, TenPractitionersFourWeeks) {
  AvailabilityQuery q;
  q.zone = Zone("America/New_York");
  q.opening_hours = EveryDay(Min(8), Min(20));
  q.first_day = absl::CivilDay(2026, 10, 19);  // spans the fall-back of 2026-11-01
  q.last_day = q.first_day + 27;
  q.duration = absl::Minutes(270);
  q.buffer_after = absl::Minutes(30);
  q.max_slots = 1000000;
  q.closures.push_back(Span(q.first_day + 10, 0, 1440));
  std::vector<PractitionerCalendar> practitioners;
  std::vector<ChairCalendar> chairs(4);
  for (int c = 0; c < 4; ++c) chairs[c].chair_id = "chair-" + std::to_string(c);
  for (int p = 0; p < 10; ++p) {
    PractitionerCalendar cal;
    cal.practitioner_id = "p-" + std::to_string(p);
    for (absl::Weekday d : kAllDays) {
      if ((static_cast<int>(d) + p) % 7 < 5) cal.weekly.push_back({d, Min(8 + p % 3), Min(18)});
    }
    cal.leave.push_back(Span(q.first_day + p, 0, 1440));
    cal.extra_shifts.push_back(Span(q.first_day + 20 + p % 5, Min(8), Min(20)));
    for (int day = 0; day < 28; day += 1 + p % 2) {
      const absl::Time start = Local(q.zone, q.first_day + day, Min(9 + p % 4));
      const Interval busy{start, start + absl::Minutes(300)};
      cal.busy.push_back(busy);
      chairs[(p + day) % 4].busy.push_back(busy);
    }
    practitioners.push_back(std::move(cal));
  }
  const absl::Time before = absl::Now();
  const AvailabilityResult r = FindSlots(q, practitioners, chairs);
  const absl::Duration elapsed = absl::Now() - before;
  std::cout << "[ timing ] FindSlots, 10 practitioners x 28 days x 15 min: " << elapsed << ", "
            << r.slots.size() << " slots\n";
  ExpectWellFormed(r, q.duration);
  EXPECT_FALSE(r.slots.empty());
  EXPECT_FALSE(r.truncated);
}

}  // namespace
}  // namespace smp::scheduling
