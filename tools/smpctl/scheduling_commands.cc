// Scheduling: patients, clinic schedules, chairs, working hours, exceptions, treatment plans,
// availability, appointments and the change feed.

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/util/proto_time.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/commands.h"
#include "tools/smpctl/supplies.h"

namespace smp::smpctl {
namespace {

namespace sv1 = ::smp::scheduling::v1;
namespace cv1 = ::smp::common::v1;
using Stub = sv1::SchedulingService::Stub;

#define RPC(method, req) \
  inv.client().Call(Service::kScheduling, inv.client().scheduling(), &Stub::method, #method, req)

absl::TimeZone Zone(Invocation& inv, const std::string& clinic_id) {
  return inv.client().DisplayZone(clinic_id);
}

// ---- patients

std::string PatientName(const sv1::Patient& p) {
  return absl::StrCat(p.given_name(), " ", p.family_name());
}

void PrintPatient(Invocation& inv, const sv1::Patient& p) {
  Show(inv, p, [&] {
    const absl::TimeZone zone = Zone(inv, p.preferred_clinic_id());
    inv.out().Print(Fields{{"id", p.id()},
                           {"name", PatientName(p)},
                           {"birth date", FormatDate(p.birth_date())},
                           {"phone", p.phone()},
                           {"email", p.email()},
                           {"clinic", p.preferred_clinic_id()},
                           {"registered", FormatTimestamp(p.create_time(), zone)},
                           {"etag", p.etag()}});
  });
}

std::vector<FlagSpec> PatientFlags(bool create) {
  auto flag = [create](std::string name, std::string value, std::string help) {
    return create && (name == "given_name" || name == "family_name" || name == "clinic")
               ? Req(std::move(name), std::move(value), std::move(help))
               : Opt(std::move(name), std::move(value), std::move(help));
  };
  return {flag("given_name", "TEXT", "given (first) name"),
          flag("family_name", "TEXT", "family (last) name"),
          flag("birth_date", "DATE", "date of birth, YYYY-MM-DD"),
          flag("phone", "E164", "mobile phone, e.g. +15125550100 (phone or email required)"),
          flag("email", "EMAIL", "email address"),
          flag("clinic", "ID", "the clinic that looks after the patient")};
}

// Copies the given patient flags into `p`, naming each in `mask` when not null.
absl::Status ApplyPatient(const Invocation& inv, sv1::Patient& p,
                          google::protobuf::FieldMask* mask) {
  auto set = [&](const char* flag, const char* field, auto setter) {
    if (!inv.Has(flag)) return;
    setter(inv.Get(flag));
    if (mask) mask->add_paths(field);
  };
  set("given_name", "given_name", [&](const std::string& v) { p.set_given_name(v); });
  set("family_name", "family_name", [&](const std::string& v) { p.set_family_name(v); });
  set("phone", "phone", [&](const std::string& v) { p.set_phone(v); });
  set("email", "email", [&](const std::string& v) { p.set_email(v); });
  set("clinic", "preferred_clinic_id", [&](const std::string& v) { p.set_preferred_clinic_id(v); });
  if (inv.Has("birth_date")) {
    ASSIGN_OR_RETURN(absl::CivilDay day, ParseDate("birth_date", inv.Get("birth_date")));
    *p.mutable_birth_date() = ToLocalDate(day);
    if (mask) mask->add_paths("birth_date");
  }
  return absl::OkStatus();
}

absl::Status PatientCreate(Invocation& inv) {
  sv1::CreatePatientRequest req;
  req.set_request_id(inv.client().NewRequestId());
  RETURN_IF_ERROR(ApplyPatient(inv, *req.mutable_patient(), nullptr));
  ASSIGN_OR_RETURN(sv1::Patient out, RPC(CreatePatient, req));
  PrintPatient(inv, out);
  return absl::OkStatus();
}

absl::Status PatientGet(Invocation& inv) {
  sv1::GetPatientRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(sv1::Patient out, RPC(GetPatient, req));
  PrintPatient(inv, out);
  return absl::OkStatus();
}

absl::Status PatientUpdate(Invocation& inv) {
  sv1::UpdatePatientRequest req;
  req.set_request_id(inv.client().NewRequestId());
  sv1::Patient given;
  RETURN_IF_ERROR(ApplyPatient(inv, given, req.mutable_update_mask()));
  if (req.update_mask().paths().empty()) return UsageError("nothing to change: give a field flag");
  sv1::Patient& p = *req.mutable_patient();
  if (inv.Has("etag")) {
    p.set_etag(inv.Get("etag"));
  } else {
    sv1::GetPatientRequest get;
    get.set_id(inv.Arg());
    ASSIGN_OR_RETURN(p, RPC(GetPatient, get));
  }
  p.set_id(inv.Arg());
  RETURN_IF_ERROR(ApplyPatient(inv, p, nullptr));
  ASSIGN_OR_RETURN(sv1::Patient out, RPC(UpdatePatient, req));
  PrintPatient(inv, out);
  return absl::OkStatus();
}

absl::Status PatientSearch(Invocation& inv) {
  sv1::SearchPatientsRequest req;
  req.set_query(inv.Get("query"));
  if (req.query().size() < 2) return UsageError("--query: at least 2 characters");
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(sv1::SearchPatientsResponse resp, RPC(SearchPatients, req));
  Show(inv, resp, [&] {
    Table t({"id", "name", "birth date", "phone", "email", "clinic"});
    for (const sv1::Patient& p : resp.patients()) {
      t.AddRow({p.id(), PatientName(p), FormatDate(p.birth_date()), p.phone(), p.email(),
                p.preferred_clinic_id()});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- clinic schedule, chairs, hours, exceptions

void PrintSchedule(Invocation& inv, const sv1::ClinicSchedule& s) {
  Show(inv, s, [&] {
    std::vector<std::string> hours;
    for (const sv1::WeeklyInterval& w : s.opening_hours()) {
      hours.push_back(FormatWeekly(w.day(), w.start_time(), w.end_time()));
    }
    const sv1::AppointmentDurations& d = s.durations();
    inv.out().Print(
        Fields{{"clinic", s.clinic_id()},
               {"time zone", s.time_zone()},
               {"opening hours", hours.empty() ? "(closed every day)" : absl::StrJoin(hours, ", ")},
               {"buffer after", FormatDuration(s.buffer_after())},
               {"late cancellation", FormatDuration(s.late_cancellation_window())},
               {"hold", FormatDuration(s.hold_duration())},
               {"slot step", FormatDuration(s.slot_step())},
               {"durations",
                absl::StrCat("consultation ", FormatDuration(d.consultation()), ", sample_patch ",
                             FormatDuration(d.sample_patch()), ", treatment_session ",
                             FormatDuration(d.treatment_session()), ", touch_up ",
                             FormatDuration(d.touch_up()), ", correction_consult ",
                             FormatDuration(d.correction_consult()))},
               {"etag", s.etag()}});
  });
}

absl::Status ScheduleGet(Invocation& inv) {
  sv1::GetClinicScheduleRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(sv1::ClinicSchedule out, RPC(GetClinicSchedule, req));
  PrintSchedule(inv, out);
  return absl::OkStatus();
}

absl::Status ScheduleUpdate(Invocation& inv) {
  // Everything is parsed before the first call.
  std::vector<WeeklySpan> open;
  for (const std::string& v : inv.AllRaw("open")) {
    ASSIGN_OR_RETURN(std::vector<WeeklySpan> spans, ParseWeekly("open", v));
    open.insert(open.end(), spans.begin(), spans.end());
  }
  std::map<std::string, google::protobuf::Duration> durations;
  for (const char* f : {"buffer", "late_cancellation", "hold", "slot_step"}) {
    if (inv.Has(f)) {
      ASSIGN_OR_RETURN(durations[f], ParseDuration(f, inv.Get(f)));
    }
  }
  std::map<sv1::AppointmentType, google::protobuf::Duration> type_durations;
  for (const std::string& v : inv.All("duration")) {
    std::vector<std::string> kv = absl::StrSplit(v, absl::MaxSplits('=', 1));
    if (kv.size() != 2) return UsageError("--duration: want TYPE=DURATION, e.g. consultation=45m");
    ASSIGN_OR_RETURN(sv1::AppointmentType type, ParseEnum<sv1::AppointmentType>("duration", kv[0]));
    ASSIGN_OR_RETURN(type_durations[type], ParseDuration("duration", kv[1]));
  }
  absl::TimeZone check;
  if (inv.Has("time_zone") && !absl::LoadTimeZone(inv.Get("time_zone"), &check)) {
    return UsageError(
        absl::StrCat("--time_zone: unknown IANA time zone \"", inv.Get("time_zone"), "\""));
  }

  const std::string clinic = inv.Get("clinic");
  sv1::GetClinicScheduleRequest get;
  get.set_clinic_id(clinic);
  absl::StatusOr<sv1::ClinicSchedule> current = RPC(GetClinicSchedule, get);
  if (!current.ok() && current.status().code() != absl::StatusCode::kNotFound) {
    return current.status();
  }
  // The first time there is none: the service fills in the defaults.
  sv1::ClinicSchedule s = current.ok() ? *current : sv1::ClinicSchedule();
  s.set_clinic_id(clinic);
  if (inv.Has("etag")) s.set_etag(inv.Get("etag"));
  if (inv.Has("time_zone")) {
    s.set_time_zone(inv.Get("time_zone"));
  } else if (s.time_zone().empty()) {
    // identity's record is the reference for the clinic's zone.
    ASSIGN_OR_RETURN(absl::TimeZone zone, inv.client().ClinicZone(clinic));
    s.set_time_zone(zone.name());
  }
  if (inv.Has("open")) {
    s.clear_opening_hours();
    for (const WeeklySpan& w : open) {
      sv1::WeeklyInterval* out = s.add_opening_hours();
      out->set_day(w.day);
      *out->mutable_start_time() = w.start;
      *out->mutable_end_time() = w.end;
    }
  }
  if (durations.count("buffer")) *s.mutable_buffer_after() = durations["buffer"];
  if (durations.count("late_cancellation")) {
    *s.mutable_late_cancellation_window() = durations["late_cancellation"];
  }
  if (durations.count("hold")) *s.mutable_hold_duration() = durations["hold"];
  if (durations.count("slot_step")) *s.mutable_slot_step() = durations["slot_step"];
  sv1::AppointmentDurations& d = *s.mutable_durations();
  for (const auto& [type, value] : type_durations) {
    switch (type) {
      case sv1::CONSULTATION:
        *d.mutable_consultation() = value;
        break;
      case sv1::SAMPLE_PATCH:
        *d.mutable_sample_patch() = value;
        break;
      case sv1::TREATMENT_SESSION:
        *d.mutable_treatment_session() = value;
        break;
      case sv1::TOUCH_UP:
        *d.mutable_touch_up() = value;
        break;
      case sv1::CORRECTION_CONSULT:
        *d.mutable_correction_consult() = value;
        break;
      default:
        break;
    }
  }
  sv1::UpdateClinicScheduleRequest req;
  req.set_request_id(inv.client().NewRequestId());
  *req.mutable_schedule() = s;
  ASSIGN_OR_RETURN(sv1::ClinicSchedule out, RPC(UpdateClinicSchedule, req));
  PrintSchedule(inv, out);
  return absl::OkStatus();
}

void PrintChairs(Invocation& inv, const std::vector<sv1::Chair>& chairs) {
  Table t({"id", "name", "clinic", "active"});
  for (const sv1::Chair& c : chairs) t.AddRow({c.id(), c.name(), c.clinic_id(), Yes(c.active())});
  inv.out().Print(t);
}

absl::Status ChairCreate(Invocation& inv) {
  sv1::CreateChairRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.mutable_chair()->set_clinic_id(inv.Get("clinic"));
  req.mutable_chair()->set_name(inv.Get("name"));
  ASSIGN_OR_RETURN(sv1::Chair out, RPC(CreateChair, req));
  Show(inv, out, [&] { PrintChairs(inv, {out}); });
  return absl::OkStatus();
}

absl::Status ChairList(Invocation& inv) {
  sv1::ListChairsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(sv1::ListChairsResponse resp, RPC(ListChairs, req));
  Show(inv, resp, [&] {
    PrintChairs(inv, {resp.chairs().begin(), resp.chairs().end()});
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status ChairUpdate(Invocation& inv) {
  sv1::UpdateChairRequest req;
  req.set_request_id(inv.client().NewRequestId());
  if (inv.Has("name")) req.mutable_update_mask()->add_paths("name");
  if (inv.Has("active")) req.mutable_update_mask()->add_paths("active");
  if (req.update_mask().paths().empty()) return UsageError("nothing to change: --name or --active");
  ASSIGN_OR_RETURN(bool active,
                   ParseBool("active", inv.Has("active") ? inv.Get("active") : "true"));
  sv1::Chair& c = *req.mutable_chair();
  c.set_id(inv.Arg());
  c.set_etag(inv.Get("etag"));
  if (!inv.Has("etag")) {
    // There is no GetChair: find it in its clinic's list, page by page.
    sv1::ListChairsRequest list;
    list.set_clinic_id(inv.Get("clinic"));
    list.set_page_size(500);
    if (list.clinic_id().empty()) return UsageError("give --clinic (to read the chair) or --etag");
    do {
      ASSIGN_OR_RETURN(sv1::ListChairsResponse chairs, RPC(ListChairs, list));
      for (const sv1::Chair& each : chairs.chairs()) {
        if (each.id() == inv.Arg()) c.set_etag(each.etag());
      }
      list.set_page_token(chairs.next_page_token());
    } while (c.etag().empty() && !list.page_token().empty());
    if (c.etag().empty()) {
      return absl::NotFoundError(
          absl::StrCat("no chair ", inv.Arg(), " at clinic ", list.clinic_id()));
    }
  }
  c.set_name(inv.Get("name"));
  c.set_active(active);
  ASSIGN_OR_RETURN(sv1::Chair out, RPC(UpdateChair, req));
  Show(inv, out, [&] { PrintChairs(inv, {out}); });
  return absl::OkStatus();
}

void PrintHours(Invocation& inv, const std::vector<sv1::WorkingHours>& all) {
  Table t({"practitioner", "clinic", "shifts"});
  for (const sv1::WorkingHours& h : all) {
    std::vector<std::string> shifts;
    for (const sv1::WeeklyInterval& w : h.intervals()) {
      shifts.push_back(FormatWeekly(w.day(), w.start_time(), w.end_time()));
    }
    t.AddRow({h.practitioner_id(), h.clinic_id(), absl::StrJoin(shifts, ", ")});
  }
  inv.out().Print(t);
}

absl::Status HoursSet(Invocation& inv) {
  sv1::SetWorkingHoursRequest req;
  req.set_request_id(inv.client().NewRequestId());
  sv1::WorkingHours& h = *req.mutable_working_hours();
  h.set_practitioner_id(inv.Get("practitioner"));
  h.set_clinic_id(inv.Get("clinic"));
  for (const std::string& v : inv.AllRaw("shift")) {
    ASSIGN_OR_RETURN(std::vector<WeeklySpan> spans, ParseWeekly("shift", v));
    for (const WeeklySpan& w : spans) {
      sv1::WeeklyInterval* out = h.add_intervals();
      out->set_day(w.day);
      *out->mutable_start_time() = w.start;
      *out->mutable_end_time() = w.end;
    }
  }
  if (inv.Has("etag")) {
    h.set_etag(inv.Get("etag"));
  } else {
    sv1::GetWorkingHoursRequest get;
    get.set_practitioner_id(h.practitioner_id());
    get.set_clinic_id(h.clinic_id());
    absl::StatusOr<sv1::WorkingHours> current = RPC(GetWorkingHours, get);
    if (current.ok()) {
      h.set_etag(current->etag());
    } else if (current.status().code() != absl::StatusCode::kNotFound) {
      return current.status();
    }
  }
  ASSIGN_OR_RETURN(sv1::WorkingHours out, RPC(SetWorkingHours, req));
  Show(inv, out, [&] { PrintHours(inv, {out}); });
  return absl::OkStatus();
}

absl::Status HoursList(Invocation& inv) {
  if (inv.Has("practitioner")) {
    sv1::GetWorkingHoursRequest req;
    req.set_practitioner_id(inv.Get("practitioner"));
    req.set_clinic_id(inv.Get("clinic"));
    ASSIGN_OR_RETURN(sv1::WorkingHours out, RPC(GetWorkingHours, req));
    Show(inv, out, [&] { PrintHours(inv, {out}); });
    return absl::OkStatus();
  }
  sv1::ListWorkingHoursRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(sv1::ListWorkingHoursResponse resp, RPC(ListWorkingHours, req));
  Show(inv, resp, [&] {
    PrintHours(inv, {resp.working_hours().begin(), resp.working_hours().end()});
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

void PrintExceptions(Invocation& inv, const std::vector<sv1::ScheduleException>& all) {
  Table t({"id", "kind", "practitioner", "start", "end", "reason"});
  for (const sv1::ScheduleException& e : all) {
    t.AddRow({e.id(), EnumName(e.kind()), e.practitioner_id(), FormatLocalDateTime(e.start()),
              FormatLocalDateTime(e.end()), e.reason()});
  }
  inv.out().Print(t);
}

absl::Status ExceptionCreate(Invocation& inv) {
  sv1::CreateScheduleExceptionRequest req;
  req.set_request_id(inv.client().NewRequestId());
  sv1::ScheduleException& e = *req.mutable_exception();
  e.set_clinic_id(inv.Get("clinic"));
  e.set_practitioner_id(inv.Get("practitioner"));
  ASSIGN_OR_RETURN(sv1::ExceptionKind kind, ParseEnum<sv1::ExceptionKind>("kind", inv.Get("kind")));
  e.set_kind(kind);
  // A bare date means the whole day: from its midnight to the next.
  auto local = [&](const char* flag, bool end) -> absl::StatusOr<cv1::LocalDateTime> {
    const std::string v = inv.Get(flag);
    if (v.size() == 10) {
      ASSIGN_OR_RETURN(absl::CivilDay day, ParseDate(flag, v));
      cv1::LocalDateTime out;
      *out.mutable_date() = ToLocalDate(end ? day + 1 : day);
      out.mutable_time();
      return out;
    }
    return ParseLocalDateTime(flag, v);
  };
  ASSIGN_OR_RETURN(*e.mutable_start(), local("start", false));
  ASSIGN_OR_RETURN(*e.mutable_end(), local("end", true));
  e.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(sv1::ScheduleException out, RPC(CreateScheduleException, req));
  Show(inv, out, [&] { PrintExceptions(inv, {out}); });
  return absl::OkStatus();
}

// --from/--to as clinic-local days (default: today and `days` - 1 after), resolved with the
// clinic's zone only when needed.
absl::Status ReadPeriod(Invocation& inv, const std::string& clinic, int default_days,
                        absl::CivilDay* from, absl::CivilDay* to) {
  std::optional<absl::CivilDay> f, t;
  if (inv.Has("from")) {
    ASSIGN_OR_RETURN(f, ParseDate("from", inv.Get("from")));
  }
  if (inv.Has("to")) {
    ASSIGN_OR_RETURN(t, ParseDate("to", inv.Get("to")));
  }
  if (f && t && *t < *f) return UsageError("--to is before --from");
  if (!f) {
    if (t) {
      f = *t - (default_days - 1);
    } else {
      ASSIGN_OR_RETURN(absl::TimeZone zone, inv.client().ClinicZone(clinic));
      f = absl::ToCivilDay(absl::Now(), zone);
    }
  }
  if (!t) t = *f + (default_days - 1);
  *from = *f;
  *to = *t;
  return absl::OkStatus();
}

absl::Status ExceptionList(Invocation& inv) {
  sv1::ListScheduleExceptionsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  absl::CivilDay from, to;
  RETURN_IF_ERROR(ReadPeriod(inv, req.clinic_id(), 31, &from, &to));
  *req.mutable_period()->mutable_start_date() = ToLocalDate(from);
  *req.mutable_period()->mutable_end_date() = ToLocalDate(to);
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(sv1::ListScheduleExceptionsResponse resp, RPC(ListScheduleExceptions, req));
  Show(inv, resp, [&] {
    PrintExceptions(inv, {resp.exceptions().begin(), resp.exceptions().end()});
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status ExceptionDelete(Invocation& inv) {
  sv1::DeleteScheduleExceptionRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(sv1::DeleteScheduleExceptionResponse resp, RPC(DeleteScheduleException, req));
  Show(inv, resp, [&] { inv.out().Line(absl::StrCat("exception ", req.id(), " deleted")); });
  return absl::OkStatus();
}

// ---- treatment plans

void PrintPlan(Invocation& inv, const sv1::TreatmentPlan& p) {
  const absl::TimeZone zone = Zone(inv, p.clinic_id());
  std::vector<std::string> sessions;
  for (const sv1::PlanSession& s : p.sessions()) {
    sessions.push_back(absl::StrCat("#", s.session_number(), " ",
                                    FormatTimestamp(s.start_time(), zone), " ",
                                    EnumName(s.status()), " (", s.appointment_id(), ")"));
  }
  std::string window;
  if (p.has_next_session_window()) {
    window = absl::StrCat(FormatTimestamp(p.next_session_window().start_time(), zone), " .. ",
                          FormatTimestamp(p.next_session_window().end_time(), zone));
  }
  std::string touch_up;
  if (p.has_touch_up_due()) {
    touch_up = absl::StrCat(FormatDate(p.touch_up_due().start_date()), " .. ",
                            FormatDate(p.touch_up_due().end_date()));
  }
  inv.out().Print(Fields{{"id", p.id()},
                         {"patient", p.patient_id()},
                         {"clinic", p.clinic_id()},
                         {"area", EnumName(p.area())},
                         {"status", EnumName(p.status())},
                         {"sessions planned", absl::StrCat(p.planned_sessions())},
                         {"sessions", absl::StrJoin(sessions, "; ")},
                         {"next session", window},
                         {"touch-up due", touch_up},
                         {"consultation", p.consultation_appointment_id()},
                         {"pigment notes", p.pigment_notes()},
                         {"etag", p.etag()}});
}

absl::Status PlanCreate(Invocation& inv) {
  sv1::CreateTreatmentPlanRequest req;
  req.set_request_id(inv.client().NewRequestId());
  sv1::TreatmentPlan& p = *req.mutable_plan();
  p.set_patient_id(inv.Get("patient"));
  p.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(sv1::TreatmentArea area, ParseEnum<sv1::TreatmentArea>("area", inv.Get("area")));
  p.set_area(area);
  ASSIGN_OR_RETURN(int64_t sessions, inv.Int("sessions", 2, 4, 3));
  p.set_planned_sessions(static_cast<int32_t>(sessions));
  p.set_consultation_appointment_id(inv.Get("consultation"));
  if (inv.Has("min_interval")) {
    ASSIGN_OR_RETURN(*p.mutable_min_interval(),
                     ParseDuration("min_interval", inv.Get("min_interval")));
  }
  if (inv.Has("max_interval")) {
    ASSIGN_OR_RETURN(*p.mutable_max_interval(),
                     ParseDuration("max_interval", inv.Get("max_interval")));
  }
  p.set_pigment_notes(inv.Get("pigment_notes"));
  ASSIGN_OR_RETURN(sv1::TreatmentPlan out, RPC(CreateTreatmentPlan, req));
  Show(inv, out, [&] { PrintPlan(inv, out); });
  return absl::OkStatus();
}

absl::Status PlanGet(Invocation& inv) {
  sv1::GetTreatmentPlanRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(sv1::TreatmentPlan out, RPC(GetTreatmentPlan, req));
  Show(inv, out, [&] { PrintPlan(inv, out); });
  return absl::OkStatus();
}

absl::Status PlanList(Invocation& inv) {
  sv1::ListTreatmentPlansRequest req;
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(sv1::ListTreatmentPlansResponse resp, RPC(ListTreatmentPlans, req));
  Show(inv, resp, [&] {
    Table t({"id", "clinic", "area", "status", "planned", "booked"});
    for (const sv1::TreatmentPlan& p : resp.plans()) {
      t.AddRow({p.id(), p.clinic_id(), EnumName(p.area()), EnumName(p.status()),
                absl::StrCat(p.planned_sessions()), absl::StrCat(p.sessions_size())});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status PlanCancel(Invocation& inv) {
  sv1::CancelTreatmentPlanRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  if (inv.Has("etag")) {
    req.set_etag(inv.Get("etag"));
  } else {
    sv1::GetTreatmentPlanRequest get;
    get.set_id(inv.Arg());
    ASSIGN_OR_RETURN(sv1::TreatmentPlan current, RPC(GetTreatmentPlan, get));
    req.set_etag(current.etag());
  }
  ASSIGN_OR_RETURN(sv1::TreatmentPlan out, RPC(CancelTreatmentPlan, req));
  Show(inv, out, [&] { PrintPlan(inv, out); });
  return absl::OkStatus();
}

// ---- availability and appointments

void PrintAppointments(Invocation& inv, const std::vector<const sv1::Appointment*>& all) {
  Table t({"id", "start", "end", "type", "status", "patient", "practitioner", "chair"});
  for (const sv1::Appointment* a : all) {
    const absl::TimeZone zone = Zone(inv, a->clinic_id());
    std::string type = EnumName(a->type());
    if (a->session_number() > 0) absl::StrAppend(&type, " #", a->session_number());
    t.AddRow({a->id(), FormatTimestamp(a->start_time(), zone), FormatTimestamp(a->end_time(), zone),
              type, EnumName(a->status()), a->patient_id(), a->practitioner_id(), a->chair_id()});
  }
  inv.out().Print(t);
}

Fields AppointmentFields(Invocation& inv, const sv1::Appointment& a) {
  const absl::TimeZone zone = Zone(inv, a.clinic_id());
  std::vector<std::string> supplies;
  for (const inventory::v1::IssuedItem& i : a.supplies()) {
    std::string item = absl::StrCat(i.product_name(), " lot ", i.lot_number());
    if (!i.serial().empty()) absl::StrAppend(&item, " serial ", i.serial());
    if (!i.bottle_id().empty()) absl::StrAppend(&item, " bottle ", i.bottle_id());
    if (i.quantity() > 1) absl::StrAppend(&item, " x", i.quantity());
    supplies.push_back(item);
  }
  std::string cancelled;
  if (a.has_cancellation()) {
    cancelled =
        absl::StrCat(FormatTimestamp(a.cancellation().cancel_time(), zone), " by ",
                     a.cancellation().cancelled_by(), " for the ",
                     a.cancellation().initiator() == sv1::INITIATOR_CLINIC ? "clinic" : "patient",
                     ": ", a.cancellation().reason(), a.cancellation().late() ? " (late)" : "");
  }
  std::string stopped;
  if (a.has_stop()) {
    stopped = absl::StrCat(FormatTimestamp(a.stop().stop_time(), zone), " by ",
                           a.stop().stopped_by(), " for the ",
                           a.stop().initiator() == sv1::INITIATOR_CLINIC ? "clinic" : "patient",
                           a.stop().started() ? " (after it started)" : " (not done)", ": ",
                           a.stop().reason(), a.stop().charged() ? " (charged)" : "");
  }
  return Fields{
      {"id", a.id()},
      {"clinic", a.clinic_id()},
      {"patient", a.patient_id()},
      {"practitioner", a.practitioner_id()},
      {"chair", a.chair_id()},
      {"type", EnumName(a.type())},
      {"plan",
       a.plan_id().empty() ? "" : absl::StrCat(a.plan_id(), " session ", a.session_number())},
      {"start", FormatTimestamp(a.start_time(), zone)},
      {"end", FormatTimestamp(a.end_time(), zone)},
      {"status", EnumName(a.status())},
      {"hold until", FormatTimestamp(a.hold_expire_time(), zone)},
      {"cancelled", cancelled},
      {"stopped", stopped},
      {"supplies", absl::StrJoin(supplies, "; ")},
      {"notes", a.notes()},
      {"change", a.change_sequence() ? absl::StrCat(a.change_sequence()) : ""},
      {"etag", a.etag()}};
}

void PrintAppointment(Invocation& inv, const sv1::Appointment& a) {
  Show(inv, a, [&] { inv.out().Print(AppointmentFields(inv, a)); });
}

absl::StatusOr<sv1::Appointment> GetAppointment(Invocation& inv, const std::string& id) {
  sv1::GetAppointmentRequest req;
  req.set_id(id);
  return RPC(GetAppointment, req);
}

// The etag to send: --etag, else the appointment's current one.
absl::StatusOr<std::string> AppointmentEtag(Invocation& inv) {
  if (inv.Has("etag")) return inv.Get("etag");
  ASSIGN_OR_RETURN(sv1::Appointment a, GetAppointment(inv, inv.Arg()));
  return a.etag();
}

absl::Status AvailabilityFind(Invocation& inv) {
  sv1::FindAvailabilityRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(
      sv1::AppointmentType type,
      ParseEnum<sv1::AppointmentType>("type", inv.Has("type") ? inv.Get("type") : "consultation"));
  req.set_type(type);
  req.set_practitioner_id(inv.Get("practitioner"));
  req.set_plan_id(inv.Get("plan"));
  if (inv.Has("duration")) {
    ASSIGN_OR_RETURN(*req.mutable_duration(), ParseDuration("duration", inv.Get("duration")));
  }
  ASSIGN_OR_RETURN(int64_t max, inv.Int("max", 1, 1000, 0));
  req.set_max_slots(static_cast<int32_t>(max));
  absl::CivilDay from, to;
  RETURN_IF_ERROR(ReadPeriod(inv, req.clinic_id(), 7, &from, &to));
  *req.mutable_period()->mutable_start_date() = ToLocalDate(from);
  *req.mutable_period()->mutable_end_date() = ToLocalDate(to);
  ASSIGN_OR_RETURN(sv1::FindAvailabilityResponse resp, RPC(FindAvailability, req));
  Show(inv, resp, [&] {
    const absl::TimeZone zone = Zone(inv, req.clinic_id());
    Table t({"start", "end", "practitioner", "chair"});
    for (const sv1::Slot& s : resp.slots()) {
      t.AddRow({FormatTimestamp(s.start_time(), zone), FormatTimestamp(s.end_time(), zone),
                s.practitioner_id(), s.chair_id()});
    }
    inv.out().Print(t);
    if (resp.truncated()) inv.out().Note("more slots exist: raise --max or narrow the period");
  });
  return absl::OkStatus();
}

absl::Status AppointmentBook(Invocation& inv) {
  sv1::BookAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_patient_id(inv.Get("patient"));
  req.set_practitioner_id(inv.Get("practitioner"));
  req.set_chair_id(inv.Get("chair"));
  ASSIGN_OR_RETURN(
      sv1::AppointmentType type,
      ParseEnum<sv1::AppointmentType>("type", inv.Has("type") ? inv.Get("type") : "consultation"));
  req.set_type(type);
  ASSIGN_OR_RETURN(TimeArg start, ParseTimeArg("start", inv.Get("start")));
  if (inv.Has("duration")) {
    ASSIGN_OR_RETURN(*req.mutable_duration(), ParseDuration("duration", inv.Get("duration")));
  }
  req.set_plan_id(inv.Get("plan"));
  req.set_hold(inv.Bool("hold"));
  req.set_notes(inv.Get("notes"));
  absl::TimeZone zone = absl::UTCTimeZone();
  if (start.needs_zone()) {
    ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(req.clinic_id()));
  }
  *req.mutable_start_time() = ToProtoTimestamp(start.Resolve(zone));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(BookAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentConfirm(Invocation& inv) {
  sv1::ConfirmAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(ConfirmAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentReschedule(Invocation& inv) {
  sv1::RescheduleAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(TimeArg start, ParseTimeArg("start", inv.Get("start")));
  req.set_practitioner_id(inv.Get("practitioner"));
  req.set_chair_id(inv.Get("chair"));
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!inv.Has("etag") || start.needs_zone()) {
    ASSIGN_OR_RETURN(sv1::Appointment current, GetAppointment(inv, inv.Arg()));
    req.set_etag(current.etag());
    if (start.needs_zone()) {
      ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(current.clinic_id()));
    }
  }
  if (inv.Has("etag")) req.set_etag(inv.Get("etag"));
  *req.mutable_start_time() = ToProtoTimestamp(start.Resolve(zone));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(RescheduleAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

// --by=patient|clinic: who asked for a cancellation or a stop.
absl::StatusOr<sv1::Initiator> ParseInitiator(const std::string& by) {
  if (by == "patient") return sv1::INITIATOR_PATIENT;
  if (by == "clinic") return sv1::INITIATOR_CLINIC;
  return UsageError(absl::StrCat("--by: want patient or clinic, got \"", by, "\""));
}

absl::Status AppointmentCancel(Invocation& inv) {
  sv1::CancelAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(sv1::Initiator by, ParseInitiator(inv.Get("by")));
  req.set_initiator(by);
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(CancelAppointment, req));
  PrintAppointment(inv, out);
  if (!inv.out().json() && out.cancellation().late()) {
    inv.out().Note("note: a late cancellation (inside the window recorded at booking)");
  }
  return absl::OkStatus();
}

absl::Status AppointmentCheckIn(Invocation& inv) {
  sv1::CheckInAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(CheckInAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentStart(Invocation& inv) {
  sv1::StartAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  for (const std::string& v : inv.All("supply")) {
    ASSIGN_OR_RETURN(*req.add_supplies(), ParseIssueLine("supply", v));
  }
  if (req.supplies_size() > 50) return UsageError("--supply: at most 50 lines");
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(StartAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

// --checklist=all, or the items done: gloves,mask,sterile_field,sealed_needles,sharps.
absl::StatusOr<compliance::v1::ProcedureChecklist> ParseChecklist(
    const std::vector<std::string>& items) {
  compliance::v1::ProcedureChecklist c;
  for (const std::string& item : items) {
    if (item == "all") {
      c.set_gloves_worn(true);
      c.set_mask_worn(true);
      c.set_sterile_field(true);
      c.set_sealed_needles_opened_before_client(true);
      c.set_sharps_disposed(true);
    } else if (item == "gloves") {
      c.set_gloves_worn(true);
    } else if (item == "mask") {
      c.set_mask_worn(true);
    } else if (item == "sterile_field") {
      c.set_sterile_field(true);
    } else if (item == "sealed_needles") {
      c.set_sealed_needles_opened_before_client(true);
    } else if (item == "sharps") {
      c.set_sharps_disposed(true);
    } else {
      return UsageError(absl::StrCat("--checklist: unknown item \"", item,
                                     "\"; use all, or gloves,mask,sterile_field,sealed_needles,"
                                     "sharps"));
    }
  }
  return c;
}

absl::Status AppointmentComplete(Invocation& inv) {
  sv1::CompleteAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_checklist(), ParseChecklist(inv.All("checklist")));
  req.set_pigment_blend(inv.Get("blend"));
  req.set_anaesthetic(inv.Get("anaesthetic"));
  req.set_notes(inv.Get("notes"));
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::CompleteAppointmentResponse out, RPC(CompleteAppointment, req));
  Show(inv, out, [&] {
    inv.out().Print(AppointmentFields(inv, out.appointment()));
    if (out.has_next_session_window()) {
      const absl::TimeZone zone = Zone(inv, out.appointment().clinic_id());
      inv.out().Line(absl::StrCat(
          "next session: between ", FormatTimestamp(out.next_session_window().start_time(), zone),
          " and ", FormatTimestamp(out.next_session_window().end_time(), zone)));
    }
    if (!out.aftercare().empty()) {
      inv.out().Line("");
      Table t({"from", "until", "aftercare"});
      for (const sv1::AftercareItem& a : out.aftercare()) {
        t.AddRow({FormatDate(a.from_date()), FormatDate(a.until_date()), a.instruction()});
      }
      inv.out().Print(t);
    }
  });
  return absl::OkStatus();
}

absl::Status AppointmentStop(Invocation& inv) {
  sv1::StopAppointmentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(sv1::Initiator by, ParseInitiator(inv.Get("by")));
  req.set_initiator(by);
  ASSIGN_OR_RETURN(*req.mutable_checklist(), ParseChecklist(inv.All("checklist")));
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(StopAppointment, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentNoShow(Invocation& inv) {
  sv1::MarkNoShowRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_etag(), AppointmentEtag(inv));
  ASSIGN_OR_RETURN(sv1::Appointment out, RPC(MarkNoShow, req));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentGet(Invocation& inv) {
  ASSIGN_OR_RETURN(sv1::Appointment out, GetAppointment(inv, inv.Arg()));
  PrintAppointment(inv, out);
  return absl::OkStatus();
}

absl::Status AppointmentList(Invocation& inv) {
  sv1::ListAppointmentsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_practitioner_id(inv.Get("practitioner"));
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  absl::CivilDay from, to;
  RETURN_IF_ERROR(ReadPeriod(inv, req.clinic_id(), 7, &from, &to));
  ASSIGN_OR_RETURN(absl::TimeZone zone, inv.client().ClinicZone(req.clinic_id()));
  *req.mutable_period()->mutable_start_time() = ToProtoTimestamp(zone.At(from).pre);
  *req.mutable_period()->mutable_end_time() = ToProtoTimestamp(zone.At(to + 1).pre);
  ASSIGN_OR_RETURN(sv1::ListAppointmentsResponse resp, RPC(ListAppointments, req));
  Show(inv, resp, [&] {
    std::vector<const sv1::Appointment*> all;
    for (const sv1::Appointment& a : resp.appointments()) all.push_back(&a);
    PrintAppointments(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status ChangesList(Invocation& inv) {
  sv1::ListChangesRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(int64_t since, inv.Int("since", 0, INT64_MAX, 0));
  req.set_since_sequence(since);
  ASSIGN_OR_RETURN(int64_t size, inv.Int("page_size", 1, 5000, 0));
  req.set_page_size(static_cast<int32_t>(size));
  ASSIGN_OR_RETURN(sv1::ListChangesResponse resp, RPC(ListChanges, req));
  Show(inv, resp, [&] {
    const absl::TimeZone zone = Zone(inv, req.clinic_id());
    Table t({"seq", "change", "appointment", "status", "start", "committed"});
    for (const sv1::Change& c : resp.changes()) {
      t.AddRow({absl::StrCat(c.sequence()), EnumName(c.type()), c.appointment().id(),
                EnumName(c.appointment().status()),
                FormatTimestamp(c.appointment().start_time(), zone),
                FormatTimestamp(c.commit_time(), zone)});
    }
    inv.out().Print(t);
    const int64_t last = resp.changes().empty() ? since : resp.changes().rbegin()->sequence();
    if (last < resp.head_sequence()) {
      inv.out().Note(absl::StrCat("more changes: repeat with --since=", last, " (head ",
                                  resp.head_sequence(), ")"));
    }
  });
  return absl::OkStatus();
}

std::string TypeChoices() { return EnumChoices(sv1::AppointmentType_descriptor()); }

}  // namespace

void AddSchedulingCommands(Registry& r) {
  const Service s = Service::kScheduling;
  r.Add({{"patient", "create"},
         s,
         "register a patient (front desk, admin)",
         "",
         false,
         PatientFlags(true),
         "Example: smpctl patient create --given_name=Sam --family_name=Rivera "
         "--phone=+12125550142 --clinic=$CLINIC",
         PatientCreate});
  r.Add({{"patient", "get"}, s, "show a patient", "ID", true, {}, "", PatientGet});
  {
    std::vector<FlagSpec> flags = PatientFlags(false);
    flags.push_back(EtagFlag());
    r.Add({{"patient", "update"},
           s,
           "change a patient's details",
           "ID",
           true,
           flags,
           "",
           PatientUpdate});
  }
  r.Add({{"patient", "search"},
         s,
         "find patients by name, phone or email",
         "",
         false,
         WithPaging({Req("query", "TEXT", "text to find (2..100 characters)"),
                     Opt("clinic", "ID", "only this clinic's patients")}),
         "",
         PatientSearch});

  r.Add({{"schedule", "get"},
         s,
         "show a clinic's scheduling settings",
         "",
         false,
         {Req("clinic", "ID", "the clinic")},
         "",
         ScheduleGet});
  r.Add({{"schedule", "update"},
         s,
         "change a clinic's opening hours and booking policies (admin); unchanged settings stay",
         "",
         false,
         {Req("clinic", "ID", "the clinic"),
          Opt("time_zone", "ZONE", "IANA time zone (default: the clinic's, from identity)"),
          Rep("open", "DAYS/HH:MM-HH:MM",
              "opening hours, e.g. mon-fri/09:00-18:00 (replaces all opening hours)"),
          Opt("buffer", "DURATION", "cleaning time after each appointment, e.g. 30m"),
          Opt("late_cancellation", "DURATION", "late-cancellation window, e.g. 48h"),
          Opt("hold", "DURATION", "how long a held slot stays reserved, e.g. 10m"),
          Opt("slot_step", "DURATION", "granularity of offered start times, e.g. 15m"),
          Rep("duration", "TYPE=DURATION", "default duration of a type, e.g. consultation=45m"),
          EtagFlag()},
         "Example: smpctl schedule update --clinic=$CLINIC --open=mon-fri/09:00-18:00 "
         "--open=sat/10:00-14:00",
         ScheduleUpdate});
  r.Add({{"chair", "create"},
         s,
         "add a chair or treatment room to a clinic (admin)",
         "",
         false,
         {Req("clinic", "ID", "the clinic"), Req("name", "TEXT", "e.g. \"Room 2\"")},
         "",
         ChairCreate});
  r.Add({{"chair", "list"},
         s,
         "list a clinic's chairs",
         "",
         false,
         WithPaging({Req("clinic", "ID", "the clinic")}),
         "",
         ChairList});
  r.Add({{"chair", "update"},
         s,
         "rename or retire a chair (admin)",
         "ID",
         true,
         {Opt("clinic", "ID", "its clinic (to read its etag)"), Opt("name", "TEXT", "new name"),
          Opt("active", "BOOL", "false retires it"), EtagFlag()},
         "",
         ChairUpdate});
  r.Add(
      {{"hours", "set"},
       s,
       "replace a practitioner's weekly working hours at a clinic (admin)",
       "",
       false,
       {Req("practitioner", "ID", "the practitioner (staff id)"), Req("clinic", "ID", "the clinic"),
        Rep("shift", "DAYS/HH:MM-HH:MM", "a weekly shift, e.g. mon-fri/09:00-17:00"), EtagFlag()},
       "",
       HoursSet});
  r.Add({{"hours", "list"},
         s,
         "list working hours at a clinic",
         "",
         false,
         WithPaging({Req("clinic", "ID", "the clinic"),
                     Opt("practitioner", "ID", "only this practitioner")}),
         "",
         HoursList});
  r.Add({{"exception", "create"},
         s,
         "add leave, a closure or an extra shift (admin)",
         "",
         false,
         {Req("clinic", "ID", "the clinic"), Req("kind", "KIND", "leave, closure or extra_shift"),
          Opt("practitioner", "ID", "the practitioner (leave, extra_shift)"),
          Req("start", "LOCAL", "clinic-local start, YYYY-MM-DDTHH:MM, or a date"),
          Req("end", "LOCAL", "clinic-local end, YYYY-MM-DDTHH:MM, or a date (inclusive)"),
          Opt("reason", "TEXT", "why")},
         "",
         ExceptionCreate});
  r.Add({{"exception", "list"},
         s,
         "list a clinic's exceptions in a period",
         "",
         false,
         WithPaging({Req("clinic", "ID", "the clinic"),
                     Opt("from", "DATE", "first day (default today)"),
                     Opt("to", "DATE", "last day (default from + 30 days)")}),
         "",
         ExceptionList});
  r.Add({{"exception", "delete"},
         s,
         "remove an exception (admin)",
         "ID",
         true,
         {},
         "",
         ExceptionDelete});

  r.Add({{"plan", "create"},
         s,
         "start a treatment plan of 2 to 4 sessions",
         "",
         false,
         {Req("patient", "ID", "the patient"), Req("clinic", "ID", "the clinic that treats"),
          Req("area", "AREA", "hairline, crown, full_scalp, scar_camouflage or density"),
          Opt("sessions", "N", "planned sessions, 2..4 (default 3)"),
          Opt("consultation", "ID", "the consultation appointment"),
          Opt("min_interval", "DURATION", "shortest gap between sessions (default 240h)"),
          Opt("max_interval", "DURATION", "longest gap (default 1008h)"),
          Opt("pigment_notes", "TEXT", "shade and blend notes")},
         "",
         PlanCreate});
  r.Add({{"plan", "get"},
         s,
         "show a plan, its sessions and the next session's window",
         "ID",
         true,
         {},
         "",
         PlanGet});
  r.Add({{"plan", "list"},
         s,
         "list a patient's plans",
         "",
         false,
         WithPaging({Req("patient", "ID", "the patient")}),
         "",
         PlanList});
  r.Add({{"plan", "cancel"},
         s,
         "cancel a plan",
         "ID",
         true,
         {Req("reason", "TEXT", "why"), EtagFlag()},
         "",
         PlanCancel});

  r.Add({{"availability", "find"},
         s,
         "free slots of an appointment type at a clinic",
         "",
         false,
         {Req("clinic", "ID", "the clinic"),
          Opt("type", "TYPE", TypeChoices() + " (default consultation)"),
          Opt("from", "DATE", "first clinic-local day (default today)"),
          Opt("to", "DATE", "last day (default from + 6 days; at most 62 days)"),
          Opt("practitioner", "ID", "only this practitioner"),
          Opt("plan", "ID", "the next session of this plan (inside its healing window)"),
          Opt("duration", "DURATION", "override the type's duration"),
          Opt("max", "N", "at most N slots (default 200)")},
         "Times print in the clinic's zone; pass one to `appointment book --start` as printed.",
         AvailabilityFind});
  r.Add({{"appointment", "book"},
         s,
         "book (or, with --hold, hold) an appointment",
         "",
         false,
         {Req("clinic", "ID", "the clinic"), Req("patient", "ID", "the patient"),
          Req("practitioner", "ID", "the practitioner (staff id)"),
          Req("start", "TIME", "RFC 3339, or clinic-local YYYY-MM-DDTHH:MM"),
          Opt("type", "TYPE", TypeChoices() + " (default consultation)"),
          Opt("chair", "ID", "the chair (default: any free one)"),
          Opt("duration", "DURATION", "override the type's duration"),
          Opt("plan", "ID", "the plan of a treatment session"),
          Switch("hold", "hold the slot as proposed for the clinic's hold time"),
          Opt("notes", "TEXT", "front-desk notes")},
         "Example: smpctl appointment book --clinic=$C --patient=$P --practitioner=$T "
         "--start=2026-12-01T10:00",
         AppointmentBook});
  r.Add({{"appointment", "confirm"},
         s,
         "turn a held appointment into a booking",
         "ID",
         true,
         {EtagFlag()},
         "",
         AppointmentConfirm});
  r.Add({{"appointment", "reschedule"},
         s,
         "move an appointment that has not started",
         "ID",
         true,
         {Req("start", "TIME", "new start: RFC 3339, or clinic-local YYYY-MM-DDTHH:MM"),
          Opt("practitioner", "ID", "new practitioner (default: the same)"),
          Opt("chair", "ID", "new chair (default: the same if free)"), EtagFlag()},
         "",
         AppointmentReschedule});
  r.Add({{"appointment", "cancel"},
         s,
         "cancel an appointment that has not started",
         "ID",
         true,
         {Req("reason", "TEXT", "why"),
          Req("by", "WHO",
              "who asked: patient or clinic (only a patient's late cancellation of a "
              "confirmed booking is charged)"),
          EtagFlag()},
         "",
         AppointmentCancel});
  r.Add({{"appointment", "check-in"},
         s,
         "the patient has arrived",
         "ID",
         true,
         {EtagFlag()},
         "",
         AppointmentCheckIn});
  r.Add({{"appointment", "start"},
         s,
         "the procedure starts; inventory issues the supplies (technician)",
         "ID",
         true,
         {Rep("supply", "KIND=VALUE",
              "serial=SERIAL (needle unit), lot=LOT_ID:QTY (lot count) or bottle=BOTTLE_ID "
              "(open pigment bottle); none for a consultation"),
          EtagFlag()},
         "Example: smpctl appointment start $A --supply serial=UDI-0001 --supply lot=$LOT:1 "
         "--supply bottle=$BOTTLE",
         AppointmentStart});
  r.Add({{"appointment", "complete"},
         s,
         "the procedure is done: record checklist, blend, anaesthetic (technician)",
         "ID",
         true,
         {Rep("checklist", "ITEMS",
              "all, or the items done: gloves,mask,sterile_field,sealed_needles,sharps (unticked "
              "items are recorded and flagged, not refused)"),
          Opt("blend", "TEXT", "pigment blend, for a matching touch-up later"),
          Opt("anaesthetic", "TEXT", "e.g. \"lidocaine 5% cream\""),
          Opt("notes", "TEXT", "notes for the procedure record"), EtagFlag()},
         "Prints the aftercare schedule and, for a plan session, the next session's window.",
         AppointmentComplete});
  r.Add({{"appointment", "stop"},
         s,
         "stop a procedure in progress, or record an arrived one as not done (technician)",
         "ID",
         true,
         {Req("reason", "TEXT", "why, e.g. \"herpes outbreak found at the chair\""),
          Req("by", "WHO", "who asked: patient or clinic"),
          Rep("checklist", "ITEMS",
              "for a started procedure: all, or gloves,mask,sterile_field,sealed_needles,sharps"),
          EtagFlag()},
         "What was issued stays on the appointment and goes to compliance's record.",
         AppointmentStop});
  r.Add({{"appointment", "no-show"},
         s,
         "the patient did not come (from the start plus the clinic's grace, 15 min by default)",
         "ID",
         true,
         {EtagFlag()},
         "",
         AppointmentNoShow});
  r.Add({{"appointment", "get"}, s, "show an appointment", "ID", true, {}, "", AppointmentGet});
  r.Add({{"appointment", "list"},
         s,
         "list a clinic's appointments in a period",
         "",
         false,
         WithPaging({Req("clinic", "ID", "the clinic"),
                     Opt("from", "DATE", "first clinic-local day (default today)"),
                     Opt("to", "DATE", "last day (default from + 6 days)"),
                     Opt("practitioner", "ID", "only this practitioner"),
                     Opt("patient", "ID", "only this patient")}),
         "",
         AppointmentList});
  r.Add({{"changes", "list"},
         s,
         "a clinic's appointment change feed (branch sync)",
         "",
         false,
         {Req("clinic", "ID", "the clinic"),
          Opt("since", "SEQ", "changes after this sequence number (default 0: all)"),
          Opt("page_size", "N", "at most N changes (default 500)")},
         "",
         ChangesList});
}

}  // namespace smp::smpctl
