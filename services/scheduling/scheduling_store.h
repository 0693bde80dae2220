#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "services/scheduling/availability.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// The longest a block can be: the longest appointment (6 h) plus the longest cleaning buffer (2 h).
inline constexpr absl::Duration kMaxBlock = absl::Hours(8);

// The occupancy key of a patient ("patient:<id>"): a patient is a booked resource chain-wide, so
// one scheduling database refuses two clinics' overlapping sessions for one patient. The prefix
// keeps patients apart from practitioner and chair ids.
std::string PatientResource(absl::string_view patient_id);

// An existing blocking appointment as conflict checks see it.
struct BusyBlock {
  std::string appointment_id;
  std::string practitioner_id;
  std::string chair_id;
  Interval block;  // start to end plus buffer
};

// A practitioner's LEAVE entered at some clinic, as instants.
struct PractitionerLeave {
  std::string practitioner_id;
  Interval span;
};

// The scheduling SQL: clinic schedules, patients, chairs, working hours and exceptions, treatment
// plans, appointments with the occupancy granules that exclude double booking, and the per-clinic
// change feed. Protobuf records are kept as BLOB columns next to the indexed columns queries need.
//
// Every function runs inside the caller's transaction (an operation unit decides its extent), so an
// operation's steps, its change-feed entry, its outbox events and its request_id commit together or
// not at all. Errors: NOT_FOUND "<kind> <id> not found" for a missing resource; ABORTED with
// STALE_ETAG (current etag as metadata) when an update's expected version is not the stored one;
// FAILED_PRECONDITION with SLOT_TAKEN when a granule is held; DATA_LOSS for a stored record that
// does not parse; anything else is the database's own error (see common/db/database.h).
class SchedulingStore {
 public:
  // ---- Clinic schedules ----
  absl::StatusOr<std::optional<v1::ClinicSchedule>> GetSchedule(Transaction& txn,
                                                                absl::string_view clinic_id) const;
  // The clinic's schedule, or INVALID_ARGUMENT naming `field` (the request field that named the
  // clinic) when there is none: an unknown clinic, or one an admin has not set up yet.
  absl::StatusOr<v1::ClinicSchedule> RequireSchedule(Transaction& txn, absl::string_view clinic_id,
                                                     absl::string_view field) const;
  // Writes `schedule` if the stored version is `expected_version` (0: none stored yet); ABORTED
  // otherwise, naming the current etag.
  absl::StatusOr<v1::ClinicSchedule> PutSchedule(Transaction& txn,
                                                 const v1::ClinicSchedule& schedule,
                                                 int64_t expected_version, absl::Time now) const;
  // The clinic's calendar version (0 before any): advanced in the same transaction by every write
  // of what a booking's pre-check reads besides appointments: the schedule, a chair, working
  // hours and exceptions (an hours or exception change of a practitioner advances every clinic
  // where they have hours or exceptions, as their leave counts everywhere).
  absl::StatusOr<int64_t> CalendarVersion(Transaction& txn, absl::string_view clinic_id) const;
  // The clinics where any of these practitioners has working hours or exceptions, or an
  // appointment starting in `window` (widened by kMaxBlock before it): the clinics whose changes
  // can touch their calendars. Unordered, each once.
  absl::StatusOr<std::vector<std::string>> ClinicsOfPractitioners(
      Transaction& txn, const std::vector<std::string>& practitioner_ids, Interval window) const;

  // ---- Patients ----
  absl::StatusOr<v1::Patient> CreatePatient(Transaction& txn, const v1::Patient& patient,
                                            absl::Time now) const;
  absl::StatusOr<v1::Patient> GetPatient(Transaction& txn, absl::string_view id) const;
  absl::StatusOr<v1::Patient> UpdatePatient(Transaction& txn, const v1::Patient& patient,
                                            int64_t expected_version, absl::Time now) const;
  // Patients whose names, phone or email contain `needle` (lower case), by id; `clinics` (when set)
  // restricts to patients whose preferred clinic is one of them.
  absl::StatusOr<Page<v1::Patient>> SearchPatients(
      Transaction& txn, absl::string_view needle,
      const std::optional<std::vector<std::string>>& clinics, const PageRequest& page) const;

