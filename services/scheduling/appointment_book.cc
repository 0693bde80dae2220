#include "services/scheduling/appointment_book.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/scheduling/billing_events.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {
namespace {

constexpr int kMaxSlotsLimit = 1000;
constexpr int kSweepBatch = 500;

std::string LocalText(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, zone);
}

}  // namespace

WriteQueue FeedQueue(absl::string_view clinic_id) {
  return WriteQueue{absl::StrCat("scheduling.feed:", clinic_id)};
}

AppointmentBook::AppointmentBook(Database* db, const SchedulingStore* store,
                                 ChangeNotifier* notifier, std::function<void()> on_event_committed)
    : db_(db),
      store_(store),
      notifier_(notifier),
      on_event_committed_(std::move(on_event_committed)) {}

void AppointmentBook::NotifyCommitted(const v1::Appointment& a) const {
  notifier_->Notify(a.clinic_id(), a.change_sequence());
}

absl::Status AppointmentBook::RecordChange(Transaction& txn, v1::Appointment& a,
                                           v1::ChangeType type, int64_t new_version, absl::Time now,
                                           std::string* record) const {
  ASSIGN_OR_RETURN(int64_t sequence, store_->NextSequence(txn, a.clinic_id()));
  a.set_change_sequence(sequence);
  a.set_etag(EtagOf(new_version));
  *a.mutable_update_time() = ToProtoTimestamp(now);
  v1::Change change;
  change.set_sequence(sequence);
  change.set_clinic_id(a.clinic_id());
  change.set_type(type);
  *change.mutable_commit_time() = ToProtoTimestamp(now);
  std::string bytes = a.SerializeAsString();
  RETURN_IF_ERROR(store_->AppendChange(txn, change, bytes));
  if (record != nullptr) *record = std::move(bytes);
  return absl::OkStatus();
}

absl::Status AppointmentBook::LapseHolds(Transaction& txn,
                                         const std::vector<std::string>& resources, Interval block,
                                         absl::Time now) const {
  ASSIGN_OR_RETURN(std::vector<std::string> occupants, store_->Occupants(txn, resources, block));
  for (const std::string& id : occupants) {
    ASSIGN_OR_RETURN(v1::Appointment held, store_->GetAppointment(txn, id));
    if (held.status() != v1::PROPOSED || FromProtoTimestamp(held.hold_expire_time()) > now) {
      continue;
    }
    RETURN_IF_ERROR(CancelLapsedHold(txn, held, now));
  }
  return absl::OkStatus();
}

absl::Status AppointmentBook::CancelLapsedHold(Transaction& txn, v1::Appointment& held,
                                               absl::Time now) const {
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", held.etag()));
  held.set_status(v1::CANCELLED);
  held.clear_hold_expire_time();
  held.mutable_cancellation()->set_reason("hold lapsed");
  *held.mutable_cancellation()->mutable_cancel_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(store_->Release(txn, held.id()));
  std::string record;
  RETURN_IF_ERROR(RecordChange(txn, held, v1::CHANGE_TYPE_CANCELLED, version + 1, now, &record));
  return store_->UpdateAppointment(txn, held, FromProtoTimestamp(held.end_time()), version, record);
}

absl::Status AppointmentBook::TakeSlot(Transaction& txn, const v1::ClinicSchedule& schedule,
                                       v1::Appointment& a, bool chair_chosen,
                                       absl::Time now) const {
  ASSIGN_OR_RETURN(std::string chair, CheckSlot(txn, schedule, a, chair_chosen, now));
  a.set_chair_id(std::move(chair));
  const Interval block{FromProtoTimestamp(a.start_time()),
                       FromProtoTimestamp(a.end_time()) +
                           std::max(ToDuration(schedule.buffer_after()), absl::ZeroDuration())};
  RETURN_IF_ERROR(LapseHolds(
      txn, {a.practitioner_id(), a.chair_id(), PatientResource(a.patient_id())}, block, now));
  // The check above read a snapshot; the occupancy rows are what actually exclude a concurrent
  // booking of the same practitioner or chair, or of the same patient at any clinic (a
  // primary-key collision fails the transaction).
  return store_->Occupy(txn, a, block);
}

