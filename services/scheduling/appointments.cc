#include "services/scheduling/appointments.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/outbox/outbox.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/scheduling/aftercare.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/calendar_loader.h"
#include "services/scheduling/compliance_deliverer.h"
#include "services/scheduling/plan_rules.h"
#include "services/scheduling/procedure_record.h"
#include "services/scheduling/schedule_rules.h"
#include "services/scheduling/slot_encoding.h"

namespace smp::scheduling {
namespace {

constexpr int kMaxSlotsDefault = 200;
constexpr int kMaxSlotsLimit = 1000;
constexpr int kMaxAvailabilityDays = 62;
constexpr absl::Duration kMaxListPeriod = absl::Hours(24 * 92);

absl::Status ValidateType(v1::AppointmentType type) {
  if (type == v1::APPOINTMENT_TYPE_UNSPECIFIED || !v1::AppointmentType_IsValid(type)) {
    return absl::InvalidArgumentError("type: choose an appointment type");
  }
  return absl::OkStatus();
}

absl::Status ValidateBooking(const v1::BookAppointmentRequest& req) {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("patient_id", req.patient_id()));
  RETURN_IF_ERROR(ValidateId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateOptionalId("chair_id", req.chair_id()));
  RETURN_IF_ERROR(ValidateType(req.type()));
  if (!req.has_start_time()) return absl::InvalidArgumentError("start_time: is required");
  if (req.type() == v1::TREATMENT_SESSION && req.plan_id().empty()) {
    return absl::InvalidArgumentError(
        "plan_id: a treatment session belongs to a treatment plan (CreateTreatmentPlan)");
  }
  if (!req.plan_id().empty()) {
    RETURN_IF_ERROR(ValidateId("plan_id", req.plan_id()));
    if (req.type() != v1::TREATMENT_SESSION) {
      return absl::InvalidArgumentError("plan_id: only treatment sessions belong to a plan");
    }
  }
  return ValidateOptionalText("notes", req.notes(), 1000);
}

}  // namespace

absl::StatusOr<v1::FindAvailabilityResponse> Appointments::FindAvailability(
    const Call& call, const v1::FindAvailabilityRequest& req) const {
  ASSIGN_OR_RETURN(std::string bytes, FindAvailabilityEncoded(call, req));
  v1::FindAvailabilityResponse out;
  if (!out.ParseFromString(bytes)) return absl::InternalError("FindAvailability: bad encoding");
  return out;
}

