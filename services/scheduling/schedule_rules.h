#ifndef SMP_SERVICES_SCHEDULING_SCHEDULE_RULES_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULE_RULES_H_

// Validation and defaults for what front desks and admins enter: clinic settings, weekly hours,
// exceptions, patients, and the conversions between the contract's local types and Abseil's.

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/availability.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// Fills unset settings with defaults (buffer 30 min, late window 48 h, hold 10 min, step 15 min,
// no-show grace 15 min, durations per type) and validates the rest. INVALID_ARGUMENT naming the
// field.
absl::StatusOr<v1::ClinicSchedule> NormalizeSchedule(const v1::ClinicSchedule& schedule);

// Each interval: a real day, 00:00 <= start < end <= 24:00 on 5-minute marks; intervals of one day
// may not overlap. `field` names the list, e.g. "schedule.opening_hours".
absl::Status ValidateWeeklyIntervals(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<v1::WeeklyInterval>& intervals);
std::vector<WeeklyShift> ToShifts(
    const google::protobuf::RepeatedPtrField<v1::WeeklyInterval>& intervals);

// A real local date (see common/util/local_date.h ParseLocalDate: `field`.date) and time on a
// 5-minute mark (`field`.time).
absl::StatusOr<absl::CivilMinute> ToCivilMinute(absl::string_view field,
                                                const common::v1::LocalDateTime& when);
// The exception's fields (kind, practitioner for leave and extra shifts only, local start < end,
// at most 31 days, reason <= 200 characters) and its local span.
absl::StatusOr<LocalSpan> ValidateException(const v1::ScheduleException& exception);

// Names 1..100 characters, birth date real and in the past (relative to `today`), phone (E.164) or
// email required and well-formed, preferred clinic id well-formed.
absl::Status ValidatePatient(const v1::Patient& patient, absl::CivilDay today);

// The duration of a booking: the override if set (10 min .. 6 h, on 5-minute marks) else the
// clinic's default for the type.
absl::StatusOr<absl::Duration> AppointmentDuration(
    const v1::ClinicSchedule& schedule, v1::AppointmentType type,
    const google::protobuf::Duration* override_duration);

// The clinic's no-show grace: how long after the start a patient may still arrive (15 min when a
// schedule saved before the rule existed has none).
absl::Duration NoShowGraceOf(const v1::ClinicSchedule& schedule);

// The clinic's time zone (validated when the schedule was saved).
absl::TimeZone ZoneOf(const v1::ClinicSchedule& schedule);

absl::Duration ToDuration(const google::protobuf::Duration& d);
google::protobuf::Duration ToProtoDuration(absl::Duration d);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULE_RULES_H_
