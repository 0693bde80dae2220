#ifndef SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_
#define SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_

// The life of an appointment: which status changes are legal, what blocks time, what is charged
// (late cancellations, no-shows, stops). Plain functions; no I/O, no clock of their own.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/scheduling/availability.h"
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
  kStop,        // ARRIVED (not done) or IN_PROGRESS (stopped) -> APPOINTMENT_STATUS_STOPPED
};

// The status after `action`, or FAILED_PRECONDITION naming the current status, e.g.
// "cannot reschedule an appointment that is IN_PROGRESS". A PROPOSED appointment whose hold has
// lapsed (hold_expire <= now) can only be cancelled: "the hold lapsed at ...; book again".
absl::StatusOr<v1::AppointmentStatus> NextStatus(v1::AppointmentStatus current,
                                                 AppointmentAction action, absl::Time hold_expire,
                                                 absl::Time now);

// True when an appointment in `status` occupies its practitioner and chair: held (until the hold
// lapses), booked, arrived, in progress or fulfilled (a visit finished early keeps its slot, as
// booking does). Cancelled, no-show and stopped appointments free their time.
bool BlocksTime(v1::AppointmentStatus status, absl::Time hold_expire, absl::Time now);

// A cancellation at `cancel_time` of an appointment starting at `start` is late when it comes less
// than `window` before the start (or after it).
bool IsLateCancellation(absl::Time start, absl::Time cancel_time, absl::Duration window);

// Whether a cancellation is charged as late (a fee): only a confirmed appointment (`before` is
// BOOKED, or ARRIVED: the patient came and left) that the patient cancelled inside the window
// recorded at booking. A hold (PROPOSED) was never confirmed; the clinic's own cancellations are
// never charged.
bool ChargesLateCancellation(v1::AppointmentStatus before, v1::Initiator initiator,
                             absl::Time start, absl::Time cancel_time, absl::Duration window);

// Whether a stop is charged: only one the patient asked for, and only when the clinic's rule
// (ClinicSchedule.charge_patient_stops) says so. A stop the clinic initiates never is.
bool ChargesStop(v1::Initiator initiator, bool charge_patient_stops);

// OK once the patient can be marked a no-show: at or after `start` + `grace`. Before that,
// FAILED_PRECONDITION naming, in the clinic's `zone`, the start and when it may be marked.
absl::Status CheckNoShowDue(absl::Time start, absl::Duration grace, absl::Time now,
                            absl::TimeZone zone);

// INVALID_ARGUMENT naming `field` unless `initiator` is the patient or the clinic.
absl::Status ValidateInitiator(absl::string_view field, v1::Initiator initiator);

// Procedures on the patient's scalp (needles and pigment): everything but consultations.
bool IsProcedure(v1::AppointmentType type);

// Types compliance must approve before booking: the procedures.
bool NeedsComplianceGate(v1::AppointmentType type);

const char* ActionName(AppointmentAction action);

// FAILED_PRECONDITION `message` with ErrorInfo SLOT_TAKEN naming the busy resource ("practitioner"
// or "chair") and its id as metadata `resource` and `resource_id`: a client offers another slot.
absl::Status SlotTakenError(absl::string_view message, absl::string_view resource,
                            absl::string_view resource_id);

// Which of the booking's resources is already busy during `block`, given their busy intervals:
// "practitioner", "chair" (when `chair_busy` is given: the chosen chair; else every chair) or ""
// when neither is (the slot is refused for another reason: hours, closures, grid).
std::string BusyResource(const std::vector<Interval>& practitioner_busy,
                         const std::vector<std::vector<Interval>>& chairs_busy, Interval block);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_APPOINTMENT_RULES_H_