absl::StatusOr<std::string> Appointments::FindAvailabilityEncoded(
    const Call& call, const v1::FindAvailabilityRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  RETURN_IF_ERROR(ValidateType(req.type()));
  ASSIGN_OR_RETURN(LocalPeriod period,
                   ParseDateRange("period", req.period(), kMaxAvailabilityDays));
  RETURN_IF_ERROR(ValidateOptionalId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateOptionalId("plan_id", req.plan_id()));
  if (req.max_slots() < 0) return absl::InvalidArgumentError("max_slots: must not be negative");
  std::string out;  // no slots: the empty response
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                     store_->RequireSchedule(txn, req.clinic_id(), "clinic_id"));
    ASSIGN_OR_RETURN(
        absl::Duration duration,
        AppointmentDuration(schedule, req.type(), req.has_duration() ? &req.duration() : nullptr));
    CalendarScope scope{period.first, period.last, req.practitioner_id(), "", ""};
    std::shared_ptr<const CalendarInputs> in;
    if (calendars_ != nullptr) {
      ASSIGN_OR_RETURN(in, calendars_->Load(txn, schedule, scope, call.now));
    } else {
      ASSIGN_OR_RETURN(CalendarInputs loaded,
                       LoadCalendars(*store_, txn, schedule, scope, call.now));
      in = std::make_shared<const CalendarInputs>(std::move(loaded));
    }
    AvailabilityQuery query = in->query;
    query.duration = duration;
    query.not_before = call.now;
    query.max_slots =
        req.max_slots() == 0 ? kMaxSlotsDefault : std::min(req.max_slots(), kMaxSlotsLimit);
    if (!req.plan_id().empty()) {
      ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, req.plan_id()));
      if (plan.clinic_id() != req.clinic_id()) {
        return absl::InvalidArgumentError("plan_id: the plan belongs to another clinic");
      }
      RETURN_IF_ERROR(NextSessionNumber(plan).status());  // a full or closed plan is refused
      if (!LiveSessions(plan).empty()) {
        const std::optional<Interval> window = NextSessionWindow(plan, ZoneOf(schedule), call.now);
        if (!window.has_value()) return absl::OkStatus();  // no gap between sessions is open
        query.not_before = std::max(query.not_before, window->start);
        query.not_after = window->end;
      }
    }
    // Encoded here: the slots' ids are views of `in`'s calendars.
    out = EncodeAvailability(FindSlots(query, in->practitioners, in->chairs));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<Appointments::PreChecked>> Appointments::PreCheckSlot(
    Transaction& txn, const v1::BookAppointmentRequest& req, absl::Time now) const {
  const absl::Time start = FromProtoTimestamp(req.start_time());
  const bool chair_given = !req.chair_id().empty();
  // A chosen chair (a slot FindAvailability offered) is checked against the rules in memory, and
  // the occupancy keys decide the rest. Without one, the chair is picked here, which needs the
  // chairs' busy blocks: read from the database.
  std::optional<SlotRules> rules;
  if (rules_ != nullptr && chair_given) {
    ASSIGN_OR_RETURN(rules, rules_->Get(txn, req.clinic_id(), req.practitioner_id(), req.chair_id(),
                                        start, now));
  } else {
    ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> schedule,
                     store_->GetSchedule(txn, req.clinic_id()));
    if (!schedule.has_value()) return std::nullopt;
    rules.emplace();
    rules->schedule = std::make_shared<const v1::ClinicSchedule>(*std::move(schedule));
    ASSIGN_OR_RETURN(rules->calendar_version, store_->CalendarVersion(txn, req.clinic_id()));
    if (chair_given) {
      absl::StatusOr<v1::Chair> chair = store_->GetChair(txn, req.chair_id());
      if (!chair.ok() || chair->clinic_id() != req.clinic_id() || !chair->active()) {
        return std::nullopt;
      }
    }
  }
  if (!rules.has_value()) return std::nullopt;
  return PreCheckOnRules(*std::move(rules), req, now, &txn);
}

std::optional<Appointments::PreChecked> Appointments::PreCheckOnRules(
    SlotRules rules, const v1::BookAppointmentRequest& req, absl::Time now,
    Transaction* txn) const {
  const absl::Time start = FromProtoTimestamp(req.start_time());
  const bool chair_given = !req.chair_id().empty();
  absl::StatusOr<absl::Duration> duration = AppointmentDuration(
      *rules.schedule, req.type(), req.has_duration() ? &req.duration() : nullptr);
  if (!duration.ok()) return std::nullopt;
  v1::Appointment draft;
  draft.set_clinic_id(req.clinic_id());
  draft.set_patient_id(req.patient_id());
  draft.set_practitioner_id(req.practitioner_id());
  draft.set_chair_id(req.chair_id());
  *draft.mutable_start_time() = req.start_time();
  *draft.mutable_end_time() = ToProtoTimestamp(start + *duration);
  if (rules.day == nullptr && txn == nullptr) return std::nullopt;
  absl::StatusOr<std::string> chair =
      rules.day != nullptr ? ChooseSlotChair(*rules.day, draft, chair_given, now)
                           : book_->CheckSlot(*txn, *rules.schedule, draft, chair_given, now);
  if (!chair.ok()) return std::nullopt;
  return PreChecked{std::move(rules.schedule), rules.calendar_version, *std::move(chair)};
}

