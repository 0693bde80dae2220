#include "services/scheduling/local_days.h"

#include <algorithm>
#include <cstdint>

namespace smp::scheduling {
namespace {

constexpr int64_t kSecondsPerDay = 24 * 60 * 60;

}  // namespace

LocalDays::LocalDays(absl::TimeZone zone, absl::CivilDay from, absl::CivilDay to)
    : zone_(zone), from_(from) {
  if (to < from) return;
  midnight_.reserve(static_cast<size_t>(to - from + 1));
  for (absl::CivilDay day = from; day <= to; ++day) {
    const absl::CivilSecond start(day);
    const absl::TimeZone::TimeInfo ti = zone_.At(start);
    absl::Time midnight = absl::InfinitePast();
    if (ti.kind == absl::TimeZone::TimeInfo::UNIQUE) {
      // The next transition touches the wall-clock times from the earlier of `from` and `to`:
      // a gap starts at `from` (spring forward), a repeated hour at `to` (fall back, e.g.
      // Santiago's 00:00 back to 23:00 repeats the day's last hour). Before the next midnight
      // means this day has times the zone maps differently.
      absl::TimeZone::CivilTransition next;
      if (!zone_.NextTransition(ti.pre, &next) ||
          std::min(next.from, next.to) - start >= kSecondsPerDay) {
        midnight = ti.pre;
      }
    }
    midnight_.push_back(midnight);
  }
}

bool LocalDays::Unique(absl::CivilSecond cs, absl::Time* t) const {
  const absl::CivilDay day(cs);
  const int64_t index = day - from_;
  if (index < 0 || index >= static_cast<int64_t>(midnight_.size())) return false;
  const absl::Time midnight = midnight_[static_cast<size_t>(index)];
  if (midnight == absl::InfinitePast()) return false;
  *t = midnight + absl::Seconds(cs - absl::CivilSecond(day));
  return true;
}

absl::Time LocalDays::Start(absl::CivilSecond cs) const {
  absl::Time t;
  if (Unique(cs, &t)) return t;
  const absl::TimeZone::TimeInfo ti = zone_.At(cs);
  return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
}

absl::Time LocalDays::End(absl::CivilSecond cs) const {
  absl::Time t;
  if (Unique(cs, &t)) return t;
  const absl::TimeZone::TimeInfo ti = zone_.At(cs);
  switch (ti.kind) {
    case absl::TimeZone::TimeInfo::SKIPPED:
      return ti.trans;
    case absl::TimeZone::TimeInfo::REPEATED:
      return ti.post;
    case absl::TimeZone::TimeInfo::UNIQUE:
      break;
  }
  return ti.pre;
}

}  // namespace smp::scheduling
