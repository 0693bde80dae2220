#include "services/scheduling/scheduling_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/peer/compliance_deliverer.h"
#include "common/rpc/handler.h"
#include "common/rpc/read_scoped.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "google/protobuf/descriptor.h"
#include "services/scheduling/aftercare.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/billing_events.h"
#include "services/scheduling/calendar_loader.h"
#include "services/scheduling/plan_rules.h"
#include "services/scheduling/procedure_record.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {
namespace {

constexpr int kMaxSlotsDefault = 200;
constexpr int kMaxSlotsLimit = 1000;
constexpr int kChangesPageDefault = 500;
constexpr int kChangesPageMax = 5000;

std::optional<std::vector<std::string>> ScopeFilter(const Principal& who) {
  if (who.IsChainWide()) return std::nullopt;
  return who.clinic_ids;
}

absl::TimeZone ZoneOf(const v1::ClinicSchedule& schedule) {
  absl::TimeZone zone;
  absl::LoadTimeZone(schedule.time_zone(), &zone);  // validated when the schedule was saved
  return zone;
}

std::string LocalText(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, zone);
}

}  // namespace

SchedulingServiceImpl::SchedulingServiceImpl(SchedulingDeps deps)
    : deps_(std::move(deps)),
      authorizer_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::SchedulingService::service_full_name()),
                  deps_.authenticator) {}

absl::StatusOr<v1::ClinicSchedule> SchedulingServiceImpl::RequireSchedule(
    Transaction& txn, absl::string_view clinic_id, absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> schedule, store_.GetSchedule(txn, clinic_id));
  if (!schedule.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": clinic ", clinic_id,
        " has no schedule here (an unknown clinic, or an admin has not set its hours yet)"));
  }
  return *schedule;
}

void SchedulingServiceImpl::NotifyCommitted(const v1::Appointment& a) {
  deps_.notifier->Notify(a.clinic_id(), a.change_sequence());
}

absl::Status SchedulingServiceImpl::RecordChange(Transaction& txn, v1::Appointment& a,
                                                 v1::ChangeType type, int64_t new_version,
                                                 absl::Time now) {
  ASSIGN_OR_RETURN(int64_t sequence, store_.NextSequence(txn, a.clinic_id()));
  a.set_change_sequence(sequence);
  a.set_etag(EtagOf(new_version));
  *a.mutable_update_time() = ToProtoTimestamp(now);
  v1::Change change;
  change.set_sequence(sequence);
  change.set_clinic_id(a.clinic_id());
  change.set_type(type);
  *change.mutable_appointment() = a;
  *change.mutable_commit_time() = ToProtoTimestamp(now);
  return store_.AppendChange(txn, change);
}

absl::Status SchedulingServiceImpl::LapseHolds(Transaction& txn,
                                               const std::vector<std::string>& resources,
                                               Interval block, absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<std::string> occupants, store_.Occupants(txn, resources, block));
  for (const std::string& id : occupants) {
    ASSIGN_OR_RETURN(v1::Appointment held, store_.GetAppointment(txn, id));
    if (held.status() != v1::PROPOSED || FromProtoTimestamp(held.hold_expire_time()) > now) {
      continue;
    }
    RETURN_IF_ERROR(CancelLapsedHold(txn, held, now));
  }
  return absl::OkStatus();
}

absl::Status SchedulingServiceImpl::CancelLapsedHold(Transaction& txn, v1::Appointment& held,
                                                     absl::Time now) {
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", held.etag()));
  held.set_status(v1::CANCELLED);
  held.clear_hold_expire_time();
  held.mutable_cancellation()->set_reason("hold lapsed");
  *held.mutable_cancellation()->mutable_cancel_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(store_.Release(txn, held.id()));
  RETURN_IF_ERROR(RecordChange(txn, held, v1::CHANGE_TYPE_CANCELLED, version + 1, now));
  return store_.UpdateAppointment(txn, held, FromProtoTimestamp(held.end_time()), version);
}

absl::Status SchedulingServiceImpl::TakeSlot(Transaction& txn, const v1::ClinicSchedule& schedule,
                                             v1::Appointment& a, bool chair_chosen,
                                             absl::Time now) {
  const absl::TimeZone zone = ZoneOf(schedule);
  const absl::Time start = FromProtoTimestamp(a.start_time());
  const absl::Time end = FromProtoTimestamp(a.end_time());
  if (start < now) return absl::InvalidArgumentError("start_time: is in the past");
  const absl::CivilDay day = absl::ToCivilDay(start, zone);
  CalendarScope scope{day, day, a.practitioner_id(), chair_chosen ? a.chair_id() : "", a.id()};
  // Only what overlaps this appointment's own block can stop it.
  scope.busy_window =
      Interval{start, end + std::max(ToDuration(schedule.buffer_after()), absl::ZeroDuration())};
  ASSIGN_OR_RETURN(CalendarInputs in, LoadCalendars(store_, txn, schedule, scope, now));
  in.query.duration = end - start;
  in.query.not_before = start;
  in.query.not_after = start;
  in.query.max_slots = kMaxSlotsLimit;
  const AvailabilityResult result = FindSlots(in.query, in.practitioners, in.chairs);
  const Slot* chosen = nullptr;
  for (const Slot& s : result.slots) {
    if (s.start == start && s.practitioner_id == a.practitioner_id()) {
      chosen = &s;
      break;
    }
  }
  if (chosen == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "practitioner ", a.practitioner_id(), " cannot take ", LocalText(start, zone), " to ",
        LocalText(end, zone),
        chair_chosen ? absl::StrCat(" in chair ", a.chair_id()) : std::string(),
        ": outside opening or working hours, off the ", absl::FormatDuration(in.query.step),
        " grid, or already booked; FindAvailability lists free slots"));
  }
  a.set_chair_id(chosen->chair_id);
  const Interval block{start, end + in.query.buffer_after};
  RETURN_IF_ERROR(LapseHolds(txn, {a.practitioner_id(), a.chair_id()}, block, now));
  // The check above read a snapshot; the occupancy rows are what actually exclude a concurrent
  // booking of the same practitioner or chair (a primary-key collision fails the transaction).
  return store_.Occupy(txn, a, block);
}