absl::StatusOr<v1::Appointment> Appointments::Book(const Call& call,
                                                   const v1::BookAppointmentRequest& req) const {
  return AwaitAnswer<v1::Appointment>(
      [&](Answer<v1::Appointment> answer) { BookAsync(call, req, std::move(answer)); });
}

void Appointments::BookAsync(const Call& call, const v1::BookAppointmentRequest& req,
                             Answer<v1::Appointment> answer) const {
  absl::StatusOr<std::shared_ptr<const Booking>> booking = PrepareBooking(call, req);
  if (!booking.ok()) return std::move(answer)(booking.status());
  absl::StatusOr<IdempotencyKey> key = IdempotencyKeyOf(call, req);
  if (!key.ok()) return std::move(answer)(key.status());
  // The write runs on the database's writer thread; this thread is free once it is queued.
  auto created = std::make_shared<bool>(false);
  RunIdempotentAsync<v1::Appointment>(
      *db_, *std::move(key), call.now, FeedQueue(req.clinic_id()),
      [this, booking = *booking, created](Transaction& txn) -> absl::StatusOr<v1::Appointment> {
        *created = false;
        ASSIGN_OR_RETURN(v1::Appointment a, WriteBooking(txn, *booking));
        *created = true;
        return a;
      },
      [this, created, answer = std::move(answer)](absl::StatusOr<v1::Appointment> out) mutable {
        if (out.ok() && *created) book_->NotifyCommitted(*out);
        std::move(answer)(std::move(out));
      });
}

absl::StatusOr<std::shared_ptr<const Appointments::Booking>> Appointments::PrepareBooking(
    const Call& call, const v1::BookAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateBooking(req));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const absl::Time start = FromProtoTimestamp(req.start_time());
  const absl::Time now = call.now;
  // What the booking reads and checks is done here, before the write transaction, against the
  // clinic's calendar version; the write transaction then re-reads only that version and lets the
  // occupancy keys exclude a concurrent booking. Anything this pre-check does not settle (a
  // refusal, an unknown clinic or chair, a version changed since) leaves `pre` empty and the write
  // transaction checks everything itself, as it answers refusals.
  //
  // The common case reads nothing here: a chosen chair whose rules are in memory, and no
  // compliance gate. The gate's answer describes the patient's health, which only a caller who may
  // see the patient's clinic may learn, so a gated booking scopes the patient first, here;
  // otherwise the write transaction does, on the writer's warm cache.
  std::optional<PreChecked> pre;
  bool patient_scoped = false;
  std::optional<SlotRules> known;
  if (rules_ != nullptr && !req.chair_id().empty() && !NeedsComplianceGate(req.type())) {
    known = rules_->Peek(req.clinic_id(), req.practitioner_id(), req.chair_id(), start, now);
  }
  if (known.has_value()) {
    pre = PreCheckOnRules(*std::move(known), req, now, nullptr);
  } else {
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::Patient patient, store_->GetPatient(txn, req.patient_id()));
      RETURN_IF_ERROR(call.who.CheckClinic(patient.preferred_clinic_id()));
      patient_scoped = true;
      ASSIGN_OR_RETURN(pre, PreCheckSlot(txn, req, now));
      return absl::OkStatus();
    }));
  }

  // The compliance gate is a network call: ask before the write transaction, not inside it.
  if (NeedsComplianceGate(req.type())) {
    std::shared_ptr<const v1::ClinicSchedule> schedule = pre.has_value() ? pre->schedule : nullptr;
    if (schedule == nullptr) {
      RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(v1::ClinicSchedule read,
                         store_->RequireSchedule(txn, req.clinic_id(), "clinic_id"));
        schedule = std::make_shared<const v1::ClinicSchedule>(std::move(read));
        return absl::OkStatus();
      }));
    }
    RETURN_IF_ERROR(compliance_->CheckAllowed(
        EligibilityQuery{req.patient_id(), req.practitioner_id(), req.clinic_id(),
                         absl::ToCivilDay(start, ZoneOf(*schedule)), req.type(), start}));
  }

  return std::make_shared<const Booking>(Booking{call, req, start, std::move(pre), patient_scoped});
}

