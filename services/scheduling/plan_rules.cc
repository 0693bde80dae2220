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

std::string Day(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

bool Counts(v1::AppointmentStatus status) {
  return status != v1::CANCELLED && status != v1::NOSHOW;
}

}  // namespace

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
    if (Counts(s.status())) live.push_back(s);
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.session_number() < b.session_number(); });
  return live;
}

absl::StatusOr<int> NextSessionNumber(const v1::TreatmentPlan& plan) {
  if (plan.status() != v1::PLAN_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan ", plan.id(), " is ", v1::PlanStatus_Name(plan.status()), "; no more sessions"));
  }
  const int booked = static_cast<int>(LiveSessions(plan).size());
  if (booked >= plan.planned_sessions()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan ", plan.id(), " has all ", plan.planned_sessions(), " sessions booked already"));
  }
  return booked + 1;
}

Interval SessionWindow(const v1::TreatmentPlan& plan, int number) {
  const PlanSpacing spacing = SpacingOf(plan);
  Interval window{absl::InfinitePast(), absl::InfiniteFuture()};
  for (const v1::PlanSession& s : LiveSessions(plan)) {
    const absl::Time t = FromProtoTimestamp(s.start_time());
    if (s.session_number() == number - 1) {
      window.start = std::max(window.start, t + spacing.min_interval);
      window.end = std::min(window.end, t + spacing.max_interval);
    } else if (s.session_number() == number + 1) {
      window.start = std::max(window.start, t - spacing.max_interval);
      window.end = std::min(window.end, t - spacing.min_interval);
    }
  }
  return window;
}

std::optional<Interval> NextSessionWindow(const v1::TreatmentPlan& plan) {
  if (plan.status() != v1::PLAN_ACTIVE) return std::nullopt;
  const int booked = static_cast<int>(LiveSessions(plan).size());
  if (booked == 0 || booked >= plan.planned_sessions()) return std::nullopt;
  return SessionWindow(plan, booked + 1);
}

absl::Status CheckSessionSpacing(const v1::TreatmentPlan& plan, int number, absl::Time start) {
  const Interval window = SessionWindow(plan, number);
  if (start < window.start || start > window.end) {
    const PlanSpacing spacing = SpacingOf(plan);
    auto bound = [](absl::Time t) {
      return t == absl::InfinitePast() || t == absl::InfiniteFuture()
                 ? std::string()
                 : absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
    };
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "session ", number, " of plan ", plan.id(), " must start between ",
            window.start == absl::InfinitePast() ? std::string("any time") : Day(window.start),
            " and ",
            window.end == absl::InfiniteFuture() ? std::string("any time") : Day(window.end),
            " (healing interval ", absl::ToInt64Hours(spacing.min_interval) / 24, " to ",
            absl::ToInt64Hours(spacing.max_interval) / 24, " days between sessions)")),
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