absl::StatusOr<std::string> AppointmentBook::CheckSlot(Transaction& txn,
                                                       const v1::ClinicSchedule& schedule,
                                                       const v1::Appointment& a, bool chair_chosen,
                                                       absl::Time now) const {
  const absl::TimeZone zone = ZoneOf(schedule);
  const absl::Time start = FromProtoTimestamp(a.start_time());
  const absl::Time end = FromProtoTimestamp(a.end_time());
  if (start < now) return absl::InvalidArgumentError("start_time: is in the past");
  const absl::CivilDay day = absl::ToCivilDay(start, zone);
  CalendarScope scope{day, day, a.practitioner_id(), chair_chosen ? a.chair_id() : "", a.id()};
  // Only what overlaps this appointment's own block can stop it.
  scope.busy_window =
      Interval{start, end + std::max(ToDuration(schedule.buffer_after()), absl::ZeroDuration())};
  ASSIGN_OR_RETURN(CalendarInputs in, LoadCalendars(*store_, txn, schedule, scope, now));
  return ChooseSlotChair(in, a, chair_chosen, now);
}

absl::StatusOr<std::string> ChooseSlotChair(const CalendarInputs& in, const v1::Appointment& a,
                                            bool chair_chosen, absl::Time now) {
  const absl::TimeZone zone = in.query.zone;
  const absl::Time start = FromProtoTimestamp(a.start_time());
  const absl::Time end = FromProtoTimestamp(a.end_time());
  if (start < now) return absl::InvalidArgumentError("start_time: is in the past");
  AvailabilityQuery query = in.query;
  query.duration = end - start;
  query.not_before = start;
  query.not_after = start;
  query.max_slots = kMaxSlotsLimit;
  const AvailabilityResult result = FindSlots(query, in.practitioners, in.chairs);
  const Slot* chosen = nullptr;
  for (const Slot& s : result.slots) {
    if (s.start == start && s.practitioner_id == a.practitioner_id()) {
      chosen = &s;
      break;
    }
  }
  if (chosen == nullptr) {
    const std::string message = absl::StrCat(
        "practitioner ", a.practitioner_id(), " cannot take ", LocalText(start, zone), " to ",
        LocalText(end, zone),
        chair_chosen ? absl::StrCat(" in chair ", a.chair_id()) : std::string(),
        ": outside opening or working hours, off the ", absl::FormatDuration(query.step),
        " grid, or already booked; FindAvailability lists free slots");
    // Another booking holding the time is the refusal a client acts on (offer another slot).
    std::vector<Interval> practitioner_busy;
    for (const PractitionerCalendar& p : in.practitioners) {
      if (p.practitioner_id == a.practitioner_id()) practitioner_busy = p.busy;
    }
    std::vector<std::vector<Interval>> chairs_busy;
    for (const ChairCalendar& c : in.chairs) chairs_busy.push_back(c.busy);
    const std::string busy =
        BusyResource(practitioner_busy, chairs_busy, Interval{start, end + query.buffer_after});
    if (busy.empty()) return absl::FailedPreconditionError(message);
    return SlotTakenError(message, busy,
                          busy == "practitioner" ? a.practitioner_id() : a.chair_id());
  }
  return std::string(chosen->chair_id);
}

absl::StatusOr<int> AppointmentBook::SweepLapsedHolds(absl::Time now) const {
  std::vector<std::string> clinics;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(clinics, store_->ClinicsWithLapsedHolds(txn, now));
    return absl::OkStatus();
  }));
  int cancelled = 0;
  for (const std::string& clinic_id : clinics) {
    std::vector<v1::Appointment> lapsed;
    RETURN_IF_ERROR(
        db_->Run(TxMode::kWrite, FeedQueue(clinic_id), [&](Transaction& txn) -> absl::Status {
          lapsed.clear();
          ASSIGN_OR_RETURN(std::vector<v1::Appointment> holds,
                           store_->LapsedHolds(txn, clinic_id, now, kSweepBatch));
          for (v1::Appointment& held : holds) {
            RETURN_IF_ERROR(CancelLapsedHold(txn, held, now));
            lapsed.push_back(held);
          }
          return absl::OkStatus();
        }));
    for (const v1::Appointment& a : lapsed) NotifyCommitted(a);
    cancelled += static_cast<int>(lapsed.size());
  }
  return cancelled;
}

