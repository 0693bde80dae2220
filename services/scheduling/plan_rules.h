#ifndef SMP_SERVICES_SCHEDULING_PLAN_RULES_H_
#define SMP_SERVICES_SCHEDULING_PLAN_RULES_H_

// Treatment plans: a course of 2-4 sessions spaced so that the scalp heals in between (session 1
// maps the hairline conservatively, session 2 builds density, 3 and 4 adjust), then an optional
// touch-up years later. Plain functions.

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/util/proto_time.h"
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

// True for the statuses of a session that still counts: not cancelled, no-show or stopped.
bool IsLiveSession(v1::AppointmentStatus status);

// The sessions of a plan that still count (IsLiveSession), by session number.
std::vector<v1::PlanSession> LiveSessions(const v1::TreatmentPlan& plan);

// The instant `interval` after `t` (before, when negative) counted on the clinic's calendar:
// each whole 24 h of it is one local calendar day at the same wall-clock time, whatever DST does
// in between; a remainder under a day is added as elapsed time. (A wall-clock time that a
// spring-forward skips on the target day maps to the instant just after the gap.)
absl::Time ShiftLocalDays(absl::Time t, absl::Duration interval, absl::TimeZone zone);

// The session number a new booking of the plan gets: the lowest of 1..planned_sessions that no
// live session holds (a cancelled, missed or stopped session's number is booked again).
// FAILED_PRECONDITION when the plan is not active or every planned session is booked.
absl::StatusOr<int> NextSessionNumber(const v1::TreatmentPlan& plan);

// Where a session may start given the live sessions nearest to `start` by start time, whatever
// their numbers: the one before (min_interval to max_interval after it) and the one after
// (min_interval to max_interval before it), in local calendar days (ShiftLocalDays).
// `exclude_appointment_id` (the session being moved; "" for a new one) is left out. Unbounded
// sides are InfinitePast / InfiniteFuture.
Interval SpacingWindow(const v1::TreatmentPlan& plan, absl::Time start, absl::TimeZone zone,
                       absl::string_view exclude_appointment_id);

// The window of the next session to book (number NextSessionNumber): the earliest gap between the
// live sessions, after the live session numbered just below it, that the spacing allows and that
// has not ended by `now`. nullopt when the plan is not active, no session is booked yet (the first
// has no window), every planned session is booked, or no gap is open.
std::optional<Interval> NextSessionWindow(const v1::TreatmentPlan& plan, absl::TimeZone zone,
                                          absl::Time now);

// FAILED_PRECONDITION (OUTSIDE_SESSION_WINDOW) when `start` is outside SpacingWindow, naming the
// rule and the window in the clinic's local time; the metadata's RFC 3339 times carry the
// clinic's offset.
absl::Status CheckSessionSpacing(const v1::TreatmentPlan& plan, int number, absl::Time start,
                                 absl::TimeZone zone, absl::string_view exclude_appointment_id);

// After the last planned session is fulfilled, touch-ups are typically due 2 to 3 years later:
// the clinic-local dates [first, last].
struct DayRange {
  absl::CivilDay first;
  absl::CivilDay last;
};
DayRange TouchUpDue(absl::CivilDay last_session_day);

// When the appointment `appointment_id` of `plan`, on the clinic-local `session_day`, has just
// been fulfilled: if that makes every planned session fulfilled and the plan is active, marks the
// plan COMPLETED with its touch-up due (TouchUpDue) and returns true; otherwise leaves it and
// returns false. `plan.sessions()` may still show the appointment as not yet fulfilled.
bool CompletePlanIfDone(v1::TreatmentPlan& plan, absl::string_view appointment_id,
                        absl::CivilDay session_day);

// Sets `out`'s next_session_window (a plan or a completion response) from NextSessionWindow, or
// clears it when there is none.
template <typename Message>
void SetNextWindow(const v1::TreatmentPlan& plan, absl::TimeZone zone, absl::Time now,
                   Message& out) {
  const std::optional<Interval> window = NextSessionWindow(plan, zone, now);
  if (!window.has_value()) {
    out.clear_next_session_window();
    return;
  }
  *out.mutable_next_session_window()->mutable_start_time() = ToProtoTimestamp(window->start);
  *out.mutable_next_session_window()->mutable_end_time() = ToProtoTimestamp(window->end);
}

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_PLAN_RULES_H_