absl::StatusOr<v1::Appointment> Appointments::WriteBooking(Transaction& txn,
                                                           const Booking& booking) const {
  const v1::BookAppointmentRequest& req = booking.req;
  const absl::Time now = booking.call.now;
  const absl::Time start = booking.start;
  // The pre-check holds while nothing it read besides appointments has changed (the
  // calendar version; patients are never deleted).
  bool prechecked = false;
  if (booking.pre.has_value()) {
    ASSIGN_OR_RETURN(int64_t version, store_->CalendarVersion(txn, req.clinic_id()));
    prechecked = version == booking.pre->calendar_version;
    if (!prechecked && rules_ != nullptr) rules_->Forget(req.clinic_id());
  }
  v1::ClinicSchedule read;
  if (!prechecked) {
    ASSIGN_OR_RETURN(read, store_->RequireSchedule(txn, req.clinic_id(), "clinic_id"));
  }
  // The patient exists (patients are never deleted: a pre-check that read it holds)
  // and is in the caller's scope.
  if (!booking.patient_scoped || !prechecked) {
    ASSIGN_OR_RETURN(v1::Patient patient, store_->GetPatient(txn, req.patient_id()));
    if (!booking.patient_scoped) {
      RETURN_IF_ERROR(booking.call.who.CheckClinic(patient.preferred_clinic_id()));
    }
  }
  const v1::ClinicSchedule& schedule = prechecked ? *booking.pre->schedule : read;
  if (!prechecked && !req.chair_id().empty()) {
    ASSIGN_OR_RETURN(v1::Chair chair, store_->GetChair(txn, req.chair_id()));
    if (chair.clinic_id() != req.clinic_id()) {
      return absl::InvalidArgumentError("chair_id: the chair is in another clinic");
    }
    if (!chair.active()) {
      return absl::FailedPreconditionError(absl::StrCat("chair ", chair.id(), " is retired"));
    }
  }
  ASSIGN_OR_RETURN(
      absl::Duration duration,
      AppointmentDuration(schedule, req.type(), req.has_duration() ? &req.duration() : nullptr));
  v1::Appointment a;
  a.set_id(NewIdAt(now));
  a.set_clinic_id(req.clinic_id());
  a.set_patient_id(req.patient_id());
  a.set_practitioner_id(req.practitioner_id());
  a.set_chair_id(req.chair_id());
  a.set_type(req.type());
  *a.mutable_start_time() = req.start_time();
  *a.mutable_end_time() = ToProtoTimestamp(start + duration);
  a.set_notes(req.notes());
  *a.mutable_late_cancellation_window() = schedule.late_cancellation_window();
  *a.mutable_create_time() = ToProtoTimestamp(now);
  if (req.hold()) {
    a.set_status(v1::PROPOSED);
    *a.mutable_hold_expire_time() = ToProtoTimestamp(now + ToDuration(schedule.hold_duration()));
  } else {
    a.set_status(v1::BOOKED);
  }
  if (!req.plan_id().empty()) {
    ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, req.plan_id()));
    if (plan.patient_id() != req.patient_id() || plan.clinic_id() != req.clinic_id()) {
      return absl::InvalidArgumentError("plan_id: the plan is for another patient or clinic");
    }
    ASSIGN_OR_RETURN(int number, NextSessionNumber(plan));
    RETURN_IF_ERROR(CheckSessionSpacing(plan, number, start, ZoneOf(schedule), ""));
    a.set_plan_id(plan.id());
    a.set_session_number(number);
  }
  bool taken = false;
  if (prechecked) {
    // Only the occupancy keys are left to decide. Held (by a booking since the
    // pre-check, or a lapsed hold): the full check below answers, as without one.
    a.set_chair_id(booking.pre->chair_id);
    ASSIGN_OR_RETURN(taken, store_->OccupyIfFree(
                                txn, a,
                                Interval{start, start + duration +
                                                    std::max(ToDuration(schedule.buffer_after()),
                                                             absl::ZeroDuration())}));
    if (!taken) a.set_chair_id(req.chair_id());
  }
  if (!taken) {
    RETURN_IF_ERROR(book_->TakeSlot(txn, schedule, a, !req.chair_id().empty(), now));
  }
  std::string record;
  RETURN_IF_ERROR(book_->RecordChange(txn, a, v1::CHANGE_TYPE_CREATED, 1, now, &record));
  RETURN_IF_ERROR(store_->InsertAppointment(
      txn, a, start + duration + ToDuration(schedule.buffer_after()), record));
  return a;
}

