#include "services/scheduling/local_days.h"

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace smp::scheduling {
namespace {

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

// What the zone itself says, the way availability.cc asked it before LocalDays.
absl::Time ZoneStart(absl::TimeZone zone, absl::CivilSecond cs) {
  const absl::TimeZone::TimeInfo ti = zone.At(cs);
  return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
}

absl::Time ZoneEnd(absl::TimeZone zone, absl::CivilSecond cs) {
  const absl::TimeZone::TimeInfo ti = zone.At(cs);
  if (ti.kind == absl::TimeZone::TimeInfo::SKIPPED) return ti.trans;
  if (ti.kind == absl::TimeZone::TimeInfo::REPEATED) return ti.post;
  return ti.pre;
}

// Every 5 minutes of [from - 1, to + 1] (the days either side are outside the table) agree.
void ExpectAgreesWithTheZone(const std::string& name, absl::CivilDay from, absl::CivilDay to) {
  const absl::TimeZone zone = Zone(name);
  const LocalDays days(zone, from, to);
  int mismatches = 0;
  for (absl::CivilSecond cs(from - 1); cs < absl::CivilSecond(to + 2); cs += 5 * 60) {
    if (days.Start(cs) != ZoneStart(zone, cs) || days.End(cs) != ZoneEnd(zone, cs)) {
      if (++mismatches <= 5) ADD_FAILURE() << name << " " << cs;
    }
  }
  EXPECT_EQ(mismatches, 0) << name;
}

TEST(LocalDaysTest, AgreesWithTheZoneThroughAYearOfTransitions) {
  ExpectAgreesWithTheZone("America/New_York", absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 12, 31));
  ExpectAgreesWithTheZone("Europe/London", absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 12, 31));
  // Half-hour DST.
  ExpectAgreesWithTheZone("Australia/Lord_Howe", absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 12, 31));
  // Transitions at midnight: the day starts inside a gap or a repeated hour.
  ExpectAgreesWithTheZone("America/Havana", absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 12, 31));
  ExpectAgreesWithTheZone("America/Santiago", absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 12, 31));
  ExpectAgreesWithTheZone("UTC", absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31));
}

TEST(LocalDaysTest, ADayThatNeverHappenedIsLeftToTheZone) {
  // Samoa moved across the date line: 2011-12-30 was skipped in Apia.
  ExpectAgreesWithTheZone("Pacific/Apia", absl::CivilDay(2011, 12, 25), absl::CivilDay(2012, 1, 5));
  const LocalDays days(Zone("Pacific/Apia"), absl::CivilDay(2011, 12, 25),
                       absl::CivilDay(2012, 1, 5));
  absl::Time t;
  EXPECT_FALSE(days.Unique(absl::CivilSecond(2011, 12, 30, 12, 0, 0), &t));
}

TEST(LocalDaysTest, OnlyDaysWithATransitionAskTheZone) {
  const absl::TimeZone ny = Zone("America/New_York");
  const LocalDays days(ny, absl::CivilDay(2026, 3, 7), absl::CivilDay(2026, 3, 9));
  absl::Time t;
  ASSERT_TRUE(days.Unique(absl::CivilSecond(2026, 3, 7, 23, 59, 0), &t));
  EXPECT_EQ(t, ny.At(absl::CivilSecond(2026, 3, 7, 23, 59, 0)).pre);
  // Spring forward at 02:00 on the 8th: even 01:00, before it, takes the zone's path.
  EXPECT_FALSE(days.Unique(absl::CivilSecond(2026, 3, 8, 1, 0, 0), &t));
  ASSERT_TRUE(days.Unique(absl::CivilSecond(2026, 3, 9, 0, 0, 0), &t));
  EXPECT_EQ(t, ny.At(absl::CivilSecond(2026, 3, 9, 0, 0, 0)).pre);
  // Outside the table.
  EXPECT_FALSE(days.Unique(absl::CivilSecond(2026, 3, 10, 9, 0, 0), &t));
  EXPECT_EQ(days.Start(absl::CivilSecond(2026, 3, 10, 9, 0, 0)),
            ny.At(absl::CivilSecond(2026, 3, 10, 9, 0, 0)).pre);
}

TEST(LocalDaysTest, AnEmptyRangeAsksTheZoneForEverything) {
  const absl::TimeZone london = Zone("Europe/London");
  const LocalDays days(london, absl::CivilDay(2026, 5, 2), absl::CivilDay(2026, 5, 1));
  absl::Time t;
  EXPECT_FALSE(days.Unique(absl::CivilSecond(2026, 5, 1, 9, 0, 0), &t));
  EXPECT_EQ(days.Start(absl::CivilSecond(2026, 5, 1, 9, 0, 0)),
            london.At(absl::CivilSecond(2026, 5, 1, 9, 0, 0)).pre);
}

}  // namespace
}  // namespace smp::scheduling
