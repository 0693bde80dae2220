#include "services/scheduling/appointment_rules.h"

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "services/scheduling/scheduling_reasons.h"

namespace smp::scheduling {

using v1::AppointmentStatus;

const char* ActionName(AppointmentAction action) {
  switch (action) {
    case AppointmentAction::kConfirm:
      return "confirm";
    case AppointmentAction::kReschedule:
      return "reschedule";
    case AppointmentAction::kCancel:
      return "cancel";
    case AppointmentAction::kCheckIn:
      return "check in";
    case AppointmentAction::kStart:
      return "start";
    case AppointmentAction::kComplete:
      return "complete";
    case AppointmentAction::kNoShow:
      return "mark as no-show";
    case AppointmentAction::kStop:
      return "stop";
  }
  return "change";
}

absl::StatusOr<AppointmentStatus> NextStatus(AppointmentStatus current, AppointmentAction action,
                                             absl::Time hold_expire, absl::Time now) {
  using v1::ARRIVED;
  using v1::BOOKED;
  using v1::CANCELLED;
  using v1::FULFILLED;
  using v1::IN_PROGRESS;
  using v1::NOSHOW;
  using v1::PROPOSED;
  const bool lapsed = current == PROPOSED && hold_expire <= now;
  if (lapsed && action != AppointmentAction::kCancel) {
    const std::string expired =
        absl::FormatTime(absl::RFC3339_sec, hold_expire, absl::UTCTimeZone());
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat("the hold lapsed at ", expired, "; book again")),
        kHoldLapsedReason, {{"hold_expire_time", expired}});
  }
  AppointmentStatus next = v1::APPOINTMENT_STATUS_UNSPECIFIED;
  switch (action) {
    case AppointmentAction::kConfirm:
      if (current == PROPOSED) next = BOOKED;
      break;
    case AppointmentAction::kReschedule:
      if (current == PROPOSED || current == BOOKED) next = current;
      break;
    case AppointmentAction::kCancel:
      if (current == PROPOSED || current == BOOKED || current == ARRIVED) next = CANCELLED;
      break;
    case AppointmentAction::kCheckIn:
      if (current == BOOKED) next = ARRIVED;
      break;
    case AppointmentAction::kStart:
      if (current == ARRIVED) next = IN_PROGRESS;
      break;
    case AppointmentAction::kComplete:
      if (current == IN_PROGRESS) next = FULFILLED;
      break;
    case AppointmentAction::kNoShow:
      if (current == BOOKED) next = NOSHOW;
      break;
    case AppointmentAction::kStop:
      if (current == ARRIVED || current == IN_PROGRESS) next = v1::APPOINTMENT_STATUS_STOPPED;
      break;
  }
  if (next == v1::APPOINTMENT_STATUS_UNSPECIFIED) {
    return absl::FailedPreconditionError(absl::StrCat("cannot ", ActionName(action),
                                                      " an appointment that is ",
                                                      v1::AppointmentStatus_Name(current)));
  }
  return next;
}

bool BlocksTime(AppointmentStatus status, absl::Time hold_expire, absl::Time now) {
  switch (status) {
    case v1::PROPOSED:
      return hold_expire > now;
    case v1::BOOKED:
    case v1::ARRIVED:
    case v1::IN_PROGRESS:
    case v1::FULFILLED:  // the visit used the time, even one finished early
      return true;
    default:
      return false;
  }
}

bool IsLateCancellation(absl::Time start, absl::Time cancel_time, absl::Duration window) {
  return cancel_time > start - window;
}

bool ChargesLateCancellation(v1::AppointmentStatus before, v1::Initiator initiator,
                             absl::Time start, absl::Time cancel_time, absl::Duration window) {
  const bool confirmed = before == v1::BOOKED || before == v1::ARRIVED;
  return confirmed && initiator == v1::INITIATOR_PATIENT &&
         IsLateCancellation(start, cancel_time, window);
}

bool ChargesStop(v1::Initiator initiator, bool charge_patient_stops) {
  return initiator == v1::INITIATOR_PATIENT && charge_patient_stops;
}

absl::Status CheckNoShowDue(absl::Time start, absl::Duration grace, absl::Time now,
                            absl::TimeZone zone) {
  if (now >= start + grace) return absl::OkStatus();
  constexpr char kLocal[] = "%Y-%m-%d %H:%M %Z";
  return WithErrorInfo(
      absl::FailedPreconditionError(
          absl::StrCat("the appointment starts at ", absl::FormatTime(kLocal, start, zone),
                       "; the patient can be marked a no-show from ",
                       absl::FormatTime(kLocal, start + grace, zone),
                       " (the clinic's grace period of ", absl::FormatDuration(grace), ")")),
      kNoShowTooEarlyReason,
      {{"no_show_from", absl::FormatTime(absl::RFC3339_sec, start + grace, zone)}});
}

absl::Status ValidateInitiator(absl::string_view field, v1::Initiator initiator) {
  if (initiator == v1::INITIATOR_PATIENT || initiator == v1::INITIATOR_CLINIC) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": say who asked: INITIATOR_PATIENT or INITIATOR_CLINIC"));
}

bool IsProcedure(v1::AppointmentType type) {
  return type == v1::SAMPLE_PATCH || type == v1::TREATMENT_SESSION || type == v1::TOUCH_UP;
}

bool NeedsComplianceGate(v1::AppointmentType type) { return IsProcedure(type); }

absl::Status SlotTakenError(absl::string_view message, absl::string_view resource,
                            absl::string_view resource_id) {
  return WithErrorInfo(
      absl::FailedPreconditionError(message), reason::kSlotTaken,
      {{"resource", std::string(resource)}, {"resource_id", std::string(resource_id)}});
}

namespace {
bool Overlaps(const std::vector<Interval>& busy, Interval block) {
  for (const Interval& b : busy) {
    if (b.start < block.end && block.start < b.end) return true;
  }
  return false;
}
}  // namespace

std::string BusyResource(const std::vector<Interval>& practitioner_busy,
                         const std::vector<std::vector<Interval>>& chairs_busy, Interval block) {
  if (Overlaps(practitioner_busy, block)) return "practitioner";
  if (chairs_busy.empty()) return "";
  for (const std::vector<Interval>& chair : chairs_busy) {
    if (!Overlaps(chair, block)) return "";
  }
  return "chair";
}

}  // namespace smp::scheduling
