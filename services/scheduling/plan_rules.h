#ifndef SMP_SERVICES_SCHEDULING_PLAN_RULES_H_
#define SMP_SERVICES_SCHEDULING_PLAN_RULES_H_

// Treatment plans: a course of 2-4 sessions spaced so that the scalp heals in between (session 1
// maps the hairline conservatively, session 2 builds density, 3 and 4 adjust), then an optional
// touch-up years later. Plain functions.

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/availability.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

inline constexpr absl::Duration kDefaultMinInterval = absl::Hours(24 * 10);
inline constexpr absl::Duration kDefaultMaxInterval = absl::Hours(24 * 42);

struct PlanSpacing {
  absl::Duration min_interval = kDefaultMinInterval;
  absl::Duration max_interval = kDefaultMaxInterval;
};

// Checks a new plan's fields (ids, area, 2..4 sessions, 1 day <= min <= max <= 365 days) and fills
// in default intervals. INVALID_ARGUMENT naming the field.
absl::Status NormalizeNewPlan(v1::TreatmentPlan& plan);

PlanSpacing SpacingOf(const v1::TreatmentPlan& plan);

// The sessions of a plan that still count (not cancelled, not no-show), by session number.
std::vector<v1::PlanSession> LiveSessions(const v1::TreatmentPlan& plan);

// The session number a new booking of the plan gets: one more than the live sessions so far.
// FAILED_PRECONDITION when the plan is not active or every planned session is booked.
absl::StatusOr<int> NextSessionNumber(const v1::TreatmentPlan& plan);

// Where session `number` may start given its live neighbours (the previous must be at least
// min_interval and at most max_interval before; the next, if booked, as much after).
// Returns the allowed window [earliest, latest]; session 1 has no lower neighbour.
Interval SessionWindow(const v1::TreatmentPlan& plan, int number);

// The window of the next session to book: nullopt when the plan is not active, no session is booked
// yet (the first session has no window), or every planned session is booked.
std::optional<Interval> NextSessionWindow(const v1::TreatmentPlan& plan);

// FAILED_PRECONDITION when `start` is outside SessionWindow, naming the rule and the window.
absl::Status CheckSessionSpacing(const v1::TreatmentPlan& plan, int number, absl::Time start);

// After the last planned session is fulfilled, touch-ups are typically due 2 to 3 years later:
// the clinic-local dates [first, last].
struct DayRange {
  absl::CivilDay first;
  absl::CivilDay last;
};
DayRange TouchUpDue(absl::CivilDay last_session_day);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_PLAN_RULES_H_