  // ---- Chairs ----
  absl::StatusOr<v1::Chair> CreateChair(Transaction& txn, const v1::Chair& chair,
                                        absl::Time now) const;
  absl::StatusOr<v1::Chair> GetChair(Transaction& txn, absl::string_view id) const;
  // Every chair of the clinic, by id (the calendar loader's read).
  absl::StatusOr<std::vector<v1::Chair>> ListChairs(Transaction& txn,
                                                    absl::string_view clinic_id) const;
  // One page of the clinic's chairs, by id.
  absl::StatusOr<Page<v1::Chair>> ListChairs(Transaction& txn, absl::string_view clinic_id,
                                             const PageRequest& page) const;
  absl::StatusOr<v1::Chair> UpdateChair(Transaction& txn, const v1::Chair& chair,
                                        int64_t expected_version) const;

  // ---- Working hours and exceptions ----
  absl::StatusOr<std::optional<v1::WorkingHours>> GetWorkingHours(
      Transaction& txn, absl::string_view practitioner_id, absl::string_view clinic_id) const;
  absl::StatusOr<v1::WorkingHours> PutWorkingHours(Transaction& txn, const v1::WorkingHours& hours,
                                                   int64_t expected_version) const;
  // Every practitioner's hours at the clinic, by practitioner id.
  absl::StatusOr<std::vector<v1::WorkingHours>> ListWorkingHours(Transaction& txn,
                                                                 absl::string_view clinic_id) const;
  // One page of them, keyed by practitioner id.
  absl::StatusOr<Page<v1::WorkingHours>> ListWorkingHours(Transaction& txn,
                                                          absl::string_view clinic_id,
                                                          const PageRequest& page) const;
  absl::StatusOr<v1::ScheduleException> CreateException(Transaction& txn,
                                                        const v1::ScheduleException& exception,
                                                        Interval span, absl::Time now) const;
  absl::StatusOr<v1::ScheduleException> GetException(Transaction& txn, absl::string_view id) const;
  absl::Status DeleteException(Transaction& txn, absl::string_view id) const;
  // A clinic's exceptions whose span overlaps `window`, by start.
  // LEAVE of these practitioners entered at clinics other than `clinic_id`, overlapping `window`,
  // as the instants stored when it was entered (a practitioner on leave is away at every branch).
  absl::StatusOr<std::vector<PractitionerLeave>> LeaveElsewhere(
      Transaction& txn, absl::string_view clinic_id,
      const std::vector<std::string>& practitioner_ids, Interval window) const;
  absl::StatusOr<std::vector<v1::ScheduleException>> ListExceptions(Transaction& txn,
                                                                    absl::string_view clinic_id,
                                                                    Interval window) const;
  // One page of them, keyed by (start, id).
  absl::StatusOr<Page<v1::ScheduleException>> ListExceptions(Transaction& txn,
                                                             absl::string_view clinic_id,
                                                             Interval window,
                                                             const PageRequest& page) const;

  // ---- Treatment plans (sessions are read from the appointments that belong to the plan) ----
  absl::StatusOr<v1::TreatmentPlan> CreatePlan(Transaction& txn, const v1::TreatmentPlan& plan,
                                               absl::Time now) const;
  absl::StatusOr<v1::TreatmentPlan> GetPlan(Transaction& txn, absl::string_view id) const;
  // One page of the patient's plans, newest first; `clinics` (when set) keeps only plans of those
  // clinics.
  absl::StatusOr<Page<v1::TreatmentPlan>> ListPlans(
      Transaction& txn, absl::string_view patient_id,
      const std::optional<std::vector<std::string>>& clinics, const PageRequest& page) const;
  // Rewrites the plan's terms and status if the version is `expected_version`.
  absl::StatusOr<v1::TreatmentPlan> UpdatePlan(Transaction& txn, const v1::TreatmentPlan& plan,
                                               int64_t expected_version) const;

