#include "services/scheduling/availability.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "services/scheduling/local_days.h"

namespace smp::scheduling {
namespace {

using Intervals = std::vector<Interval>;

constexpr int kMinutesPerDay = 24 * 60;
// Bounds how many extra local days of weekly rules are expanded for very long durations.
constexpr int64_t kMaxExtraDays = 366;

// Sorted by start, no empty intervals, overlapping or touching ones merged. Every list below is
// kept in this form, so "inside the union" means "inside one interval".
Intervals Normalize(Intervals v) {
  std::erase_if(v, [](const Interval& i) { return i.end <= i.start; });
  std::sort(v.begin(), v.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  Intervals out;
  out.reserve(v.size());
  for (const Interval& i : v) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

Intervals Intersect(const Intervals& a, const Intervals& b) {
  Intervals out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const absl::Time start = std::max(a[i].start, b[j].start);
    const absl::Time end = std::min(a[i].end, b[j].end);
    if (start < end) out.push_back({start, end});
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

Intervals Subtract(const Intervals& a, const Intervals& b) {
  Intervals out;
  std::size_t j = 0;
  for (const Interval& x : a) {
    absl::Time cur = x.start;
    while (j < b.size() && b[j].end <= cur) ++j;
    // b[j..] may reach into the next x, so j stays put.
    for (std::size_t k = j; k < b.size() && b[k].start < x.end; ++k) {
      if (cur < b[k].start) out.push_back({cur, b[k].start});
      cur = std::max(cur, b[k].end);
    }
    if (cur < x.end) out.push_back({cur, x.end});
  }
  return out;
}

bool Covers(const Intervals& v, absl::Time start, absl::Time end) {
  auto it = std::upper_bound(v.begin(), v.end(), start,
                             [](absl::Time t, const Interval& i) { return t < i.start; });
  if (it == v.begin()) return false;
  return end <= std::prev(it)->end;
}

bool Overlaps(const Intervals& v, absl::Time start, absl::Time end) {
  auto it = std::partition_point(v.begin(), v.end(),
                                 [start](const Interval& i) { return i.end <= start; });
  return it != v.end() && it->start < end;
}

Interval SpanToInterval(const LocalSpan& span, const LocalDays& days) {
  const absl::Time start = days.Start(span.start);
  if (span.end <= span.start) return {start, start};
  return {start, days.End(span.end)};
}

Intervals SpansToIntervals(const std::vector<LocalSpan>& spans, const LocalDays& days) {
  Intervals out;
  out.reserve(spans.size());
  for (const LocalSpan& span : spans) out.push_back(SpanToInterval(span, days));
  return out;
}

// Weekly rules laid out on the local days [from, to] and converted to instants.
void AppendWeekly(const std::vector<WeeklyShift>& shifts, absl::CivilDay from, absl::CivilDay to,
                  const LocalDays& days, Intervals& out) {
  if (shifts.empty()) return;
  for (absl::CivilDay day = from; day <= to; ++day) {
    const absl::Weekday weekday = absl::GetWeekday(day);
    const absl::CivilMinute midnight(day);
    for (const WeeklyShift& shift : shifts) {
      if (shift.day != weekday || shift.start_minute < 0 || shift.end_minute > kMinutesPerDay ||
          shift.start_minute >= shift.end_minute) {
        continue;
      }
      out.push_back(
          SpanToInterval({midnight + shift.start_minute, midnight + shift.end_minute}, days));
    }
  }
}

// A practitioner's times that are instants already, normalised once for the whole search.
struct PractitionerTimes {
  Intervals away;  // leave here and elsewhere
  Intervals busy;
};

struct PreparedPractitioner {
  const std::string* id;
  Intervals available;
  const Intervals* busy;  // PractitionerTimes::busy
};

// What candidate starts are judged against, laid out for some local days of rules: the clinic's
// open time and each practitioner's available time (those with none left out), by id.
struct PreparedRules {
  Intervals open;
  std::vector<PreparedPractitioner> practitioners;
};

// `closed`: the clinic's closures; `times[i]`: practitioners[i]'s.
PreparedRules PrepareRules(const AvailabilityQuery& query,
                           const std::vector<PractitionerCalendar>& practitioners,
                           const Intervals& closed, const std::vector<PractitionerTimes>& times,
                           absl::CivilDay rules_from, absl::CivilDay rules_to,
                           const LocalDays& days) {
  PreparedRules out;
  Intervals opening;
  AppendWeekly(query.opening_hours, rules_from, rules_to, days, opening);
  out.open = Subtract(Normalize(std::move(opening)), closed);
  if (out.open.empty()) return out;
  out.practitioners.reserve(practitioners.size());
  for (std::size_t i = 0; i < practitioners.size(); ++i) {
    const PractitionerCalendar& p = practitioners[i];
    Intervals working;
    AppendWeekly(p.weekly, rules_from, rules_to, days, working);
    for (const LocalSpan& extra : p.extra_shifts) working.push_back(SpanToInterval(extra, days));
    Intervals available =
        Subtract(Intersect(out.open, Normalize(std::move(working))), times[i].away);
    if (available.empty()) continue;
    out.practitioners.push_back({&p.practitioner_id, std::move(available), &times[i].busy});
  }
  std::stable_sort(
      out.practitioners.begin(), out.practitioners.end(),
      [](const PreparedPractitioner& a, const PreparedPractitioner& b) { return *a.id < *b.id; });
  return out;
}

struct PreparedChair {
  const std::string* id;
  Intervals busy;
};

}  // namespace

Interval ToInterval(const LocalSpan& span, absl::TimeZone zone) {
  const absl::CivilDay day(span.start);
  return SpanToInterval(span, LocalDays(zone, day, day - 1));  // empty table: the zone decides
}

AvailabilityResult FindSlots(const AvailabilityQuery& query,
                             const std::vector<PractitionerCalendar>& practitioners,
                             const std::vector<ChairCalendar>& chairs) {
  AvailabilityResult result;
  const absl::TimeZone zone = query.zone;
  const int64_t step_seconds = absl::ToInt64Seconds(query.step);
  if (step_seconds < 1 || query.duration <= absl::ZeroDuration() ||
      query.first_day > query.last_day || query.not_before > query.not_after || chairs.empty() ||
      practitioners.empty()) {
    return result;
  }
  const absl::Duration buffer = std::max(query.buffer_after, absl::ZeroDuration());

  // Local dates are not monotonic in instants around a transition at midnight, hence the margin.
  absl::CivilDay first_day = query.first_day;
  absl::CivilDay last_day = query.last_day;
  if (query.not_before != absl::InfinitePast()) {
    first_day = std::max(first_day, absl::CivilDay(zone.At(query.not_before).cs) - 1);
  }
  if (query.not_after != absl::InfiniteFuture()) {
    last_day = std::min(last_day, absl::CivilDay(zone.At(query.not_after).cs) + 1);
  }
  if (first_day > last_day) return result;

  // Rules are expanded a day either side (and further for long sessions) so that a slot near
  // midnight or a DST edge sees the windows it may run into.
  const int64_t extra_days = std::min(query.duration / absl::Hours(24), kMaxExtraDays) + 1;
  const absl::CivilDay rules_from = first_day - 1;
  const absl::CivilDay rules_to = last_day + extra_days;

  // rules_to + 1: a shift ending at 24:00 ends at the next day's midnight.
  const LocalDays days(zone, rules_from, rules_to + 1);
  const Intervals closed = Normalize(SpansToIntervals(query.closures, days));
  std::vector<PractitionerTimes> times;
  times.reserve(practitioners.size());
  for (const PractitionerCalendar& p : practitioners) {
    Intervals away = SpansToIntervals(p.leave, days);
    away.insert(away.end(), p.leave_elsewhere.begin(), p.leave_elsewhere.end());
    times.push_back({Normalize(std::move(away)), Normalize(p.busy)});
  }
  // The rules are laid out prepare_days local days at a time, each window with the same margins
  // as the whole search (a day before, extra_days after), so a slot starting on one of its days
  // is judged exactly as with all days laid out; a page that fills in the first days never lays
  // out the weeks after them.
  const int64_t window_days = std::max(query.prepare_days, 1);
  PreparedRules rules;
  absl::CivilDay window_last = first_day - 1;  // no window laid out yet

  std::vector<PreparedChair> free_chairs;
  free_chairs.reserve(chairs.size());
  for (const ChairCalendar& c : chairs) free_chairs.push_back({&c.chair_id, Normalize(c.busy)});
  std::stable_sort(free_chairs.begin(), free_chairs.end(),
                   [](const PreparedChair& a, const PreparedChair& b) { return *a.id < *b.id; });

  // Judges one candidate start: the practitioners free then, in id order, each with the first
  // free chair. False once max_slots is reached and another slot exists (truncated).
  auto judge = [&](absl::Time start) {
    const absl::Time end = start + query.duration;
    const absl::Time block_end = end + buffer;
    const PreparedChair* chair = nullptr;
    bool chair_looked_up = false;
    const std::string* last_id = nullptr;  // duplicate calendars for one id give one slot
    for (const PreparedPractitioner& p : rules.practitioners) {
      if (last_id != nullptr && *last_id == *p.id) continue;
      if (!Covers(p.available, start, end) || Overlaps(*p.busy, start, block_end)) continue;
      if (!chair_looked_up) {
        chair_looked_up = true;
        for (const PreparedChair& c : free_chairs) {
          if (!Overlaps(c.busy, start, block_end)) {
            chair = &c;
            break;
          }
        }
      }
      if (chair == nullptr) break;
      if (static_cast<int64_t>(result.slots.size()) >= query.max_slots) {
        result.truncated = true;
        return false;
      }
      result.slots.push_back({start, end, *p.id, *chair->id});
      last_id = p.id;
    }
    return true;
  };

  // Candidate starts, shared by every practitioner: on the step grid of each local day, in range
  // and inside the open clinic. They are made and judged a day at a time, so a search that fills
  // max_slots in its first days never lays out the rest of its weeks.
  std::vector<absl::Time> pending;  // made, not yet judged
  auto consider = [&](absl::Time start) {
    if (start < query.not_before || start > query.not_after) return;
    if (!Covers(rules.open, start, start + query.duration)) return;
    pending.push_back(start);
  };
  for (absl::CivilDay day = first_day; day <= last_day; ++day) {
    if (day > window_last) {
      window_last = std::min(last_day, day + (window_days - 1));
      rules = PrepareRules(query, practitioners, closed, times, day - 1, window_last + extra_days,
                           days);
    }
    const absl::CivilSecond day_start(day);
    const int64_t day_seconds = absl::CivilSecond(day + 1) - day_start;
    absl::Time midnight;
    if (days.Unique(day_start, &midnight)) {  // one offset all day: no zone lookups
      // Only the grid points inside [not_before, not_after].
      int64_t first = 0;
      if (query.not_before > midnight) {
        const int64_t after =
            absl::ToInt64Seconds(absl::Ceil(query.not_before - midnight, absl::Seconds(1)));
        first = (after + step_seconds - 1) / step_seconds * step_seconds;
      }
      for (int64_t t = first; t < day_seconds; t += step_seconds) {
        const absl::Time start = midnight + absl::Seconds(t);
        if (start > query.not_after) break;
        consider(start);
      }
    } else {
      for (absl::CivilSecond t = day_start; t < day_start + day_seconds; t += step_seconds) {
        const absl::TimeZone::TimeInfo ti = zone.At(t);
        switch (ti.kind) {
          case absl::TimeZone::TimeInfo::UNIQUE:
            consider(ti.pre);
            break;
          case absl::TimeZone::TimeInfo::REPEATED:
            consider(ti.pre);
            consider(ti.post);
            break;
          case absl::TimeZone::TimeInfo::SKIPPED:
            break;
        }
      }
    }
    // Every later day's starts are at or after its midnight (a local time's first instant grows
    // with the local time), so the pending starts before it are final and judged in order. A
    // fall-back across midnight can put some of today's after tomorrow's first: they wait.
    absl::Time horizon =
        day < last_day ? days.Start(absl::CivilSecond(day + 1)) : absl::InfiniteFuture();
    const bool later_days_out_of_range = horizon > query.not_after;
    if (later_days_out_of_range) horizon = absl::InfiniteFuture();
    std::sort(pending.begin(), pending.end());
    pending.erase(std::unique(pending.begin(), pending.end()), pending.end());
    const auto ready = std::lower_bound(pending.begin(), pending.end(), horizon);
    for (auto it = pending.begin(); it != ready; ++it) {
      if (!judge(*it)) return result;
    }
    pending.erase(pending.begin(), ready);
    if (later_days_out_of_range) break;
  }
  return result;
}

}  // namespace smp::scheduling
