#ifndef SMP_SERVICES_SCHEDULING_APPOINTMENT_BOOK_H_
#define SMP_SERVICES_SCHEDULING_APPOINTMENT_BOOK_H_

// The appointment book: what takes and frees a practitioner's and a chair's time, lapses holds,
// records every appointment change in its clinic's feed and moves an appointment from one status
// to the next. The operations of appointments.h are built from it.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "google/protobuf/message.h"
#include "services/scheduling/appointment_rules.h"
#include "services/scheduling/calendar_loader.h"
#include "services/scheduling/change_notifier.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// A status change of an existing appointment (confirm, reschedule, cancel, check in, start,
// complete, no-show).
struct TransitionRequest {
  // What may adjust the appointment (already in its new status) before it is saved, inside the
  // transaction: record a cancellation, move it, attach supplies. May be empty.
  using ApplyFn = std::function<absl::Status(Transaction&, v1::Appointment&,
                                             const v1::ClinicSchedule&, absl::Time now)>;

  AppointmentAction action;
  // The appointment and the etag the caller last saw.
  std::string id;
  std::string etag;
  // The RPC's request (its fingerprint and request_id key the change; see RunIdempotent).
  const google::protobuf::Message* request = nullptr;
  std::string request_id;
  ApplyFn apply;
};

// A TransitionRequest from an RPC request that has id, etag and request_id.
template <typename Request>
TransitionRequest TransitionOf(const Request& request, AppointmentAction action,
                               TransitionRequest::ApplyFn apply = nullptr) {
  return TransitionRequest{action,   request.id(),         request.etag(),
                           &request, request.request_id(), std::move(apply)};
}

// The write queue of `clinic_id`'s change feed: every write transaction that may record a change
// of the clinic's appointments (RecordChange advances the clinic's feed head) names it, so that on
// PostgreSQL the clinic's writers take turns instead of colliding on the head row
// (common/db/README.md, "Hot rows").
WriteQueue FeedQueue(absl::string_view clinic_id);

// CheckSlot's decision on calendars already read (`in`: the local day of `a`'s start, its
// practitioner, and its chair when `chair_chosen`): the chair a booking of `a` would take, or the
// refusal (INVALID_ARGUMENT for a start before `now`; FAILED_PRECONDITION, with SLOT_TAKEN when a
// busy block of `in` holds the time).
absl::StatusOr<std::string> ChooseSlotChair(const CalendarInputs& in, const v1::Appointment& a,
                                            bool chair_chosen, absl::Time now);

class AppointmentBook {
 public:
  // `db`, `store` and `notifier` must outlive the book. `on_event_committed` (may be empty) is
  // called after a change that put an event in the outbox has committed (wakes the dispatcher).
  AppointmentBook(Database* db, const SchedulingStore* store, ChangeNotifier* notifier,
                  std::function<void()> on_event_committed);

  // Inside `txn`: books `a` (id, clinic, practitioner, chair, times, type set) if its slot is free
  // at `now`: hours, exceptions and conflicts through FindSlots, then the occupancy granules (which
  // exclude a concurrent booking, and take the patient's time at every clinic). Sets the chair
  // when none was chosen. INVALID_ARGUMENT for a start in the past; FAILED_PRECONDITION when the
  // slot cannot be taken, with SLOT_TAKEN naming the resource ("practitioner", "chair" or
  // "patient") when it is another booking that holds it.
  absl::Status TakeSlot(Transaction& txn, const v1::ClinicSchedule& schedule, v1::Appointment& a,
                        bool chair_chosen, absl::Time now) const;
  // TakeSlot's check alone, on whatever `txn` reads (a read transaction before the write one, for
  // a booking's pre-check): the chair a booking of `a` would take, or TakeSlot's refusal. Takes
  // nothing; the occupancy rows decide later.
  absl::StatusOr<std::string> CheckSlot(Transaction& txn, const v1::ClinicSchedule& schedule,
                                        const v1::Appointment& a, bool chair_chosen,
                                        absl::Time now) const;

  // Inside `txn`: appends the change to `a`'s clinic feed and stamps its sequence, the etag of
  // `new_version` and the update time on `a`.
  // `record` (when given) receives `a` as serialised for the change, for the row's write
  // (SchedulingStore::InsertAppointment / UpdateAppointment with a record): serialised once.
  absl::Status RecordChange(Transaction& txn, v1::Appointment& a, v1::ChangeType type,
                            int64_t new_version, absl::Time now,
                            std::string* record = nullptr) const;

  // Cancels every held appointment whose hold lapsed by `now`, so that their clinics' change feeds
  // say so (bookings also free lapsed holds they collide with): one write transaction per clinic,
  // in the clinic's FeedQueue. Returns how many it cancelled.
  absl::StatusOr<int> SweepLapsedHolds(absl::Time now) const;

  // Runs a status change in one idempotent write transaction (keyed by call.method and the
  // request's request_id) in the FeedQueue of the appointment's clinic (read first; a clinic never
  // changes): checks the clinic scope and the etag (ABORTED, STALE_ETAG), the status
  // rule (FAILED_PRECONDITION), applies `t.apply`, frees the time if the new status does not block
  // it, enqueues billing's charge event, records the change and saves. Wakes watchers after commit.
  absl::StatusOr<v1::Appointment> Transition(const Call& call, const TransitionRequest& t) const;

  // Wakes the clinic's WatchChanges streams for a committed change of `a`.
  void NotifyCommitted(const v1::Appointment& a) const;
  // Wakes the outbox dispatcher after a change outside Transition put an event in the outbox.
  void NotifyEventCommitted() const {
    if (on_event_committed_) on_event_committed_();
  }

 private:
  // Cancels one held appointment whose hold has lapsed: frees its time, records the change.
  absl::Status CancelLapsedHold(Transaction& txn, v1::Appointment& held, absl::Time now) const;
  // Cancels held appointments occupying `block` on these resources whose hold has lapsed.
  absl::Status LapseHolds(Transaction& txn, const std::vector<std::string>& resources,
                          Interval block, absl::Time now) const;

  Database* db_;
  const SchedulingStore* store_;
  ChangeNotifier* notifier_;
  std::function<void()> on_event_committed_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_APPOINTMENT_BOOK_H_
