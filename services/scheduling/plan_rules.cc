#include "services/scheduling/plan_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/scheduling/schedule_rules.h"
#include "services/scheduling/scheduling_reasons.h"

namespace smp::scheduling {
namespace {

std::string Local(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, zone);
}

// The live sessions other than `exclude`, by start time.
std::vector<v1::PlanSession> LiveByStart(const v1::TreatmentPlan& plan, absl::string_view exclude) {
  std::vector<v1::PlanSession> live;
  for (const v1::PlanSession& s : plan.sessions()) {
    if (!IsLiveSession(s.status())) continue;
    if (!exclude.empty() && s.appointment_id() == exclude) continue;
    live.push_back(s);
  }
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) {
    return FromProtoTimestamp(a.start_time()) < FromProtoTimestamp(b.start_time());
  });
  return live;
}

}  // namespace

bool IsLiveSession(v1::AppointmentStatus status) {
  return status != v1::CANCELLED && status != v1::NOSHOW &&
         status != v1::APPOINTMENT_STATUS_STOPPED;
}

absl::Time ShiftLocalDays(absl::Time t, absl::Duration interval, absl::TimeZone zone) {
  absl::Duration rest;
  const int64_t days = absl::IDivDuration(interval, absl::Hours(24), &rest);
  const absl::CivilSecond local = absl::ToCivilSecond(t, zone);
  const absl::Duration fraction = t - absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  const absl::CivilDay day = absl::CivilDay(local) + days;
  const absl::CivilSecond shifted(day.year(), day.month(), day.day(), local.hour(), local.minute(),
                                  local.second());
  return absl::FromCivil(shifted, zone) + fraction + rest;
}

absl::Status NormalizeNewPlan(v1::TreatmentPlan& plan) {
  RETURN_IF_ERROR(ValidateId("plan.patient_id", plan.patient_id()));
  RETURN_IF_ERROR(ValidateId("plan.clinic_id", plan.clinic_id()));
  if (!plan.consultation_appointment_id().empty()) {
    RETURN_IF_ERROR(
        ValidateId("plan.consultation_appointment_id", plan.consultation_appointment_id()));
  }
  if (plan.area() == v1::TREATMENT_AREA_UNSPECIFIED || !v1::TreatmentArea_IsValid(plan.area())) {
    return absl::InvalidArgumentError(
        "plan.area: choose hairline, crown, full scalp, scar camouflage or density");
  }
  if (plan.planned_sessions() < 2 || plan.planned_sessions() > 4) {
    return absl::InvalidArgumentError("plan.planned_sessions: a course has 2 to 4 sessions");
  }
  RETURN_IF_ERROR(ValidateOptionalText("plan.pigment_notes", plan.pigment_notes(), 1000));
  if (!plan.has_min_interval()) *plan.mutable_min_interval() = ToProtoDuration(kDefaultMinInterval);
  if (!plan.has_max_interval()) *plan.mutable_max_interval() = ToProtoDuration(kDefaultMaxInterval);
  const absl::Duration min = ToDuration(plan.min_interval());
  const absl::Duration max = ToDuration(plan.max_interval());
  if (min < absl::Hours(24) || min > absl::Hours(24 * 365)) {
    return absl::InvalidArgumentError("plan.min_interval: must be 1 to 365 days");
  }
  if (max < min || max > absl::Hours(24 * 365)) {
    return absl::InvalidArgumentError(
        "plan.max_interval: must be at least min_interval and at most 365 days");
  }
  plan.clear_sessions();
  plan.set_status(v1::PLAN_ACTIVE);
  return absl::OkStatus();
}

PlanSpacing SpacingOf(const v1::TreatmentPlan& plan) {
  PlanSpacing spacing;
  if (plan.has_min_interval()) spacing.min_interval = ToDuration(plan.min_interval());
  if (plan.has_max_interval()) spacing.max_interval = ToDuration(plan.max_interval());
  return spacing;
}

std::vector<v1::PlanSession> LiveSessions(const v1::TreatmentPlan& plan) {
  std::vector<v1::PlanSession> live;
  for (const v1::PlanSession& s : plan.sessions()) {
    if (IsLiveSession(s.status())) live.push_back(s);
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.session_number() < b.session_number(); });
  return live;
}

namespace {
// The lowest number of 1..planned that no live session holds; planned + 1 when all are held.
int LowestFreeNumber(const v1::TreatmentPlan& plan) {
  const std::vector<v1::PlanSession> live = LiveSessions(plan);
  int number = 1;
  for (const v1::PlanSession& s : live) {  // by number: the first gap is the lowest free one
    if (s.session_number() > number) break;
    if (s.session_number() == number) ++number;
  }
  return number;
}
}  // namespace

absl::StatusOr<int> NextSessionNumber(const v1::TreatmentPlan& plan) {
  if (plan.status() != v1::PLAN_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan ", plan.id(), " is ", v1::PlanStatus_Name(plan.status()), "; no more sessions"));
  }
  const int number = LowestFreeNumber(plan);
  if (number > plan.planned_sessions()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan ", plan.id(), " has all ", plan.planned_sessions(), " sessions booked already"));
  }
  return number;
}

