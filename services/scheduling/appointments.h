#ifndef SMP_SERVICES_SCHEDULING_APPOINTMENTS_H_
#define SMP_SERVICES_SCHEDULING_APPOINTMENTS_H_

// Appointments: finding free slots, booking (with the compliance gate for procedures), the status
// changes of an appointment's life (through the appointment book), reads and lists. Each operation
// validates, authorises the appointment's clinic and runs the rules and the store in one
// transaction.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/scheduling/appointment_book.h"
#include "services/scheduling/clinic_calendar_cache.h"
#include "services/scheduling/compliance_gate.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/slot_rules_cache.h"
#include "services/scheduling/supply_issuer.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class Appointments {
 public:
  // Every pointer must outlive the unit.
  // `calendars` (may be null: every search reads the database) answers FindAvailability's
  // calendars from memory while the clinic's versions are unchanged; `rules` (may be null: every
  // booking's pre-check reads the database) a booking's slot rules.
  Appointments(Database* db, const SchedulingStore* store, const AppointmentBook* book,
               ComplianceGate* compliance, SupplyIssuer* supplies,
               ClinicCalendarCache* calendars = nullptr, SlotRulesCache* rules = nullptr)
      : db_(db),
        store_(store),
        book_(book),
        compliance_(compliance),
        supplies_(supplies),
        calendars_(calendars),
        rules_(rules) {}

  // Free slots of a clinic over at most 62 local days (a plan's next-session window applied).
  absl::StatusOr<v1::FindAvailabilityResponse> FindAvailability(
      const Call& call, const v1::FindAvailabilityRequest& req) const;
  // The same answer in wire form (slot_encoding.h), as the service sends it.
  absl::StatusOr<std::string> FindAvailabilityEncoded(const Call& call,
                                                      const v1::FindAvailabilityRequest& req) const;
  // Books (or holds) a slot. Procedures first pass the compliance gate (FAILED_PRECONDITION with
  // NOT_ELIGIBLE when compliance refuses, UNAVAILABLE when it cannot answer); a taken slot is
  // FAILED_PRECONDITION with SLOT_TAKEN. Idempotent by request_id.
  absl::StatusOr<v1::Appointment> Book(const Call& call,
                                       const v1::BookAppointmentRequest& req) const;
  // Book, answering in `answer` once the booking is durable (or refused): the checks before the
  // write run on the caller's thread, the write on the database's (Database::RunAsync), so no
  // thread waits for the log's sync. `answer` may run on the caller's thread before this returns.
  void BookAsync(const Call& call, const v1::BookAppointmentRequest& req,
                 Answer<v1::Appointment> answer) const;
  absl::StatusOr<v1::Appointment> Confirm(const Call& call,
                                          const v1::ConfirmAppointmentRequest& req) const;
  // Moves a held or booked appointment (same duration), keeping a plan's session spacing. A
  // procedure first passes the compliance gate again for the new time and practitioner (after
  // the patient's clinic scope, as at booking).
  absl::StatusOr<v1::Appointment> Reschedule(const Call& call,
                                             const v1::RescheduleAppointmentRequest& req) const;
  // Cancels, recording who asked (patient or clinic) and why; flagged late (charged) only for a
  // confirmed appointment the patient cancels inside the window set at booking.
  absl::StatusOr<v1::Appointment> Cancel(const Call& call,
                                         const v1::CancelAppointmentRequest& req) const;
  absl::StatusOr<v1::Appointment> CheckIn(const Call& call,
                                          const v1::CheckInAppointmentRequest& req) const;
  // Starts the appointment; a procedure first passes the compliance gate for now (a hard stop:
  // nothing is issued when it refuses or cannot answer), then has its supplies issued by
  // inventory as the caller, whose `authorization` header value is passed on.
  absl::StatusOr<v1::Appointment> Start(const Call& call, const v1::StartAppointmentRequest& req,
                                        const std::string& authorization) const;
  // Completes it: compliance's procedure record and billing's charge go to the outbox with the
  // change; a plan whose last session this was is completed (plan_rules CompletePlanIfDone).
  absl::StatusOr<v1::CompleteAppointmentResponse> Complete(
      const Call& call, const v1::CompleteAppointmentRequest& req) const;
  // Marks a booked appointment a no-show once its start plus the clinic's no-show grace has
  // passed (FAILED_PRECONDITION, NO_SHOW_TOO_EARLY, before).
  absl::StatusOr<v1::Appointment> MarkNoShow(const Call& call,
                                             const v1::MarkNoShowRequest& req) const;
  // Stops an arrived (not done) or in-progress (stopped) appointment with who asked and why. A
  // started procedure's record, with what was issued, goes to compliance's outbox; billing hears
  // of it only when the patient stopped it and the clinic's rule charges patient stops.
  absl::StatusOr<v1::Appointment> Stop(const Call& call,
                                       const v1::StopAppointmentRequest& req) const;
  absl::StatusOr<v1::Appointment> Get(const Call& call, const v1::GetAppointmentRequest& req) const;
  // One page of a clinic's appointments starting in a period of at most 92 days, by start.
  absl::StatusOr<v1::ListAppointmentsResponse> List(const Call& call,
                                                    const v1::ListAppointmentsRequest& req) const;

 private:
  // What a booking's pre-check settled, as of the clinic's calendar version.
  struct PreChecked {
    std::shared_ptr<const v1::ClinicSchedule> schedule;
    int64_t calendar_version = 0;
    std::string chair_id;  // the chair the booking would take
  };
  // A booking as its pre-check left it: what its write transaction needs.
  struct Booking {
    Call call;
    v1::BookAppointmentRequest req;
    absl::Time start;
    std::optional<PreChecked> pre;  // empty: the write checks everything itself
    bool patient_scoped = false;    // the caller's scope over the patient was checked already
  };
  // Validates a booking, checks the caller's scope, and runs the checks that need no write:
  // the pre-check (PreCheckSlot, from memory in the common case) and the compliance gate.
  absl::StatusOr<std::shared_ptr<const Booking>> PrepareBooking(
      const Call& call, const v1::BookAppointmentRequest& req) const;
  // The booking's write transaction: re-checks what the pre-check left open (by the calendar
  // version and the occupancy keys), takes the slot, records the change and the appointment.
  absl::StatusOr<v1::Appointment> WriteBooking(Transaction& txn, const Booking& booking) const;
  // The booking's slot checked in `txn` (a read transaction) against the rules and, without a
  // chosen chair, the chairs' busy blocks. nullopt for anything it does not settle.
  absl::StatusOr<std::optional<PreChecked>> PreCheckSlot(Transaction& txn,
                                                         const v1::BookAppointmentRequest& req,
                                                         absl::Time now) const;
  // The pre-check's decision on `rules` read for the booking. `txn` (may be null: nullopt then)
  // reads the chairs' busy blocks when `rules` has no day's calendars (no chosen chair).
  std::optional<PreChecked> PreCheckOnRules(SlotRules rules, const v1::BookAppointmentRequest& req,
                                            absl::Time now, Transaction* txn) const;
  // Asks compliance whether `a`'s procedure may go ahead with `practitioner_id` at `at` (its
  // clinic-local day and that instant). OK for types the gate does not cover.
  absl::Status AskComplianceGate(const v1::Appointment& a, const std::string& practitioner_id,
                                 absl::Time at) const;
  // After a start failed (`why`) once its supplies were issued under `attempt`: queues their
  // return to inventory in the outbox, unless a start with that attempt committed after all.
  absl::Status ReturnSupplies(const v1::Appointment& a, const std::string& attempt,
                              const absl::Status& why, absl::Time now) const;

  Database* db_;
  const SchedulingStore* store_;
  const AppointmentBook* book_;
  ComplianceGate* compliance_;
  SupplyIssuer* supplies_;
  ClinicCalendarCache* calendars_;
  SlotRulesCache* rules_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_APPOINTMENTS_H_