absl::StatusOr<v1::Appointment> Appointments::Confirm(
    const Call& call, const v1::ConfirmAppointmentRequest& req) const {
  return book_->Transition(call, TransitionOf(req, AppointmentAction::kConfirm));
}

absl::StatusOr<v1::Appointment> Appointments::CheckIn(
    const Call& call, const v1::CheckInAppointmentRequest& req) const {
  return book_->Transition(call, TransitionOf(req, AppointmentAction::kCheckIn));
}

absl::StatusOr<v1::Appointment> Appointments::MarkNoShow(const Call& call,
                                                         const v1::MarkNoShowRequest& req) const {
  return book_->Transition(
      call, TransitionOf(req, AppointmentAction::kNoShow,
                         [](Transaction&, v1::Appointment& a, const v1::ClinicSchedule& schedule,
                            absl::Time now) -> absl::Status {
                           return CheckNoShowDue(FromProtoTimestamp(a.start_time()),
                                                 NoShowGraceOf(schedule), now, ZoneOf(schedule));
                         }));
}

absl::StatusOr<v1::Appointment> Appointments::Stop(const Call& call,
                                                   const v1::StopAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  RETURN_IF_ERROR(ValidateInitiator("initiator", req.initiator()));
  return book_->Transition(
      call, TransitionOf(req, AppointmentAction::kStop,
                         [&](Transaction& txn, v1::Appointment& a,
                             const v1::ClinicSchedule& schedule, absl::Time now) -> absl::Status {
                           v1::ProcedureStop* stop = a.mutable_stop();
                           stop->set_reason(req.reason());
                           stop->set_initiator(req.initiator());
                           stop->set_stopped_by(call.who.staff_id);
                           *stop->mutable_stop_time() = ToProtoTimestamp(now);
                           stop->set_started(a.has_procedure_start_time());
                           stop->set_charged(
                               ChargesStop(req.initiator(), schedule.charge_patient_stops()));
                           if (!stop->started() || !IsProcedure(a.type())) return absl::OkStatus();
                           // What was issued was opened for this patient: compliance records the
                           // procedure with it, so every issued needle is in exactly one procedure
                           // record.
                           v1::CompleteAppointmentRequest report;
                           *report.mutable_checklist() = req.checklist();
                           report.set_notes(absl::StrCat("Procedure stopped (",
                                                         req.initiator() == v1::INITIATOR_PATIENT
                                                             ? "the patient asked"
                                                             : "stopped by the clinic",
                                                         "): ", req.reason()));
                           return EnqueueEvent(txn, kComplianceDestination, kRecordProcedureKind,
                                               ProcedureRecordFor(a, report, ZoneOf(schedule)), now)
                               .status();
                         }));
}

absl::Status Appointments::AskComplianceGate(const v1::Appointment& a,
                                             const std::string& practitioner_id,
                                             absl::Time at) const {
  if (!NeedsComplianceGate(a.type())) return absl::OkStatus();
  v1::ClinicSchedule schedule;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(schedule, store_->RequireSchedule(txn, a.clinic_id(), "clinic_id"));
    return absl::OkStatus();
  }));
  return compliance_->CheckAllowed(EligibilityQuery{a.patient_id(), practitioner_id, a.clinic_id(),
                                                    absl::ToCivilDay(at, ZoneOf(schedule)),
                                                    a.type(), at});
}

