#ifndef SMP_SERVICES_SCHEDULING_LOCAL_DAYS_H_
#define SMP_SERVICES_SCHEDULING_LOCAL_DAYS_H_

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace smp::scheduling {

// Converts a clinic's local times on the days [from, to] to instants, as the zone would.
//
// Most days keep one UTC offset from midnight to midnight; on those a local time is midnight's
// instant plus its distance into the day, without asking the zone (TimeZone::At was a fifth of
// FindAvailability's CPU: a 4-week search converts thousands of candidate starts). A day with a
// transition, and any time outside [from, to], goes to the zone.
class LocalDays {
 public:
  LocalDays(absl::TimeZone zone, absl::CivilDay from, absl::CivilDay to);

  // The instant a span starting at `cs` starts: in a DST gap, the transition.
  absl::Time Start(absl::CivilSecond cs) const;
  // The instant a span ending at `cs` ends: in a gap, the transition; in a repeated hour, its
  // second occurrence, so the span covers the whole wall-clock period.
  absl::Time End(absl::CivilSecond cs) const;
  // Sets `*t` to the only instant of `cs` and returns true when `cs` is on a day without a
  // transition inside [from, to]; returns false (and leaves `*t`) otherwise.
  bool Unique(absl::CivilSecond cs, absl::Time* t) const;

  absl::TimeZone zone() const { return zone_; }

 private:
  absl::TimeZone zone_;
  absl::CivilDay from_;
  // Midnight's instant per day from `from_`; InfinitePast() for a day with a transition.
  std::vector<absl::Time> midnight_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_LOCAL_DAYS_H_