absl::StatusOr<v1::Appointment> AppointmentBook::Transition(const Call& call,
                                                            const TransitionRequest& t) const {
  RETURN_IF_ERROR(ValidateId("id", t.id));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", t.etag));
  ASSIGN_OR_RETURN(IdempotencyKey key,
                   MakeIdempotencyKey(call.method, t.request_id, call.who.staff_id, *t.request));
  const absl::Time now = call.now;
  // The change advances the feed of the appointment's clinic: queue behind its other writers. An
  // appointment never changes clinic, so a read before the transaction names the right queue; one
  // not found names none and the transaction answers as it would anyway.
  WriteQueue queue;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    absl::StatusOr<v1::Appointment> a = store_->GetAppointment(txn, t.id);
    if (a.ok()) queue = FeedQueue(a->clinic_id());
    return absl::IsNotFound(a.status()) ? absl::OkStatus() : a.status();
  }));
  bool changed = false;
  bool event_enqueued = false;
  ASSIGN_OR_RETURN(
      v1::Appointment result,
      RunIdempotent<v1::Appointment>(
          *db_, key, now, queue, [&](Transaction& txn) -> absl::StatusOr<v1::Appointment> {
            ASSIGN_OR_RETURN(v1::Appointment a, store_->GetAppointment(txn, t.id));
            RETURN_IF_ERROR(call.who.CheckClinic(a.clinic_id()));
            ASSIGN_OR_RETURN(int64_t current, VersionFromEtag("etag", a.etag()));
            if (current != version) {
              return StaleEtagError("appointment", a.id(), t.etag, a.etag());
            }
            ASSIGN_OR_RETURN(
                v1::AppointmentStatus next,
                NextStatus(a.status(), t.action, FromProtoTimestamp(a.hold_expire_time()), now));
            ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                             store_->RequireSchedule(txn, a.clinic_id(), "clinic_id"));
            a.set_status(next);
            if (next != v1::PROPOSED) a.clear_hold_expire_time();
            if (t.apply) RETURN_IF_ERROR(t.apply(txn, a, schedule, now));
            if (!BlocksTime(next, FromProtoTimestamp(a.hold_expire_time()), now)) {
              RETURN_IF_ERROR(store_->Release(txn, a.id()));
            }
            // What billing must charge travels with the change, through the outbox.
            v1::TreatmentPlan plan;
            const v1::TreatmentPlan* plan_ptr = nullptr;
            if (next == v1::FULFILLED && !a.plan_id().empty()) {
              ASSIGN_OR_RETURN(plan, store_->GetPlan(txn, a.plan_id()));
              plan_ptr = &plan;
            }
            if (std::optional<billing::v1::RecordChargeEventRequest> charge =
                    ChargeEventFor(a, plan_ptr, now)) {
              RETURN_IF_ERROR(
                  EnqueueEvent(txn, kBillingDestination, kChargeEventKind, *charge, now).status());
              event_enqueued = true;
            }
            std::string record;
            RETURN_IF_ERROR(RecordChange(
                txn, a, next == v1::CANCELLED ? v1::CHANGE_TYPE_CANCELLED : v1::CHANGE_TYPE_UPDATED,
                version + 1, now, &record));
            // The block keeps the buffer it was booked with (its occupancy rows), whatever the
            // clinic's buffer is now; a reschedule took new rows with the current one.
            ASSIGN_OR_RETURN(absl::Time block_end,
                             store_->OccupiedUntil(txn, a.id(), FromProtoTimestamp(a.end_time())));
            RETURN_IF_ERROR(store_->UpdateAppointment(txn, a, block_end, version, record));
            changed = true;
            return a;
          }));
  if (changed) NotifyCommitted(result);
  if (event_enqueued && on_event_committed_) on_event_committed_();
  return result;
}

}  // namespace smp::scheduling