namespace {

// Sets the next-session window of a plan or a completion response, or clears it when there is none.
template <typename Message>
void SetNextWindow(const v1::TreatmentPlan& plan, Message& out) {
  const std::optional<Interval> window = NextSessionWindow(plan);
  if (!window.has_value()) {
    out.clear_next_session_window();
    return;
  }
  *out.mutable_next_session_window()->mutable_start_time() = ToProtoTimestamp(window->start);
  *out.mutable_next_session_window()->mutable_end_time() = ToProtoTimestamp(window->end);
}

}  // namespace

absl::StatusOr<int> SchedulingServiceImpl::SweepLapsedHolds() {
  const absl::Time now = deps_.clock->Now();
  std::vector<v1::Appointment> lapsed;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT DISTINCT clinic_id FROM appointments "
                                          "WHERE status = 'PROPOSED' AND hold_expire_time <= ?",
                                          {ToDbMicros(now)}));
    for (const Row& row : rows) {
      ASSIGN_OR_RETURN(std::vector<v1::Appointment> holds,
                       store_.LapsedHolds(txn, row.Text(0), now, 500));
      for (v1::Appointment& held : holds) {
        RETURN_IF_ERROR(CancelLapsedHold(txn, held, now));
        lapsed.push_back(held);
      }
    }
    return absl::OkStatus();
  }));
  for (const v1::Appointment& a : lapsed) NotifyCommitted(a);
  return static_cast<int>(lapsed.size());
}

// ---------------------------------------------------------------- patients