  // ---- Appointments ----
  // Takes every 5-minute granule of `block` for the practitioner and the chair, and of the
  // appointment itself (start to end, no cleaning buffer) for the patient (PatientResource).
  // FAILED_PRECONDITION with SLOT_TAKEN naming the resource when any granule is taken: the
  // appointment holding it for a practitioner or chair; none for the patient (it may be another
  // clinic's).
  absl::Status Occupy(Transaction& txn, const v1::Appointment& appointment, Interval block) const;
  // The same granules, if every one is free: true when taken; false (none kept) when any is held,
  // for a booking whose pre-check was made before its write transaction to check again there.
  absl::StatusOr<bool> OccupyIfFree(Transaction& txn, const v1::Appointment& appointment,
                                    Interval block) const;
  // Ids of the appointments holding any granule of `block` on either resource.
  absl::StatusOr<std::vector<std::string>> Occupants(Transaction& txn,
                                                     const std::vector<std::string>& resources,
                                                     Interval block) const;
  // Gives the appointment's granules back (cancelled, no-show, rescheduled, lapsed).
  absl::Status Release(Transaction& txn, absl::string_view appointment_id) const;
  // Blocking appointments overlapping `window` of any of `practitioner_ids` (in any clinic) or in
  // any of `chair_ids` (holds lapsed by `now` excluded). Each half reads its own (resource,
  // start_time) index, so a booking reads its two resources' calendars, not the whole clinic's.
  // The end of the time the appointment's occupancy rows hold (its block as booked: end plus the
  // buffer in force then), or `end` when it holds none.
  absl::StatusOr<absl::Time> OccupiedUntil(Transaction& txn, absl::string_view appointment_id,
                                           absl::Time end) const;
  absl::StatusOr<std::vector<BusyBlock>> BusyBlocks(
      Transaction& txn, const std::vector<std::string>& practitioner_ids,
      const std::vector<std::string>& chair_ids, Interval window, absl::Time now) const;
  // ABORTED with SESSION_NUMBER_TAKEN when a live appointment of the same plan holds the same
  // session number (the partial unique index of migration 3: a concurrent booking of the plan).
  absl::Status InsertAppointment(Transaction& txn, const v1::Appointment& appointment,
                                 absl::Time block_end) const;
  // The same with the record's bytes already serialised (`appointment` with its etag 1), so that
  // the appointment is serialised once for its row and its change (AppendChange's overload).
  absl::Status InsertAppointment(Transaction& txn, const v1::Appointment& appointment,
                                 absl::Time block_end, absl::string_view record) const;
  // Rewrites the appointment if its version is `expected_version`; ABORTED naming the current etag.
  absl::Status UpdateAppointment(Transaction& txn, const v1::Appointment& appointment,
                                 absl::Time block_end, int64_t expected_version) const;
  // The same with the record's bytes already serialised (`appointment` with the etag of
  // expected_version + 1).
  absl::Status UpdateAppointment(Transaction& txn, const v1::Appointment& appointment,
                                 absl::Time block_end, int64_t expected_version,
                                 absl::string_view record) const;
  absl::StatusOr<v1::Appointment> GetAppointment(Transaction& txn, absl::string_view id) const;
  // Clinics that have held appointments whose hold lapsed by `now`.
  absl::StatusOr<std::vector<std::string>> ClinicsWithLapsedHolds(Transaction& txn,
                                                                  absl::Time now) const;
  // Held appointments of `clinic_id` whose hold lapsed by `now` (to be cancelled by the caller).
  absl::StatusOr<std::vector<v1::Appointment>> LapsedHolds(Transaction& txn,
                                                           absl::string_view clinic_id,
                                                           absl::Time now, int limit) const;
  // A clinic's appointments starting in `period`, by (start, id), optionally filtered.
  absl::StatusOr<Page<v1::Appointment>> ListAppointments(Transaction& txn,
                                                         absl::string_view clinic_id,
                                                         Interval period,
                                                         absl::string_view practitioner_id,
                                                         absl::string_view patient_id,
                                                         const PageRequest& page) const;