absl::StatusOr<v1::Appointment> Appointments::Cancel(
    const Call& call, const v1::CancelAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  RETURN_IF_ERROR(ValidateInitiator("initiator", req.initiator()));
  return book_->Transition(
      call,
      TransitionOf(req, AppointmentAction::kCancel,
                   [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule&,
                       absl::Time now) -> absl::Status {
                     // `a` is already CANCELLED: the stored record says what was cancelled.
                     ASSIGN_OR_RETURN(v1::Appointment before, store_->GetAppointment(txn, a.id()));
                     v1::Cancellation* c = a.mutable_cancellation();
                     c->set_reason(req.reason());
                     c->set_cancelled_by(call.who.staff_id);
                     c->set_initiator(req.initiator());
                     *c->mutable_cancel_time() = ToProtoTimestamp(now);
                     // The window recorded at booking, not today's policy.
                     c->set_late(ChargesLateCancellation(before.status(), req.initiator(),
                                                         FromProtoTimestamp(a.start_time()), now,
                                                         ToDuration(a.late_cancellation_window())));
                     return absl::OkStatus();
                   }));
}

absl::StatusOr<v1::Appointment> Appointments::Start(const Call& call,
                                                    const v1::StartAppointmentRequest& req,
                                                    const std::string& authorization) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  ASSIGN_OR_RETURN(v1::Appointment current,
                   ReadInClinicScope<v1::Appointment>(*db_, call, [&](Transaction& txn) {
                     return store_->GetAppointment(txn, req.id());
                   }));
  RETURN_IF_ERROR(ValidateSupplies(current.type(), req.supplies()));
  // Supplies are issued only from the one state a start can leave, and only for the version the
  // caller saw; anything else (a replay of this start included) is Transition's to answer.
  // The hard stop before anything is issued: compliance judges the procedure as of now (consent
  // withdrawn this morning, a contraindication screened at the chair, a credential lapsed since
  // booking). The appointment stays arrived; StopAppointment records it as not done.
  if (NeedsComplianceGate(current.type()) && current.status() == v1::ARRIVED &&
      current.etag() == req.etag()) {
    RETURN_IF_ERROR(AskComplianceGate(current, current.practitioner_id(), call.now));
  }
  std::vector<inventory::v1::IssuedItem> issued;
  std::string attempt;  // the start attempt inventory keys the issue on
  if (IsProcedure(current.type()) && current.status() == v1::ARRIVED &&
      current.etag() == req.etag()) {
    RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(attempt,
                       store_->BeginStartAttempt(txn, current.id(), NewIdAt(call.now), call.now));
      return absl::OkStatus();
    }));
    SupplyRequest supply{.clinic_id = current.clinic_id(),
                         .appointment_id = current.id(),
                         .patient_id = current.patient_id(),
                         .start_attempt_id = attempt,
                         .lines = {req.supplies().begin(), req.supplies().end()}};
    // The issue is made as the technician: their token goes with it.
    ASSIGN_OR_RETURN(issued, supplies_->Issue(supply, authorization));
  }
  absl::StatusOr<v1::Appointment> started = book_->Transition(
      call, TransitionOf(req, AppointmentAction::kStart,
                         [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule&,
                             absl::Time now) -> absl::Status {
                           if (!attempt.empty()) {
                             RETURN_IF_ERROR(store_->MarkStartAttemptStarted(txn, a.id(), attempt));
                           }
                           *a.mutable_procedure_start_time() = ToProtoTimestamp(now);
                           for (inventory::v1::IssuedItem& item : issued) {
                             *a.add_supplies() = std::move(item);
                           }
                           return absl::OkStatus();
                         }));
  if (!started.ok() && !attempt.empty()) {
    RETURN_IF_ERROR(ReturnSupplies(current, attempt, started.status(), call.now));
  }
  return started;
}