Interval SpacingWindow(const v1::TreatmentPlan& plan, absl::Time start, absl::TimeZone zone,
                       absl::string_view exclude_appointment_id) {
  const PlanSpacing spacing = SpacingOf(plan);
  Interval window{absl::InfinitePast(), absl::InfiniteFuture()};
  const v1::PlanSession* before = nullptr;
  const v1::PlanSession* after = nullptr;
  const std::vector<v1::PlanSession> live = LiveByStart(plan, exclude_appointment_id);
  for (const v1::PlanSession& s : live) {
    if (FromProtoTimestamp(s.start_time()) < start) {
      before = &s;  // the last one before `start`
    } else if (after == nullptr) {
      after = &s;  // the first one at or after it
    }
  }
  if (before != nullptr) {
    const absl::Time t = FromProtoTimestamp(before->start_time());
    window.start = ShiftLocalDays(t, spacing.min_interval, zone);
    window.end = ShiftLocalDays(t, spacing.max_interval, zone);
  }
  if (after != nullptr) {
    const absl::Time t = FromProtoTimestamp(after->start_time());
    window.start = std::max(window.start, ShiftLocalDays(t, -spacing.max_interval, zone));
    window.end = std::min(window.end, ShiftLocalDays(t, -spacing.min_interval, zone));
  }
  return window;
}

std::optional<Interval> NextSessionWindow(const v1::TreatmentPlan& plan, absl::TimeZone zone,
                                          absl::Time now) {
  if (plan.status() != v1::PLAN_ACTIVE) return std::nullopt;
  const int number = LowestFreeNumber(plan);
  if (number > plan.planned_sessions()) return std::nullopt;
  const std::vector<v1::PlanSession> live = LiveByStart(plan, "");
  if (live.empty()) return std::nullopt;
  // The new session follows the live one numbered just below it, if any.
  absl::Time after = absl::InfinitePast();
  for (const v1::PlanSession& s : live) {
    if (s.session_number() < number) after = std::max(after, FromProtoTimestamp(s.start_time()));
  }
  const PlanSpacing spacing = SpacingOf(plan);
  // Candidate gaps in time order: before the first, between neighbours, after the last. Each is
  // exactly the SpacingWindow of any start inside it.
  std::vector<Interval> gaps;
  const absl::Time first = FromProtoTimestamp(live.front().start_time());
  gaps.push_back({ShiftLocalDays(first, -spacing.max_interval, zone),
                  ShiftLocalDays(first, -spacing.min_interval, zone)});
  for (size_t i = 0; i + 1 < live.size(); ++i) {
    const absl::Time a = FromProtoTimestamp(live[i].start_time());
    const absl::Time b = FromProtoTimestamp(live[i + 1].start_time());
    gaps.push_back({std::max(ShiftLocalDays(a, spacing.min_interval, zone),
                             ShiftLocalDays(b, -spacing.max_interval, zone)),
                    std::min(ShiftLocalDays(a, spacing.max_interval, zone),
                             ShiftLocalDays(b, -spacing.min_interval, zone))});
  }
  const absl::Time last = FromProtoTimestamp(live.back().start_time());
  gaps.push_back({ShiftLocalDays(last, spacing.min_interval, zone),
                  ShiftLocalDays(last, spacing.max_interval, zone)});
  for (const Interval& gap : gaps) {
    if (gap.start > gap.end || gap.start <= after || gap.end < now) continue;
    return gap;
  }
  return std::nullopt;
}

absl::Status CheckSessionSpacing(const v1::TreatmentPlan& plan, int number, absl::Time start,
                                 absl::TimeZone zone, absl::string_view exclude_appointment_id) {
  const Interval window = SpacingWindow(plan, start, zone, exclude_appointment_id);
  if (start < window.start || start > window.end) {
    const PlanSpacing spacing = SpacingOf(plan);
    auto bound = [&](absl::Time t) {
      return t == absl::InfinitePast() || t == absl::InfiniteFuture()
                 ? std::string()
                 : absl::FormatTime(absl::RFC3339_sec, t, zone);
    };
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "session ", number, " of plan ", plan.id(), " must start between ",
            window.start == absl::InfinitePast() ? std::string("any time")
                                                 : Local(window.start, zone),
            " and ",
            window.end == absl::InfiniteFuture() ? std::string("any time")
                                                 : Local(window.end, zone),
            " (healing interval ", absl::ToInt64Hours(spacing.min_interval) / 24, " to ",
            absl::ToInt64Hours(spacing.max_interval) / 24,
            " days from the nearest sessions before and after, at the same local time)")),
        kOutsideSessionWindowReason,
        {{"earliest_start", bound(window.start)}, {"latest_start", bound(window.end)}});
  }
  return absl::OkStatus();
}

DayRange TouchUpDue(absl::CivilDay last_session_day) {
  auto plus_years = [](absl::CivilDay d, int years) {
    // 29 February -> 28 February in a non-leap year (CivilDay would roll over to 1 March).
    absl::CivilDay out(d.year() + years, d.month(), d.day());
    if (out.month() != d.month()) out = absl::CivilDay(d.year() + years, d.month(), 28);
    return out;
  };
  return {plus_years(last_session_day, 2), plus_years(last_session_day, 3)};
}

bool CompletePlanIfDone(v1::TreatmentPlan& plan, absl::string_view appointment_id,
                        absl::CivilDay session_day) {
  if (plan.status() != v1::PLAN_ACTIVE) return false;
  int fulfilled = 1;  // this one
  for (const v1::PlanSession& s : plan.sessions()) {
    if (s.status() == v1::FULFILLED && s.appointment_id() != appointment_id) ++fulfilled;
  }
  if (fulfilled < plan.planned_sessions()) return false;
  const DayRange due = TouchUpDue(session_day);
  plan.set_status(v1::PLAN_COMPLETED);
  *plan.mutable_touch_up_due()->mutable_start_date() = ToLocalDate(due.first);
  *plan.mutable_touch_up_due()->mutable_end_date() = ToLocalDate(due.last);
  return true;
}

}  // namespace smp::scheduling