  // ---- Start attempts (the key of a start's supply issue at inventory) ----
  // The appointment's pending start attempt id, or `candidate` recorded as it when it has none
  // (or only one a start committed with). Every start of the appointment (any caller) rides on it
  // until it is started or abandoned.
  absl::StatusOr<std::string> BeginStartAttempt(Transaction& txn, absl::string_view appointment_id,
                                                absl::string_view candidate, absl::Time now) const;
  // Marks `attempt_id` started, in the transaction that moves the appointment; ABORTED when the
  // appointment's attempt is another one or was abandoned (its supplies are being returned).
  absl::Status MarkStartAttemptStarted(Transaction& txn, absl::string_view appointment_id,
                                       absl::string_view attempt_id) const;
  // Forgets `attempt_id` if it is still pending (not started); true when it was, i.e. its issue
  // must now be returned. False when a start committed with it or it was abandoned already.
  absl::StatusOr<bool> AbandonStartAttempt(Transaction& txn, absl::string_view appointment_id,
                                           absl::string_view attempt_id) const;

  // ---- Change feed ----
  // Advances the clinic's feed head and returns it: the sequence of the change being recorded.
  absl::StatusOr<int64_t> NextSequence(Transaction& txn, absl::string_view clinic_id) const;
  // Appends `change` (whose sequence the caller has taken from NextSequence) to its clinic's feed.
  absl::Status AppendChange(Transaction& txn, const v1::Change& change) const;
  // The same for `change` without its appointment and the appointment's serialised bytes: the
  // stored bytes are still one encoded v1::Change (the appointment's field appended), which the
  // feed serves as they are.
  absl::Status AppendChange(Transaction& txn, const v1::Change& change_without_appointment,
                            absl::string_view appointment_record) const;
  // At most `limit` of the clinic's changes after sequence `since`, in sequence order.
  absl::StatusOr<std::vector<v1::Change>> ListChanges(Transaction& txn, absl::string_view clinic_id,
                                                      int64_t since, int limit) const;
  // The clinic's feed head (0 before the first change).
  absl::StatusOr<int64_t> HeadSequence(Transaction& txn, absl::string_view clinic_id) const;

  // ---- Change feed as stored (branch sync serves these bytes without parsing them) ----
  // One change of the feed: its sequence and its `Change` encoding exactly as AppendChange stored
  // it.
  struct StoredChange {
    int64_t sequence = 0;
    std::string bytes;
  };
  // ListChanges without the parse: at most `limit` of the clinic's changes after sequence `since`,
  // in sequence order, as stored.
  absl::StatusOr<std::vector<StoredChange>> ListStoredChanges(Transaction& txn,
                                                              absl::string_view clinic_id,
                                                              int64_t since, int limit) const;

  // The feed heads of `clinic_ids`, in their order (0 for a clinic with no change yet).
  absl::StatusOr<std::vector<int64_t>> FeedHeads(Transaction& txn,
                                                 const std::vector<std::string>& clinic_ids) const;

 private:
  // Occupy and OccupyIfFree: with `name_holder`, a held granule is SLOT_TAKEN naming its holder;
  // without, the granules taken are given back and the answer is a bare FAILED_PRECONDITION.
  absl::Status TakeGranules(Transaction& txn, const v1::Appointment& appointment, Interval block,
                            bool name_holder) const;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