absl::Status Appointments::ReturnSupplies(const v1::Appointment& a, const std::string& attempt,
                                          const absl::Status& why, absl::Time now) const {
  bool enqueued = false;
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    enqueued = false;
    // Not when a concurrent start of the same attempt committed (its procedure uses them), nor
    // twice.
    ASSIGN_OR_RETURN(bool abandoned, store_->AbandonStartAttempt(txn, a.id(), attempt));
    if (!abandoned) return absl::OkStatus();
    inventory::v1::ReturnProcedureIssueRequest back;
    back.set_clinic_id(a.clinic_id());
    back.set_appointment_id(a.id());
    back.set_start_attempt_id(attempt);
    back.set_reason(std::string(
        absl::ClippedSubstr(absl::StrCat("the start failed after the supplies were issued: ",
                                         absl::StatusCodeToString(why.code()), ": ", why.message()),
                            0, 500)));
    RETURN_IF_ERROR(
        EnqueueEvent(txn, kInventoryDestination, kReturnProcedureIssueKind, back, now).status());
    enqueued = true;
    return absl::OkStatus();
  }));
  if (enqueued) book_->NotifyEventCommitted();
  return absl::OkStatus();
}

absl::StatusOr<v1::CompleteAppointmentResponse> Appointments::Complete(
    const Call& call, const v1::CompleteAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateCompletion(req));
  ASSIGN_OR_RETURN(
      v1::Appointment done,
      book_->Transition(
          call, TransitionOf(
                    req, AppointmentAction::kComplete,
                    [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule& schedule,
                        absl::Time now) -> absl::Status {
                      const absl::TimeZone zone = ZoneOf(schedule);
                      if (IsProcedure(a.type())) {
                        // Compliance's record of the procedure commits with the
                        // completion.
                        RETURN_IF_ERROR(EnqueueEvent(txn, kComplianceDestination,
                                                     kRecordProcedureKind,
                                                     ProcedureRecordFor(a, req, zone), now)
                                            .status());
                      }
                      if (a.plan_id().empty()) return absl::OkStatus();
                      ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, a.plan_id()));
                      ASSIGN_OR_RETURN(int64_t plan_version, VersionFromEtag("etag", plan.etag()));
                      const absl::CivilDay day =
                          absl::ToCivilDay(FromProtoTimestamp(a.start_time()), zone);
                      if (!CompletePlanIfDone(plan, a.id(), day)) return absl::OkStatus();
                      return store_->UpdatePlan(txn, plan, plan_version).status();
                    })));
  // Aftercare and the next window are derived from stored state, so a replay answers the same.
  v1::CompleteAppointmentResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                     store_->RequireSchedule(txn, done.clinic_id(), "clinic_id"));
    bool course_continues = false;
    if (!done.plan_id().empty()) {
      ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, done.plan_id()));
      course_continues = plan.status() == v1::PLAN_ACTIVE;
      SetNextWindow(plan, ZoneOf(schedule), call.now, out);
    }
    const absl::CivilDay day =
        absl::ToCivilDay(FromProtoTimestamp(done.start_time()), ZoneOf(schedule));
    // Only a procedure leaves a scalp to care for; a consultation's answer has no aftercare.
    if (IsProcedure(done.type())) {
      for (v1::AftercareItem& item : AftercareSchedule(day, course_continues)) {
        *out.add_aftercare() = std::move(item);
      }
    }
    *out.mutable_appointment() = std::move(done);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Appointment> Appointments::Reschedule(
    const Call& call, const v1::RescheduleAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (!req.has_start_time()) return absl::InvalidArgumentError("start_time: is required");
  RETURN_IF_ERROR(ValidateOptionalId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateOptionalId("chair_id", req.chair_id()));
  const absl::Time new_start = FromProtoTimestamp(req.start_time());
  ASSIGN_OR_RETURN(v1::Appointment current,
                   ReadInClinicScope<v1::Appointment>(*db_, call, [&](Transaction& txn) {
                     return store_->GetAppointment(txn, req.id());
                   }));
  // A procedure moved to another time or practitioner is judged again (credentials on the new
  // day, consent and screening at the new time). The gate is a network call, asked before the
  // write transaction for the version the caller saw; the transition refuses any other. As at
  // booking, the patient is scoped first: the gate's reasons describe their health.
  if (NeedsComplianceGate(current.type()) && current.etag() == req.etag() &&
      (current.status() == v1::PROPOSED || current.status() == v1::BOOKED)) {
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::Patient patient, store_->GetPatient(txn, current.patient_id()));
      return call.who.CheckClinic(patient.preferred_clinic_id());
    }));
    RETURN_IF_ERROR(AskComplianceGate(
        current, req.practitioner_id().empty() ? current.practitioner_id() : req.practitioner_id(),
        new_start));
  }
  return book_->Transition(
      call,
      TransitionOf(req, AppointmentAction::kReschedule,
                   [&](Transaction& txn, v1::Appointment& a, const v1::ClinicSchedule& schedule,
                       absl::Time now) -> absl::Status {
                     const absl::Duration duration =
                         FromProtoTimestamp(a.end_time()) - FromProtoTimestamp(a.start_time());
                     if (!a.plan_id().empty()) {
                       ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, a.plan_id()));
                       // Spaced against the plan's other live sessions, not itself.
                       RETURN_IF_ERROR(CheckSessionSpacing(plan, a.session_number(), new_start,
                                                           ZoneOf(schedule), a.id()));
                     }
                     RETURN_IF_ERROR(store_->Release(txn, a.id()));
                     if (!req.practitioner_id().empty())
                       a.set_practitioner_id(req.practitioner_id());
                     *a.mutable_start_time() = req.start_time();
                     *a.mutable_end_time() = ToProtoTimestamp(new_start + duration);
                     const bool chair_chosen = !req.chair_id().empty();
                     if (chair_chosen) a.set_chair_id(req.chair_id());
                     return book_->TakeSlot(txn, schedule, a, chair_chosen, now);
                   }));
}

