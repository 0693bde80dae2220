#include "services/scheduling/schedule_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/validation.h"

namespace smp::scheduling {
namespace {

constexpr absl::Duration kDefaultNoShowGrace = absl::Minutes(15);

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

int MinuteOfDay(const common::v1::LocalTime& t) { return t.hours() * 60 + t.minutes(); }

absl::Status ValidateTime(absl::string_view field, const common::v1::LocalTime& t) {
  const bool midnight_end = t.hours() == 24 && t.minutes() == 0;
  if (!midnight_end && (t.hours() < 0 || t.hours() > 23 || t.minutes() < 0 || t.minutes() > 59)) {
    return Invalid(field, "is not a time of day (00:00..24:00)");
  }
  if (t.minutes() % 5 != 0) return Invalid(field, "must be on a 5-minute mark");
  return absl::OkStatus();
}

// A duration within [min, max] on whole 5-minute marks; unset -> `fallback`.
absl::Status NormalizeDuration(absl::string_view field, google::protobuf::Duration* d, bool present,
                               absl::Duration fallback, absl::Duration min, absl::Duration max) {
  if (!present) {
    *d = ToProtoDuration(fallback);
    return absl::OkStatus();
  }
  const absl::Duration value = ToDuration(*d);
  if (value < min || value > max) {
    return Invalid(field, absl::StrCat("must be between ", absl::FormatDuration(min), " and ",
                                       absl::FormatDuration(max)));
  }
  if (value % absl::Minutes(5) != absl::ZeroDuration()) {
    return Invalid(field, "must be a whole number of 5-minute steps");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Duration NoShowGraceOf(const v1::ClinicSchedule& schedule) {
  return schedule.has_no_show_grace() ? ToDuration(schedule.no_show_grace()) : kDefaultNoShowGrace;
}

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
  return out;
}

absl::Status ValidateWeeklyIntervals(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<v1::WeeklyInterval>& intervals) {
  if (intervals.size() > 7 * 8) return Invalid(field, "at most 8 intervals a day");
  for (int i = 0; i < intervals.size(); ++i) {
    const v1::WeeklyInterval& w = intervals[i];
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (w.day() < common::v1::MONDAY || w.day() > common::v1::SUNDAY) {
      return Invalid(absl::StrCat(at, ".day"), "must be MONDAY..SUNDAY");
    }
    RETURN_IF_ERROR(ValidateTime(absl::StrCat(at, ".start_time"), w.start_time()));
    RETURN_IF_ERROR(ValidateTime(absl::StrCat(at, ".end_time"), w.end_time()));
    if (MinuteOfDay(w.end_time()) <= MinuteOfDay(w.start_time())) {
      return Invalid(absl::StrCat(at, ".end_time"),
                     "must be after start_time (intervals may not cross midnight; split them)");
    }
    for (int j = 0; j < i; ++j) {
      const v1::WeeklyInterval& o = intervals[j];
      if (o.day() == w.day() && MinuteOfDay(w.start_time()) < MinuteOfDay(o.end_time()) &&
          MinuteOfDay(o.start_time()) < MinuteOfDay(w.end_time())) {
        return Invalid(at, absl::StrCat("overlaps ", field, "[", j, "]"));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<WeeklyShift> ToShifts(
    const google::protobuf::RepeatedPtrField<v1::WeeklyInterval>& intervals) {
  static constexpr absl::Weekday kDays[] = {absl::Weekday::monday,   absl::Weekday::monday,
                                            absl::Weekday::tuesday,  absl::Weekday::wednesday,
                                            absl::Weekday::thursday, absl::Weekday::friday,
                                            absl::Weekday::saturday, absl::Weekday::sunday};
  std::vector<WeeklyShift> shifts;
  for (const v1::WeeklyInterval& w : intervals) {
    shifts.push_back(
        WeeklyShift{kDays[w.day()], MinuteOfDay(w.start_time()), MinuteOfDay(w.end_time())});
  }
  return shifts;
}

absl::StatusOr<v1::ClinicSchedule> NormalizeSchedule(const v1::ClinicSchedule& in) {
  v1::ClinicSchedule s = in;
  RETURN_IF_ERROR(ValidateId("schedule.clinic_id", s.clinic_id()));
  RETURN_IF_ERROR(ValidateTimeZone("schedule.time_zone", s.time_zone()).status());
  RETURN_IF_ERROR(ValidateWeeklyIntervals("schedule.opening_hours", s.opening_hours()));
  RETURN_IF_ERROR(NormalizeDuration("schedule.buffer_after", s.mutable_buffer_after(),
                                    in.has_buffer_after(), absl::Minutes(30), absl::ZeroDuration(),
                                    absl::Hours(2)));
  RETURN_IF_ERROR(NormalizeDuration("schedule.late_cancellation_window",
                                    s.mutable_late_cancellation_window(),
                                    in.has_late_cancellation_window(), absl::Hours(48),
                                    absl::ZeroDuration(), absl::Hours(24 * 14)));
  RETURN_IF_ERROR(NormalizeDuration("schedule.hold_duration", s.mutable_hold_duration(),
                                    in.has_hold_duration(), absl::Minutes(10), absl::Minutes(5),
                                    absl::Minutes(60)));
  RETURN_IF_ERROR(NormalizeDuration("schedule.no_show_grace", s.mutable_no_show_grace(),
                                    in.has_no_show_grace(), kDefaultNoShowGrace,
                                    absl::ZeroDuration(), absl::Hours(4)));
  RETURN_IF_ERROR(NormalizeDuration("schedule.slot_step", s.mutable_slot_step(), in.has_slot_step(),
                                    absl::Minutes(15), absl::Minutes(5), absl::Minutes(60)));
  if (absl::Hours(24) % ToDuration(s.slot_step()) != absl::ZeroDuration()) {
    return Invalid("schedule.slot_step",
                   "must divide a day evenly (e.g. 5, 10, 15, 20, 30, 60 min)");
  }
  v1::AppointmentDurations* d = s.mutable_durations();
  const v1::AppointmentDurations& given = in.durations();
  const absl::Duration lo = absl::Minutes(10), hi = absl::Hours(6);
  RETURN_IF_ERROR(NormalizeDuration("schedule.durations.consultation", d->mutable_consultation(),
                                    given.has_consultation(), absl::Minutes(60), lo, hi));
  RETURN_IF_ERROR(NormalizeDuration("schedule.durations.sample_patch", d->mutable_sample_patch(),
                                    given.has_sample_patch(), absl::Minutes(45), lo, hi));
  RETURN_IF_ERROR(NormalizeDuration("schedule.durations.treatment_session",
                                    d->mutable_treatment_session(), given.has_treatment_session(),
                                    absl::Minutes(270), lo, hi));
  RETURN_IF_ERROR(NormalizeDuration("schedule.durations.touch_up", d->mutable_touch_up(),
                                    given.has_touch_up(), absl::Hours(2), lo, hi));
  RETURN_IF_ERROR(NormalizeDuration("schedule.durations.correction_consult",
                                    d->mutable_correction_consult(), given.has_correction_consult(),
                                    absl::Minutes(45), lo, hi));
  return s;
}

absl::StatusOr<absl::CivilMinute> ToCivilMinute(absl::string_view field,
                                                const common::v1::LocalDateTime& when) {
  ASSIGN_OR_RETURN(absl::CivilDay day, ParseLocalDate(absl::StrCat(field, ".date"), when.date()));
  RETURN_IF_ERROR(ValidateTime(absl::StrCat(field, ".time"), when.time()));
  return absl::CivilMinute(day) + MinuteOfDay(when.time());
}

absl::StatusOr<LocalSpan> ValidateException(const v1::ScheduleException& e) {
  RETURN_IF_ERROR(ValidateId("exception.clinic_id", e.clinic_id()));
  if (e.kind() == v1::EXCEPTION_KIND_UNSPECIFIED || !v1::ExceptionKind_IsValid(e.kind())) {
    return Invalid("exception.kind", "must be LEAVE, CLOSURE or EXTRA_SHIFT");
  }
  if (e.kind() == v1::CLOSURE && !e.practitioner_id().empty()) {
    return Invalid("exception.practitioner_id", "must be empty for a CLOSURE");
  }
  if (e.kind() != v1::CLOSURE) {
    RETURN_IF_ERROR(ValidateId("exception.practitioner_id", e.practitioner_id()));
  }
  ASSIGN_OR_RETURN(absl::CivilMinute start, ToCivilMinute("exception.start", e.start()));
  ASSIGN_OR_RETURN(absl::CivilMinute end, ToCivilMinute("exception.end", e.end()));
  if (end <= start) return Invalid("exception.end", "must be after start");
  if (end - start > 31 * 24 * 60) return Invalid("exception.end", "spans more than 31 days");
  RETURN_IF_ERROR(ValidateOptionalText("exception.reason", e.reason(), 200));
  return LocalSpan{start, end};
}

absl::Status ValidatePatient(const v1::Patient& p, absl::CivilDay today) {
  RETURN_IF_ERROR(ValidateRequiredText("patient.given_name", p.given_name(), 100));
  RETURN_IF_ERROR(ValidateRequiredText("patient.family_name", p.family_name(), 100));
  if (p.has_birth_date()) {
    ASSIGN_OR_RETURN(absl::CivilDay born, ParseLocalDate("patient.birth_date", p.birth_date()));
    if (born > today) return Invalid("patient.birth_date", "is in the future");
  }
  if (p.phone().empty() && p.email().empty()) {
    return Invalid("patient.phone", "a phone number or an email address is required");
  }
  RETURN_IF_ERROR(ValidateOptionalPhone("patient.phone", p.phone()));
  RETURN_IF_ERROR(ValidateOptionalEmail("patient.email", p.email()));
  return ValidateId("patient.preferred_clinic_id", p.preferred_clinic_id());
}

absl::TimeZone ZoneOf(const v1::ClinicSchedule& schedule) {
  absl::TimeZone zone;
  absl::LoadTimeZone(schedule.time_zone(), &zone);  // validated when the schedule was saved
  return zone;
}

absl::StatusOr<absl::Duration> AppointmentDuration(
    const v1::ClinicSchedule& schedule, v1::AppointmentType type,
    const google::protobuf::Duration* override_duration) {
  if (override_duration != nullptr) {
    const absl::Duration d = ToDuration(*override_duration);
    if (d < absl::Minutes(10) || d > absl::Hours(6) ||
        d % absl::Minutes(5) != absl::ZeroDuration()) {
      return Invalid("duration", "must be 10 minutes to 6 hours in 5-minute steps");
    }
    return d;
  }
  const v1::AppointmentDurations& d = schedule.durations();
  switch (type) {
    case v1::CONSULTATION:
      return ToDuration(d.consultation());
    case v1::SAMPLE_PATCH:
      return ToDuration(d.sample_patch());
    case v1::TREATMENT_SESSION:
      return ToDuration(d.treatment_session());
    case v1::TOUCH_UP:
      return ToDuration(d.touch_up());
    case v1::CORRECTION_CONSULT:
      return ToDuration(d.correction_consult());
    default:
      return Invalid("type", "choose an appointment type");
  }
}

}  // namespace smp::scheduling