grpc::Status SchedulingServiceImpl::CreatePatient(grpc::ServerContext* ctx,
                                                  const v1::CreatePatientRequest* req,
                                                  v1::Patient* out) {
  return ServeRpc(authorizer_, ctx, "CreatePatient", [&](const Principal& who) -> absl::Status {
    const absl::Time now = deps_.clock->Now();
    RETURN_IF_ERROR(
        ValidatePatient(req->patient(), absl::ToCivilDay(now, absl::UTCTimeZone()) + 1));
    RETURN_IF_ERROR(who.CheckClinic(req->patient().preferred_clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreatePatient", req->request_id(), who.staff_id, *req));
    ASSIGN_OR_RETURN(*out, RunIdempotent<v1::Patient>(*deps_.db, key, now, [&](Transaction& txn) {
      return store_.CreatePatient(txn, req->patient(), now);
    }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::GetPatient(grpc::ServerContext* ctx,
                                               const v1::GetPatientRequest* req, v1::Patient* out) {
  return ServeRpc(authorizer_, ctx, "GetPatient", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    v1::Patient patient;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(patient, store_.GetPatient(txn, req->id()));
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(who.CheckClinic(patient.preferred_clinic_id()));
    *out = std::move(patient);
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::UpdatePatient(grpc::ServerContext* ctx,
                                                  const v1::UpdatePatientRequest* req,
                                                  v1::Patient* out) {
  return ServeRpc(authorizer_, ctx, "UpdatePatient", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("patient.id", req->patient().id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("patient.etag", req->patient().etag()));
    if (req->update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError("update_mask: name the fields to change");
    }
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("UpdatePatient", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Patient>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Patient> {
              ASSIGN_OR_RETURN(v1::Patient p, store_.GetPatient(txn, req->patient().id()));
              RETURN_IF_ERROR(who.CheckClinic(p.preferred_clinic_id()));
              const v1::Patient& patch = req->patient();
              for (const std::string& path : req->update_mask().paths()) {
                if (path == "given_name") {
                  p.set_given_name(patch.given_name());
                } else if (path == "family_name") {
                  p.set_family_name(patch.family_name());
                } else if (path == "birth_date") {
                  *p.mutable_birth_date() = patch.birth_date();
                } else if (path == "phone") {
                  p.set_phone(patch.phone());
                } else if (path == "email") {
                  p.set_email(patch.email());
                } else if (path == "preferred_clinic_id") {
                  p.set_preferred_clinic_id(patch.preferred_clinic_id());
                } else {
                  return absl::InvalidArgumentError(
                      absl::StrCat("update_mask: \"", path.substr(0, 64), "\" cannot be updated"));
                }
              }
              RETURN_IF_ERROR(ValidatePatient(p, absl::ToCivilDay(now, absl::UTCTimeZone()) + 1));
              RETURN_IF_ERROR(who.CheckClinic(p.preferred_clinic_id()));
              return store_.UpdatePatient(txn, p, version, now);
            }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::SearchPatients(grpc::ServerContext* ctx,
                                                   const v1::SearchPatientsRequest* req,
                                                   v1::SearchPatientsResponse* out) {
  return ServeRpc(authorizer_, ctx, "SearchPatients", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateRequiredText("query", req->query(), 100));
    const std::string needle = absl::AsciiStrToLower(absl::StripAsciiWhitespace(req->query()));
    if (needle.size() < 2) return absl::InvalidArgumentError("query: at least 2 characters");
    std::optional<std::vector<std::string>> clinics = ScopeFilter(who);
    if (!req->clinic_id().empty()) {
      RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
      RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
      clinics = std::vector<std::string>{req->clinic_id()};
    }
    const std::string query = absl::StrCat("patients?q=", needle, "&clinic=", req->clinic_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Patient> result, store_.SearchPatients(txn, needle, clinics, page));
      for (v1::Patient& p : result.items) *out->add_patients() = std::move(p);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- clinic resources

grpc::Status SchedulingServiceImpl::GetClinicSchedule(grpc::ServerContext* ctx,
                                                      const v1::GetClinicScheduleRequest* req,
                                                      v1::ClinicSchedule* out) {
  return ServeRpc(authorizer_, ctx, "GetClinicSchedule", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> s,
                       store_.GetSchedule(txn, req->clinic_id()));
      if (!s.has_value()) {
        return absl::NotFoundError(
            absl::StrCat("clinic ", req->clinic_id(), " has no schedule yet"));
      }
      *out = std::move(*s);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::UpdateClinicSchedule(grpc::ServerContext* ctx,
                                                         const v1::UpdateClinicScheduleRequest* req,
                                                         v1::ClinicSchedule* out) {
  return ServeRpc(
      authorizer_, ctx, "UpdateClinicSchedule", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(v1::ClinicSchedule schedule, NormalizeSchedule(req->schedule()));
        RETURN_IF_ERROR(who.CheckClinic(schedule.clinic_id()));
        int64_t version = 0;
        if (!req->schedule().etag().empty()) {
          ASSIGN_OR_RETURN(version, VersionFromEtag("schedule.etag", req->schedule().etag()));
        }
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("UpdateClinicSchedule", req->request_id(), who.staff_id, *req));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(
            *out, RunIdempotent<v1::ClinicSchedule>(*deps_.db, key, now, [&](Transaction& txn) {
              return store_.PutSchedule(txn, schedule, version, now);
            }));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::CreateChair(grpc::ServerContext* ctx,
                                                const v1::CreateChairRequest* req, v1::Chair* out) {
  return ServeRpc(authorizer_, ctx, "CreateChair", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("chair.clinic_id", req->chair().clinic_id()));
    RETURN_IF_ERROR(ValidateRequiredText("chair.name", req->chair().name(), 100));
    RETURN_IF_ERROR(who.CheckClinic(req->chair().clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateChair", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Chair>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Chair> {
                    RETURN_IF_ERROR(
                        RequireSchedule(txn, req->chair().clinic_id(), "chair.clinic_id").status());
                    return store_.CreateChair(txn, req->chair(), now);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::ListChairs(grpc::ServerContext* ctx,
                                               const v1::ListChairsRequest* req,
                                               v1::ListChairsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListChairs", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<v1::Chair> chairs, store_.ListChairs(txn, req->clinic_id()));
      for (v1::Chair& c : chairs) *out->add_chairs() = std::move(c);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::UpdateChair(grpc::ServerContext* ctx,
                                                const v1::UpdateChairRequest* req, v1::Chair* out) {
  return ServeRpc(authorizer_, ctx, "UpdateChair", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("chair.id", req->chair().id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("chair.etag", req->chair().etag()));
    if (req->update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError("update_mask: name at least one of name, active");
    }
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("UpdateChair", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Chair>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Chair> {
              ASSIGN_OR_RETURN(v1::Chair chair, store_.GetChair(txn, req->chair().id()));
              RETURN_IF_ERROR(who.CheckClinic(chair.clinic_id()));
              for (const std::string& path : req->update_mask().paths()) {
                if (path == "name") {
                  RETURN_IF_ERROR(ValidateRequiredText("chair.name", req->chair().name(), 100));
                  chair.set_name(req->chair().name());
                } else if (path == "active") {
                  chair.set_active(req->chair().active());
                } else {
                  return absl::InvalidArgumentError(
                      absl::StrCat("update_mask: \"", path.substr(0, 64),
                                   "\" cannot be updated (allowed: name, active)"));
                }
              }
              return store_.UpdateChair(txn, chair, version);
            }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::SetWorkingHours(grpc::ServerContext* ctx,
                                                    const v1::SetWorkingHoursRequest* req,
                                                    v1::WorkingHours* out) {
  return ServeRpc(authorizer_, ctx, "SetWorkingHours", [&](const Principal& who) -> absl::Status {
    const v1::WorkingHours& hours = req->working_hours();
    RETURN_IF_ERROR(ValidateId("working_hours.practitioner_id", hours.practitioner_id()));
    RETURN_IF_ERROR(ValidateId("working_hours.clinic_id", hours.clinic_id()));
    RETURN_IF_ERROR(ValidateWeeklyIntervals("working_hours.intervals", hours.intervals()));
    RETURN_IF_ERROR(who.CheckClinic(hours.clinic_id()));
    int64_t version = 0;
    if (!hours.etag().empty()) {
      ASSIGN_OR_RETURN(version, VersionFromEtag("working_hours.etag", hours.etag()));
    }
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("SetWorkingHours", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::WorkingHours>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::WorkingHours> {
              RETURN_IF_ERROR(
                  RequireSchedule(txn, hours.clinic_id(), "working_hours.clinic_id").status());
              return store_.PutWorkingHours(txn, hours, version);
            }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::GetWorkingHours(grpc::ServerContext* ctx,
                                                    const v1::GetWorkingHoursRequest* req,
                                                    v1::WorkingHours* out) {
  return ServeRpc(authorizer_, ctx, "GetWorkingHours", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto hours,
                       store_.GetWorkingHours(txn, req->practitioner_id(), req->clinic_id()));
      if (!hours.has_value()) {
        out->set_practitioner_id(req->practitioner_id());
        out->set_clinic_id(req->clinic_id());
        return absl::OkStatus();  // no hours: an empty week
      }
      *out = std::move(*hours);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::ListWorkingHours(grpc::ServerContext* ctx,
                                                     const v1::ListWorkingHoursRequest* req,
                                                     v1::ListWorkingHoursResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListWorkingHours", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto all, store_.ListWorkingHours(txn, req->clinic_id()));
      for (v1::WorkingHours& h : all) *out->add_working_hours() = std::move(h);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::CreateScheduleException(
    grpc::ServerContext* ctx, const v1::CreateScheduleExceptionRequest* req,
    v1::ScheduleException* out) {
  return ServeRpc(
      authorizer_, ctx, "CreateScheduleException", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(LocalSpan span, ValidateException(req->exception()));
        RETURN_IF_ERROR(who.CheckClinic(req->exception().clinic_id()));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("CreateScheduleException", req->request_id(), who.staff_id, *req));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(*out,
                         RunIdempotent<v1::ScheduleException>(
                             *deps_.db, key, now,
                             [&](Transaction& txn) -> absl::StatusOr<v1::ScheduleException> {
                               ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                                                RequireSchedule(txn, req->exception().clinic_id(),
                                                                "exception.clinic_id"));
                               return store_.CreateException(
                                   txn, req->exception(), ToInterval(span, ZoneOf(schedule)), now);
                             }));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::ListScheduleExceptions(
    grpc::ServerContext* ctx, const v1::ListScheduleExceptionsRequest* req,
    v1::ListScheduleExceptionsResponse* out) {
  return ServeRpc(
      authorizer_, ctx, "ListScheduleExceptions", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        ASSIGN_OR_RETURN(absl::CivilDay first,
                         ToCivilDay("period.start_date", req->period().start_date()));
        ASSIGN_OR_RETURN(absl::CivilDay last,
                         ToCivilDay("period.end_date", req->period().end_date()));
        RETURN_IF_ERROR(ValidateDateRange("period", first, last, 366));
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                           RequireSchedule(txn, req->clinic_id(), "clinic_id"));
          const absl::TimeZone zone = ZoneOf(schedule);
          const Interval window{zone.At(absl::CivilSecond(first)).pre,
                                zone.At(absl::CivilSecond(last + 1)).pre};
          ASSIGN_OR_RETURN(auto all, store_.ListExceptions(txn, req->clinic_id(), window));
          for (v1::ScheduleException& e : all) *out->add_exceptions() = std::move(e);
          return absl::OkStatus();
        });
      });
}

grpc::Status SchedulingServiceImpl::DeleteScheduleException(
    grpc::ServerContext* ctx, const v1::DeleteScheduleExceptionRequest* req,
    v1::DeleteScheduleExceptionResponse*) {
  return ServeRpc(
      authorizer_, ctx, "DeleteScheduleException", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        return deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::ScheduleException e, store_.GetException(txn, req->id()));
          RETURN_IF_ERROR(who.CheckClinic(e.clinic_id()));
          return store_.DeleteException(txn, req->id());
        });
      });
}

// ---------------------------------------------------------------- plans

grpc::Status SchedulingServiceImpl::CreateTreatmentPlan(grpc::ServerContext* ctx,
                                                        const v1::CreateTreatmentPlanRequest* req,
                                                        v1::TreatmentPlan* out) {
  return ServeRpc(
      authorizer_, ctx, "CreateTreatmentPlan", [&](const Principal& who) -> absl::Status {
        v1::TreatmentPlan plan = req->plan();
        RETURN_IF_ERROR(NormalizeNewPlan(plan));
        RETURN_IF_ERROR(who.CheckClinic(plan.clinic_id()));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("CreateTreatmentPlan", req->request_id(), who.staff_id, *req));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(
            *out,
            RunIdempotent<v1::TreatmentPlan>(
                *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::TreatmentPlan> {
                  RETURN_IF_ERROR(
                      RequireSchedule(txn, plan.clinic_id(), "plan.clinic_id").status());
                  RETURN_IF_ERROR(store_.GetPatient(txn, plan.patient_id()).status());
                  if (!plan.consultation_appointment_id().empty()) {
                    ASSIGN_OR_RETURN(
                        v1::Appointment consult,
                        store_.GetAppointment(txn, plan.consultation_appointment_id()));
                    if (consult.patient_id() != plan.patient_id() ||
                        consult.type() != v1::CONSULTATION) {
                      return absl::InvalidArgumentError(
                          "plan.consultation_appointment_id: not a consultation of this patient");
                    }
                  }
                  return store_.CreatePlan(txn, plan, now);
                }));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::GetTreatmentPlan(grpc::ServerContext* ctx,
                                                     const v1::GetTreatmentPlanRequest* req,
                                                     v1::TreatmentPlan* out) {
  return ServeRpc(authorizer_, ctx, "GetTreatmentPlan", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, req->id()));
      RETURN_IF_ERROR(who.CheckClinic(plan.clinic_id()));
      SetNextWindow(plan, plan);
      *out = std::move(plan);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::ListTreatmentPlans(grpc::ServerContext* ctx,
                                                       const v1::ListTreatmentPlansRequest* req,
                                                       v1::ListTreatmentPlansResponse* out) {
  return ServeRpc(
      authorizer_, ctx, "ListTreatmentPlans", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::Patient patient, store_.GetPatient(txn, req->patient_id()));
          RETURN_IF_ERROR(who.CheckClinic(patient.preferred_clinic_id()));
          ASSIGN_OR_RETURN(auto plans, store_.ListPlans(txn, req->patient_id()));
          for (v1::TreatmentPlan& plan : plans) {
            if (!who.CanAccessClinic(plan.clinic_id())) continue;
            SetNextWindow(plan, plan);
            *out->add_plans() = std::move(plan);
          }
          return absl::OkStatus();
        });
      });
}

grpc::Status SchedulingServiceImpl::CancelTreatmentPlan(grpc::ServerContext* ctx,
                                                        const v1::CancelTreatmentPlanRequest* req,
                                                        v1::TreatmentPlan* out) {
  return ServeRpc(
      authorizer_, ctx, "CancelTreatmentPlan", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
        RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("CancelTreatmentPlan", req->request_id(), who.staff_id, *req));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(
            *out,
            RunIdempotent<v1::TreatmentPlan>(
                *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::TreatmentPlan> {
                  ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, req->id()));
                  RETURN_IF_ERROR(who.CheckClinic(plan.clinic_id()));
                  if (plan.status() != v1::PLAN_ACTIVE) {
                    return absl::FailedPreconditionError(absl::StrCat(
                        "plan ", plan.id(), " is ", v1::PlanStatus_Name(plan.status())));
                  }
                  plan.set_status(v1::PLAN_CANCELLED);
                  return store_.UpdatePlan(txn, plan, version);
                }));
        return absl::OkStatus();
      });
}

// ---------------------------------------------------------------- availability and booking

grpc::Status SchedulingServiceImpl::FindAvailability(grpc::ServerContext* ctx,
                                                     const v1::FindAvailabilityRequest* req,
                                                     v1::FindAvailabilityResponse* out) {
  return ServeRpc(authorizer_, ctx, "FindAvailability", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    if (req->type() == v1::APPOINTMENT_TYPE_UNSPECIFIED ||
        !v1::AppointmentType_IsValid(req->type())) {
      return absl::InvalidArgumentError("type: choose an appointment type");
    }
    ASSIGN_OR_RETURN(absl::CivilDay first,
                     ToCivilDay("period.start_date", req->period().start_date()));
    ASSIGN_OR_RETURN(absl::CivilDay last, ToCivilDay("period.end_date", req->period().end_date()));
    RETURN_IF_ERROR(ValidateDateRange("period", first, last, 62));
    if (!req->practitioner_id().empty()) {
      RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
    }
    if (!req->plan_id().empty()) RETURN_IF_ERROR(ValidateId("plan_id", req->plan_id()));
    if (req->max_slots() < 0) return absl::InvalidArgumentError("max_slots: must not be negative");
    const absl::Time now = deps_.clock->Now();
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                       RequireSchedule(txn, req->clinic_id(), "clinic_id"));
      ASSIGN_OR_RETURN(absl::Duration duration,
                       AppointmentDuration(schedule, req->type(),
                                           req->has_duration() ? &req->duration() : nullptr));
      CalendarScope scope{first, last, req->practitioner_id(), "", ""};
      ASSIGN_OR_RETURN(CalendarInputs in, LoadCalendars(store_, txn, schedule, scope, now));
      in.query.duration = duration;
      in.query.not_before = now;
      in.query.max_slots =
          req->max_slots() == 0 ? kMaxSlotsDefault : std::min(req->max_slots(), kMaxSlotsLimit);
      if (!req->plan_id().empty()) {
        ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, req->plan_id()));
        if (plan.clinic_id() != req->clinic_id()) {
          return absl::InvalidArgumentError("plan_id: the plan belongs to another clinic");
        }
        ASSIGN_OR_RETURN(int number, NextSessionNumber(plan));
        const Interval window = SessionWindow(plan, number);
        in.query.not_before = std::max(in.query.not_before, window.start);
        in.query.not_after = window.end;
      }
      const AvailabilityResult result = FindSlots(in.query, in.practitioners, in.chairs);
      for (const Slot& s : result.slots) {
        v1::Slot* slot = out->add_slots();
        *slot->mutable_start_time() = ToProtoTimestamp(s.start);
        *slot->mutable_end_time() = ToProtoTimestamp(s.end);
        slot->set_practitioner_id(s.practitioner_id);
        slot->set_chair_id(s.chair_id);
      }
      out->set_truncated(result.truncated);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::BookAppointment(grpc::ServerContext* ctx,
                                                    const v1::BookAppointmentRequest* req,
                                                    v1::Appointment* out) {
  return ServeRpc(authorizer_, ctx, "BookAppointment", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
    if (!req->chair_id().empty()) RETURN_IF_ERROR(ValidateId("chair_id", req->chair_id()));
    if (req->type() == v1::APPOINTMENT_TYPE_UNSPECIFIED ||
        !v1::AppointmentType_IsValid(req->type())) {
      return absl::InvalidArgumentError("type: choose an appointment type");
    }
    if (!req->has_start_time()) return absl::InvalidArgumentError("start_time: is required");
    if (req->type() == v1::TREATMENT_SESSION && req->plan_id().empty()) {
      return absl::InvalidArgumentError(
          "plan_id: a treatment session belongs to a treatment plan (CreateTreatmentPlan)");
    }
    if (!req->plan_id().empty()) {
      RETURN_IF_ERROR(ValidateId("plan_id", req->plan_id()));
      if (req->type() != v1::TREATMENT_SESSION) {
        return absl::InvalidArgumentError("plan_id: only treatment sessions belong to a plan");
      }
    }
    RETURN_IF_ERROR(ValidateOptionalText("notes", req->notes(), 1000));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("BookAppointment", req->request_id(), who.staff_id, *req));
    const absl::Time start = FromProtoTimestamp(req->start_time());

    // The compliance gate is a network call: ask before the write transaction, not inside it.
    if (NeedsComplianceGate(req->type())) {
      v1::ClinicSchedule schedule;
      RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(schedule, RequireSchedule(txn, req->clinic_id(), "clinic_id"));
        return absl::OkStatus();
      }));
      RETURN_IF_ERROR(deps_.compliance->CheckAllowed(
          EligibilityQuery{req->patient_id(), req->practitioner_id(), req->clinic_id(),
                           absl::ToCivilDay(start, ZoneOf(schedule)), req->type()}));
    }

    const absl::Time now = deps_.clock->Now();
    bool created = false;
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Appointment>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Appointment> {
              ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                               RequireSchedule(txn, req->clinic_id(), "clinic_id"));
              RETURN_IF_ERROR(store_.GetPatient(txn, req->patient_id()).status());
              if (!req->chair_id().empty()) {
                ASSIGN_OR_RETURN(v1::Chair chair, store_.GetChair(txn, req->chair_id()));
                if (chair.clinic_id() != req->clinic_id()) {
                  return absl::InvalidArgumentError("chair_id: the chair is in another clinic");
                }
                if (!chair.active()) {
                  return absl::FailedPreconditionError(
                      absl::StrCat("chair ", chair.id(), " is retired"));
                }
              }
              ASSIGN_OR_RETURN(
                  absl::Duration duration,
                  AppointmentDuration(schedule, req->type(),
                                      req->has_duration() ? &req->duration() : nullptr));
              v1::Appointment a;
              a.set_id(NewIdAt(now));
              a.set_clinic_id(req->clinic_id());
              a.set_patient_id(req->patient_id());
              a.set_practitioner_id(req->practitioner_id());
              a.set_chair_id(req->chair_id());
              a.set_type(req->type());
              *a.mutable_start_time() = req->start_time();
              *a.mutable_end_time() = ToProtoTimestamp(start + duration);
              a.set_notes(req->notes());
              *a.mutable_late_cancellation_window() = schedule.late_cancellation_window();
              *a.mutable_create_time() = ToProtoTimestamp(now);
              if (req->hold()) {
                a.set_status(v1::PROPOSED);
                *a.mutable_hold_expire_time() =
                    ToProtoTimestamp(now + ToDuration(schedule.hold_duration()));
              } else {
                a.set_status(v1::BOOKED);
              }
              if (!req->plan_id().empty()) {
                ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, req->plan_id()));
                if (plan.patient_id() != req->patient_id() ||
                    plan.clinic_id() != req->clinic_id()) {
                  return absl::InvalidArgumentError(
                      "plan_id: the plan is for another patient or clinic");
                }
                ASSIGN_OR_RETURN(int number, NextSessionNumber(plan));
                RETURN_IF_ERROR(CheckSessionSpacing(plan, number, start));
                a.set_plan_id(plan.id());
                a.set_session_number(number);
              }
              RETURN_IF_ERROR(TakeSlot(txn, schedule, a, !req->chair_id().empty(), now));
              RETURN_IF_ERROR(RecordChange(txn, a, v1::CHANGE_TYPE_CREATED, 1, now));
              RETURN_IF_ERROR(store_.InsertAppointment(
                  txn, a, start + duration + ToDuration(schedule.buffer_after())));
              created = true;
              return a;
            }));
    if (created) NotifyCommitted(*out);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Appointment> SchedulingServiceImpl::Transition(
    const Principal& who, absl::string_view method, const google::protobuf::Message& request,
    absl::string_view request_id, absl::string_view id, absl::string_view etag,
    AppointmentAction action, const ApplyFn& apply) {
  RETURN_IF_ERROR(ValidateId("id", id));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", etag));
  ASSIGN_OR_RETURN(IdempotencyKey key,
                   MakeIdempotencyKey(method, request_id, who.staff_id, request));
  const absl::Time now = deps_.clock->Now();
  bool changed = false;
  bool event_enqueued = false;
  ASSIGN_OR_RETURN(
      v1::Appointment result,
      RunIdempotent<v1::Appointment>(
          *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Appointment> {
            ASSIGN_OR_RETURN(v1::Appointment a, store_.GetAppointment(txn, id));
            RETURN_IF_ERROR(who.CheckClinic(a.clinic_id()));
            ASSIGN_OR_RETURN(int64_t current, VersionFromEtag("etag", a.etag()));
            if (current != version) {
              return StaleEtagError("appointment", a.id(), etag, a.etag());
            }
            ASSIGN_OR_RETURN(
                v1::AppointmentStatus next,
                NextStatus(a.status(), action, FromProtoTimestamp(a.hold_expire_time()), now));
            ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                             RequireSchedule(txn, a.clinic_id(), "clinic_id"));
            a.set_status(next);
            if (next != v1::PROPOSED) a.clear_hold_expire_time();
            RETURN_IF_ERROR(apply(txn, a, schedule, now));
            if (!BlocksTime(next, FromProtoTimestamp(a.hold_expire_time()), now)) {
              RETURN_IF_ERROR(store_.Release(txn, a.id()));
            }
            // What billing must charge travels with the change, through the outbox.
            v1::TreatmentPlan plan;
            const v1::TreatmentPlan* plan_ptr = nullptr;
            if (next == v1::FULFILLED && !a.plan_id().empty()) {
              ASSIGN_OR_RETURN(plan, store_.GetPlan(txn, a.plan_id()));
              plan_ptr = &plan;
            }
            if (std::optional<billing::v1::RecordChargeEventRequest> charge =
                    ChargeEventFor(a, plan_ptr, now)) {
              RETURN_IF_ERROR(
                  EnqueueEvent(txn, kBillingDestination, kChargeEventKind, *charge, now).status());
              event_enqueued = true;
            }
            RETURN_IF_ERROR(RecordChange(
                txn, a, next == v1::CANCELLED ? v1::CHANGE_TYPE_CANCELLED : v1::CHANGE_TYPE_UPDATED,
                version + 1, now));
            RETURN_IF_ERROR(store_.UpdateAppointment(
                txn, a, FromProtoTimestamp(a.end_time()) + ToDuration(schedule.buffer_after()),
                version));
            changed = true;
            return a;
          }));
  if (changed) NotifyCommitted(result);
  if (event_enqueued && deps_.on_event_committed) deps_.on_event_committed();
  return result;
}

namespace {
absl::Status NoExtra(Transaction&, v1::Appointment&, const v1::ClinicSchedule&, absl::Time) {
  return absl::OkStatus();
}
}  // namespace

grpc::Status SchedulingServiceImpl::ConfirmAppointment(grpc::ServerContext* ctx,
                                                       const v1::ConfirmAppointmentRequest* req,
                                                       v1::Appointment* out) {
  return ServeRpc(
      authorizer_, ctx, "ConfirmAppointment", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(*out,
                         Transition(who, "ConfirmAppointment", *req, req->request_id(), req->id(),
                                    req->etag(), AppointmentAction::kConfirm, NoExtra));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::CancelAppointment(grpc::ServerContext* ctx,
                                                      const v1::CancelAppointmentRequest* req,
                                                      v1::Appointment* out) {
  return ServeRpc(authorizer_, ctx, "CancelAppointment", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
    ASSIGN_OR_RETURN(
        *out,
        Transition(who, "CancelAppointment", *req, req->request_id(), req->id(), req->etag(),
                   AppointmentAction::kCancel,
                   [&](Transaction&, v1::Appointment& a, const v1::ClinicSchedule&,
                       absl::Time now) -> absl::Status {
                     v1::Cancellation* c = a.mutable_cancellation();
                     c->set_reason(req->reason());
                     c->set_cancelled_by(who.staff_id);
                     *c->mutable_cancel_time() = ToProtoTimestamp(now);
                     // The window recorded at booking, not today's policy.
                     c->set_late(IsLateCancellation(FromProtoTimestamp(a.start_time()), now,
                                                    ToDuration(a.late_cancellation_window())));
                     return absl::OkStatus();
                   }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::CheckInAppointment(grpc::ServerContext* ctx,
                                                       const v1::CheckInAppointmentRequest* req,
                                                       v1::Appointment* out) {
  return ServeRpc(
      authorizer_, ctx, "CheckInAppointment", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(*out,
                         Transition(who, "CheckInAppointment", *req, req->request_id(), req->id(),
                                    req->etag(), AppointmentAction::kCheckIn, NoExtra));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::StartAppointment(grpc::ServerContext* ctx,
                                                     const v1::StartAppointmentRequest* req,
                                                     v1::Appointment* out) {
  return ServeRpc(authorizer_, ctx, "StartAppointment", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    RETURN_IF_ERROR(ValidateRequestId("request_id", req->request_id()));
    v1::Appointment current;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(current, store_.GetAppointment(txn, req->id()));
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(who.CheckClinic(current.clinic_id()));
    RETURN_IF_ERROR(ValidateSupplies(current.type(), req->supplies()));
    // Supplies are issued only from the one state a start can leave, and only for the version the
    // caller saw; anything else (a replay of this start included) is Transition's to answer.
    std::vector<inventory::v1::IssuedItem> issued;
    if (IsProcedure(current.type()) && current.status() == v1::ARRIVED &&
        current.etag() == req->etag()) {
      SupplyRequest supply{.clinic_id = current.clinic_id(),
                           .appointment_id = current.id(),
                           .patient_id = current.patient_id(),
                           .lines = {req->supplies().begin(), req->supplies().end()}};
      // The issue is made as the technician: their token goes with it.
      ASSIGN_OR_RETURN(std::string token, Authenticator::BearerToken(*ctx));
      ASSIGN_OR_RETURN(issued, deps_.supplies->Issue(supply, absl::StrCat("Bearer ", token)));
    }
    ASSIGN_OR_RETURN(
        *out, Transition(who, "StartAppointment", *req, req->request_id(), req->id(), req->etag(),
                         AppointmentAction::kStart,
                         [&](Transaction&, v1::Appointment& a, const v1::ClinicSchedule&,
                             absl::Time now) -> absl::Status {
                           *a.mutable_procedure_start_time() = ToProtoTimestamp(now);
                           for (inventory::v1::IssuedItem& item : issued) {
                             *a.add_supplies() = std::move(item);
                           }
                           return absl::OkStatus();
                         }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::MarkNoShow(grpc::ServerContext* ctx,
                                               const v1::MarkNoShowRequest* req,
                                               v1::Appointment* out) {
  return ServeRpc(authorizer_, ctx, "MarkNoShow", [&](const Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(*out, Transition(who, "MarkNoShow", *req, req->request_id(), req->id(),
                                      req->etag(), AppointmentAction::kNoShow, NoExtra));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::CompleteAppointment(grpc::ServerContext* ctx,
                                                        const v1::CompleteAppointmentRequest* req,
                                                        v1::CompleteAppointmentResponse* out) {
  return ServeRpc(
      authorizer_, ctx, "CompleteAppointment", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateCompletion(*req));
        ASSIGN_OR_RETURN(
            v1::Appointment done,
            Transition(
                who, "CompleteAppointment", *req, req->request_id(), req->id(), req->etag(),
                AppointmentAction::kComplete,
                [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule& schedule,
                    absl::Time now) -> absl::Status {
                  if (IsProcedure(a.type())) {
                    // Compliance's record of the procedure commits with the completion.
                    RETURN_IF_ERROR(EnqueueEvent(txn, kComplianceDestination, kRecordProcedureKind,
                                                 ProcedureRecordFor(a, *req, ZoneOf(schedule)), now)
                                        .status());
                  }
                  if (a.plan_id().empty()) return absl::OkStatus();
                  ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, a.plan_id()));
                  int fulfilled = 1;  // this one
                  for (const v1::PlanSession& s : plan.sessions()) {
                    if (s.status() == v1::FULFILLED && s.appointment_id() != a.id()) ++fulfilled;
                  }
                  if (fulfilled < plan.planned_sessions() || plan.status() != v1::PLAN_ACTIVE) {
                    return absl::OkStatus();
                  }
                  ASSIGN_OR_RETURN(int64_t plan_version, VersionFromEtag("etag", plan.etag()));
                  const DayRange due = TouchUpDue(
                      absl::ToCivilDay(FromProtoTimestamp(a.start_time()), ZoneOf(schedule)));
                  plan.set_status(v1::PLAN_COMPLETED);
                  *plan.mutable_touch_up_due()->mutable_start_date() = ToLocalDate(due.first);
                  *plan.mutable_touch_up_due()->mutable_end_date() = ToLocalDate(due.last);
                  return store_.UpdatePlan(txn, plan, plan_version).status();
                }));
        // Aftercare and the next window are derived from stored state, so a replay answers the
        // same.
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                           RequireSchedule(txn, done.clinic_id(), "clinic_id"));
          bool course_continues = false;
          if (!done.plan_id().empty()) {
            ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, done.plan_id()));
            course_continues = plan.status() == v1::PLAN_ACTIVE;
            SetNextWindow(plan, *out);
          }
          const absl::CivilDay day =
              absl::ToCivilDay(FromProtoTimestamp(done.start_time()), ZoneOf(schedule));
          for (v1::AftercareItem& item : AftercareSchedule(day, course_continues)) {
            *out->add_aftercare() = std::move(item);
          }
          *out->mutable_appointment() = std::move(done);
          return absl::OkStatus();
        });
      });
}

grpc::Status SchedulingServiceImpl::RescheduleAppointment(
    grpc::ServerContext* ctx, const v1::RescheduleAppointmentRequest* req, v1::Appointment* out) {
  return ServeRpc(
      authorizer_, ctx, "RescheduleAppointment", [&](const Principal& who) -> absl::Status {
        if (!req->has_start_time()) return absl::InvalidArgumentError("start_time: is required");
        if (!req->practitioner_id().empty()) {
          RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
        }
        if (!req->chair_id().empty()) RETURN_IF_ERROR(ValidateId("chair_id", req->chair_id()));
        const absl::Time new_start = FromProtoTimestamp(req->start_time());
        ASSIGN_OR_RETURN(
            *out, Transition(
                      who, "RescheduleAppointment", *req, req->request_id(), req->id(), req->etag(),
                      AppointmentAction::kReschedule,
                      [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule& schedule,
                          absl::Time now) -> absl::Status {
                        if (NeedsComplianceGate(a.type()) && !req->practitioner_id().empty() &&
                            req->practitioner_id() != a.practitioner_id()) {
                          return absl::FailedPreconditionError(
                              "changing the practitioner of a procedure needs a new booking (the "
                              "compliance check is per practitioner); cancel and book again");
                        }
                        const absl::Duration duration =
                            FromProtoTimestamp(a.end_time()) - FromProtoTimestamp(a.start_time());
                        if (!a.plan_id().empty()) {
                          ASSIGN_OR_RETURN(v1::TreatmentPlan plan,
                                           store_.GetPlan(txn, a.plan_id()));
                          RETURN_IF_ERROR(CheckSessionSpacing(plan, a.session_number(), new_start));
                        }
                        RETURN_IF_ERROR(store_.Release(txn, a.id()));
                        if (!req->practitioner_id().empty())
                          a.set_practitioner_id(req->practitioner_id());
                        *a.mutable_start_time() = req->start_time();
                        *a.mutable_end_time() = ToProtoTimestamp(new_start + duration);
                        const bool chair_chosen = !req->chair_id().empty();
                        if (chair_chosen) a.set_chair_id(req->chair_id());
                        return TakeSlot(txn, schedule, a, chair_chosen, now);
                      }));
        return absl::OkStatus();
      });
}

grpc::Status SchedulingServiceImpl::GetAppointment(grpc::ServerContext* ctx,
                                                   const v1::GetAppointmentRequest* req,
                                                   v1::Appointment* out) {
  return ServeRpc(authorizer_, ctx, "GetAppointment", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(*out,
                     ReadInClinicScope<v1::Appointment>(*deps_.db, who, [&](Transaction& txn) {
                       return store_.GetAppointment(txn, req->id());
                     }));
    return absl::OkStatus();
  });
}

grpc::Status SchedulingServiceImpl::ListAppointments(grpc::ServerContext* ctx,
                                                     const v1::ListAppointmentsRequest* req,
                                                     v1::ListAppointmentsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListAppointments", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    if (!req->period().has_start_time() || !req->period().has_end_time()) {
      return absl::InvalidArgumentError("period: start_time and end_time are required");
    }
    const Interval period{FromProtoTimestamp(req->period().start_time()),
                          FromProtoTimestamp(req->period().end_time())};
    if (period.end <= period.start) {
      return absl::InvalidArgumentError("period: end_time must be after start_time");
    }
    if (period.end - period.start > absl::Hours(24 * 92)) {
      return absl::InvalidArgumentError("period: at most 92 days");
    }
    if (!req->practitioner_id().empty()) {
      RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
    }
    if (!req->patient_id().empty()) RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query =
        absl::StrCat("appointments?clinic=", req->clinic_id(), "&from=", ToDbMicros(period.start),
                     "&to=", ToDbMicros(period.end), "&practitioner=", req->practitioner_id(),
                     "&patient=", req->patient_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Appointment> result,
                       store_.ListAppointments(txn, req->clinic_id(), period,
                                               req->practitioner_id(), req->patient_id(), page));
      for (v1::Appointment& a : result.items) *out->add_appointments() = std::move(a);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- branch sync

grpc::Status SchedulingServiceImpl::ListChanges(grpc::ServerContext* ctx,
                                                const v1::ListChangesRequest* req,
                                                v1::ListChangesResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListChanges", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    if (req->since_sequence() < 0) {
      return absl::InvalidArgumentError("since_sequence: must not be negative");
    }
    if (req->page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const int limit =
        req->page_size() == 0 ? kChangesPageDefault : std::min(req->page_size(), kChangesPageMax);
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto changes,
                       store_.ListChanges(txn, req->clinic_id(), req->since_sequence(), limit));
      for (v1::Change& c : changes) *out->add_changes() = std::move(c);
      ASSIGN_OR_RETURN(int64_t head, store_.HeadSequence(txn, req->clinic_id()));
      out->set_head_sequence(head);
      return absl::OkStatus();
    });
  });
}

grpc::Status SchedulingServiceImpl::WatchChanges(grpc::ServerContext* ctx,
                                                 const v1::WatchChangesRequest* req,
                                                 grpc::ServerWriter<v1::Change>* writer) {
  return ServeRpc(authorizer_, ctx, "WatchChanges", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    if (req->since_sequence() < 0) {
      return absl::InvalidArgumentError("since_sequence: must not be negative");
    }
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    int64_t seen = req->since_sequence();
    // Backlog first, then each change as it commits; the stream ends when the client goes away or
    // the server drains. A client resumes with the last sequence it received.
    while (!ctx->IsCancelled() && !deps_.notifier->stopped()) {
      std::vector<v1::Change> batch;
      RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(batch,
                         store_.ListChanges(txn, req->clinic_id(), seen, kChangesPageDefault));
        return absl::OkStatus();
      }));
      for (const v1::Change& c : batch) {
        if (!writer->Write(c)) return absl::CancelledError("the watcher went away");
        seen = c.sequence();
      }
      if (static_cast<int>(batch.size()) == kChangesPageDefault) continue;  // more backlog
      deps_.notifier->Wait(req->clinic_id(), seen, deps_.watch_poll_interval);
    }
    return ctx->IsCancelled() ? absl::CancelledError("the watcher went away")
                              : absl::UnavailableError("the server is shutting down; resume later");
  });
}

}  // namespace smp::scheduling
