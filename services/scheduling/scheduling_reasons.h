#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_REASONS_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_REASONS_H_

// ErrorInfo reasons (see common/status/error_details.h, namespace reason) that only scheduling
// sends, in the suite's "smp-suite" domain. Add, never rename: clients switch on them. Candidates
// for the shared list in common/status/error_details.h.

namespace smp::scheduling {

// FAILED_PRECONDITION: the appointment was held and its hold lapsed before the change; the client
// books again. Metadata: hold_expire_time (RFC 3339).
inline constexpr char kHoldLapsedReason[] = "HOLD_LAPSED";
// FAILED_PRECONDITION: a treatment session outside the healing interval its plan allows after
// (and before) its neighbouring sessions. Metadata: earliest_start, latest_start (RFC 3339, empty
// when unbounded).
inline constexpr char kOutsideSessionWindowReason[] = "OUTSIDE_SESSION_WINDOW";
// FAILED_PRECONDITION: MarkNoShow before the appointment's start plus the clinic's no-show grace;
// the patient may still come. Metadata: no_show_from (RFC 3339, clinic-local offset).
inline constexpr char kNoShowTooEarlyReason[] = "NO_SHOW_TOO_EARLY";
// ABORTED: another booking took the same session number of the plan at the same time (the live
// (plan, session number) pair is unique); retry the booking. Metadata: plan_id, session_number.
inline constexpr char kSessionNumberTakenReason[] = "SESSION_NUMBER_TAKEN";

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_REASONS_H_