absl::StatusOr<v1::Appointment> Appointments::Get(const Call& call,
                                                  const v1::GetAppointmentRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  return ReadInClinicScope<v1::Appointment>(
      *db_, call, [&](Transaction& txn) { return store_->GetAppointment(txn, req.id()); });
}

absl::StatusOr<v1::ListAppointmentsResponse> Appointments::List(
    const Call& call, const v1::ListAppointmentsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  if (!req.period().has_start_time() || !req.period().has_end_time()) {
    return absl::InvalidArgumentError("period: start_time and end_time are required");
  }
  const Interval period{FromProtoTimestamp(req.period().start_time()),
                        FromProtoTimestamp(req.period().end_time())};
  if (period.end <= period.start) {
    return absl::InvalidArgumentError("period: end_time must be after start_time");
  }
  if (period.end - period.start > kMaxListPeriod) {
    return absl::InvalidArgumentError("period: at most 92 days");
  }
  RETURN_IF_ERROR(ValidateOptionalId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateOptionalId("patient_id", req.patient_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query =
      absl::StrCat("appointments?clinic=", req.clinic_id(), "&from=", ToDbMicros(period.start),
                   "&to=", ToDbMicros(period.end), "&practitioner=", req.practitioner_id(),
                   "&patient=", req.patient_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListAppointmentsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Appointment> result,
                     store_->ListAppointments(txn, req.clinic_id(), period, req.practitioner_id(),
                                              req.patient_id(), page));
    for (v1::Appointment& a : result.items) *out.add_appointments() = std::move(a);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::scheduling
