#ifndef SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_
#define SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_

// The life of an appointment: which status changes are legal, what blocks time, what counts as a
// late cancellation. Plain functions; no I/O, no clock of their own.

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// What a client asks to do to an appointment.
enum class AppointmentAction {
  kConfirm,     // PROPOSED -> BOOKED (while the hold lasts)
  kReschedule,  // PROPOSED or BOOKED, status unchanged
  kCancel,      // PROPOSED, BOOKED or ARRIVED -> CANCELLED
  kCheckIn,     // BOOKED -> ARRIVED
  kStart,       // ARRIVED -> IN_PROGRESS
  kComplete,    // IN_PROGRESS -> FULFILLED
  kNoShow,      // BOOKED -> NOSHOW
};

// The status after `action`, or FAILED_PRECONDITION naming the current status, e.g.
// "cannot reschedule an appointment that is IN_PROGRESS". A PROPOSED appointment whose hold has
// lapsed (hold_expire <= now) can only be cancelled: "the hold lapsed at ...; book again".
absl::StatusOr<v1::AppointmentStatus> NextStatus(v1::AppointmentStatus current,
                                                 AppointmentAction action, absl::Time hold_expire,
                                                 absl::Time now);

// True when an appointment in `status` occupies its practitioner and chair: held (until the hold
// lapses), booked, arrived, in progress or fulfilled (a visit finished early keeps its slot, as
// booking does). Cancelled and no-show appointments free their time.
bool BlocksTime(v1::AppointmentStatus status, absl::Time hold_expire, absl::Time now);

// A cancellation at `cancel_time` of an appointment starting at `start` is late when it comes less
// than `window` before the start (or after it).
bool IsLateCancellation(absl::Time start, absl::Time cancel_time, absl::Duration window);

// Procedures on the patient's scalp (needles and pigment): everything but consultations.
bool IsProcedure(v1::AppointmentType type);

// Types compliance must approve before booking: the procedures.
bool NeedsComplianceGate(v1::AppointmentType type);

const char* ActionName(AppointmentAction action);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_
