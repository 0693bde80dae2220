#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_STORE_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "google/protobuf/arena.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

// Reads of one entity by one caller through one method in one window (see TallyRead).
struct ReadTally {
  absl::Time window_start;
  std::string actor_id;
  std::vector<std::string> actor_roles;  // role names
  std::string method;
  std::string entity_type;
  std::string entity_id;
  int64_t reads = 0;
  absl::Time first_time;
  absl::Time last_time;
};

struct AuditHead {
  int64_t count = 0;
  std::string hash;  // GenesisHash() for an empty log
};

// What the compliance service keeps in its SQLite file: practitioners' credentials, clinics'
// permits, patients' consents and screenings (each a serialized message in a `record` column, with
// the columns it is looked up by), procedure records and the needle serials they used, incidents,
// lot recalls, clinics' retention policies, and the hash-chained audit log (plain columns, so the
// chain can be recomputed from what is stored).
//
// Every function runs inside the caller's transaction (a change and its audit entry commit
// together); none opens one. Errors: a missing resource is NOT_FOUND "<kind> <id> not found"
// (store_kit NotFound); a second procedure record for an appointment or a second recall of a lot is
// ALREADY_EXISTS; a stored record that does not parse is DATA_LOSS; anything else from SQLite is
// passed on (INTERNAL / UNAVAILABLE when busy). Lists page by keyset: `LIMIT size + 1` after the
// page's key, cut by MakePage.
class ComplianceStore {
 public:
  absl::StatusOr<v1::Credential> AddCredential(Transaction& txn, v1::Credential credential,
                                               absl::Time now) const;
  // A practitioner's credentials, newest first: all of them (eligibility rules), or one page
  // (key: id).
  absl::StatusOr<std::vector<v1::Credential>> CredentialsOf(
      Transaction& txn, absl::string_view practitioner_id) const;
  absl::StatusOr<Page<v1::Credential>> ListCredentials(Transaction& txn,
                                                       absl::string_view practitioner_id,
                                                       const PageRequest& page) const;
  absl::StatusOr<v1::Permit> AddPermit(Transaction& txn, v1::Permit permit, absl::Time now) const;
  // A clinic's permits, newest first: all, or one page (key: id).
  absl::StatusOr<std::vector<v1::Permit>> PermitsOf(Transaction& txn,
                                                    absl::string_view clinic_id) const;
  absl::StatusOr<Page<v1::Permit>> ListPermits(Transaction& txn, absl::string_view clinic_id,
                                               const PageRequest& page) const;
  // Credentials and permits whose last valid day is on or before `until` (soonest first).
  absl::StatusOr<std::vector<v1::Credential>> CredentialsEndingBy(Transaction& txn,
                                                                  absl::CivilDay until) const;
  absl::StatusOr<std::vector<v1::Permit>> PermitsEndingBy(Transaction& txn,
                                                          absl::CivilDay until) const;

  absl::StatusOr<v1::Consent> AddConsent(Transaction& txn, v1::Consent consent,
                                         absl::Time now) const;
  absl::StatusOr<v1::Consent> GetConsent(Transaction& txn, absl::string_view id) const;
  absl::Status UpdateConsent(Transaction& txn, const v1::Consent& consent) const;
  // A patient's consents, newest first: all, or one page (key: id).
  absl::StatusOr<std::vector<v1::Consent>> ConsentsOf(Transaction& txn,
                                                      absl::string_view patient_id) const;
  absl::StatusOr<Page<v1::Consent>> ListConsents(Transaction& txn, absl::string_view patient_id,
                                                 const PageRequest& page) const;

  absl::StatusOr<v1::Screening> AddScreening(Transaction& txn, v1::Screening screening,
                                             absl::Time now) const;
  absl::StatusOr<v1::Screening> GetScreening(Transaction& txn, absl::string_view id) const;
  absl::Status UpdateScreening(Transaction& txn, const v1::Screening& screening) const;
  // A patient's screenings, newest screened first: all, or one page (key: "<micros>/<id>").
  absl::StatusOr<std::vector<v1::Screening>> ScreeningsOf(Transaction& txn,
                                                          absl::string_view patient_id) const;
  absl::StatusOr<Page<v1::Screening>> ListScreenings(Transaction& txn, absl::string_view patient_id,
                                                     const PageRequest& page) const;

  // What a report page needs beyond its procedures, each read in one query for the whole page
  // (reports judge 200 procedures at a time): the consents and the screenings of each of
  // `patient_ids`, the procedures that recorded each of `serials` (in id order), and the recalls
  // on file of each (product id, lot) of `lots`. Empty input, empty answer, no query.
  //
  // Each consent (screening) is parsed into the message `into` gives for its patient, a patient's
  // in ConsentsOf's (ScreeningsOf's) order; `into` is not called for a patient with none. The
  // report keeps patients' records between pages and parses into messages it reuses, so that
  // neither reading nor dropping them allocates or frees each field (report_builder.cc).
  absl::Status ConsentsOfPatients(
      Transaction& txn, const std::vector<std::string>& patient_ids,
      absl::FunctionRef<v1::Consent*(const std::string& patient_id)> into) const;
  absl::Status ScreeningsOfPatients(
      Transaction& txn, const std::vector<std::string>& patient_ids,
      absl::FunctionRef<v1::Screening*(const std::string& patient_id)> into) const;
  absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>> UsesOfSerials(
      Transaction& txn, const std::vector<std::string>& serials) const;
  absl::StatusOr<std::vector<v1::LotRecall>> RecallsOf(
      Transaction& txn, const std::vector<std::pair<std::string, std::string>>& lots) const;
  // UsesOfSerials of those of `serials` recorded in more than one procedure (table
  // reused_serials, kept by AddProcedure): the rest, each in one procedure, are absent. What a
  // report needs, without probing the needle-use index for every serial.
  absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>> ReusesOfSerials(
      Transaction& txn, const std::vector<std::string>& serials) const;

  // ALREADY_EXISTS when the appointment already has a record. A needle serial that is now in more
  // than one procedure is added to reused_serials (ReusesOfSerials).
  absl::StatusOr<v1::ProcedureRecord> AddProcedure(Transaction& txn, v1::ProcedureRecord record,
                                                   absl::Time now) const;
  // Procedures of `clinics` performed on clinic-local days [first, last], by (day, time, id),
  // after the key "<date>/<micros>/<id>" of the previous page.
  absl::StatusOr<std::vector<v1::ProcedureRecord>> ListProcedures(
      Transaction& txn, const std::vector<std::string>& clinics, absl::CivilDay first,
      absl::CivilDay last, absl::string_view after_key, int limit) const;
  // The same page, each record parsed onto `arena` (owned by it): a report builds a page's parts
  // on one arena and drops them together, instead of a heap allocation for every field of every
  // record.
  absl::StatusOr<std::vector<v1::ProcedureRecord*>> ListProcedures(
      Transaction& txn, const std::vector<std::string>& clinics, absl::CivilDay first,
      absl::CivilDay last, absl::string_view after_key, int limit,
      google::protobuf::Arena* arena) const;
  // Every clinic that has a procedure record or an incident, in id order.
  absl::StatusOr<std::vector<std::string>> ReportClinics(Transaction& txn) const;
  static std::string ProcedureKey(const v1::ProcedureRecord& record);

  absl::StatusOr<v1::Incident> GetIncident(Transaction& txn, absl::string_view id) const;
  absl::Status UpdateIncident(Transaction& txn, const v1::Incident& incident) const;
  // ALREADY_EXISTS when the lot's recall is on file.
  absl::Status AddRecall(Transaction& txn, const v1::LotRecall& recall) const;
  absl::StatusOr<v1::Incident> AddIncident(Transaction& txn, v1::Incident incident,
                                           absl::Time now) const;
  // One clinic's span of instants [from, until).
  struct ClinicSpan {
    std::string clinic_id;
    absl::Time from;
    absl::Time until;
  };
  // Incidents that occurred in any of `spans` (of those `kinds`; empty: all), by (occurred_time,
  // id), after the key "<micros>/<id>" of the previous page ("" for the first), at most `limit`.
  absl::StatusOr<std::vector<v1::Incident>> ListIncidents(Transaction& txn,
                                                          const std::vector<ClinicSpan>& spans,
                                                          const std::vector<int>& kinds,
                                                          absl::string_view after_key,
                                                          int limit) const;
  static std::string IncidentKey(const v1::Incident& incident);
  // The id of the appointment's procedure record, "" when it has none.
  absl::StatusOr<std::string> ProcedureOfAppointment(Transaction& txn,
                                                     absl::string_view appointment_id) const;

  // Every clinic compliance has a record of the patient at (consents, screenings, procedures),
  // sorted, without duplicates; empty for a patient it has never heard of.
  absl::StatusOr<std::vector<std::string>> ClinicsOfPatient(Transaction& txn,
                                                            absl::string_view patient_id) const;
  // Every clinic compliance has a record of the appointment at (its procedure record, incidents).
  absl::StatusOr<std::vector<std::string>> ClinicsOfAppointment(
      Transaction& txn, absl::string_view appointment_id) const;

  absl::StatusOr<std::optional<v1::RetentionPolicy>> GetRetention(
      Transaction& txn, absl::string_view clinic_id) const;
  absl::Status PutRetention(Transaction& txn, const v1::RetentionPolicy& policy) const;
  // The IANA name of the clinic's time zone (its retention policy's); "" when none is on file.
  absl::StatusOr<std::string> TimeZoneOf(Transaction& txn, absl::string_view clinic_id) const;
  // The time zone names of every clinic that has one on file.
  absl::StatusOr<std::vector<std::string>> KnownTimeZones(Transaction& txn) const;
  // Policies that require health questionnaires to be destroyed.
  absl::StatusOr<std::vector<v1::RetentionPolicy>> DestructionRules(Transaction& txn) const;
  // The clinic's screenings taken before `before` whose content is not yet destroyed.
  absl::StatusOr<std::vector<v1::Screening>> ScreeningsTakenBefore(Transaction& txn,
                                                                   absl::string_view clinic_id,
                                                                   absl::Time before) const;
  // Replaces the screening by its tombstone (ScreeningTombstone; destroyed_time set).
  absl::Status DestroyScreening(Transaction& txn, const v1::Screening& tombstone) const;
  // Replaces every stored idempotent response of RecordScreening and OverrideScreening that holds
  // one of `tombstones`' screenings by the tombstone (a retry still answers the same id, without
  // the destroyed content). Returns how many responses it replaced.
  absl::StatusOr<int64_t> RedactStoredScreenings(
      Transaction& txn, const std::vector<v1::Screening>& tombstones) const;

  // Appends `entry` (time, actor, action, method, entity and detail set) as the next entry of the
  // chain: fills sequence, previous_hash and hash.
  absl::StatusOr<v1::AuditEntry> AppendAudit(Transaction& txn, v1::AuditEntry entry) const;
  absl::StatusOr<AuditHead> Head(Transaction& txn) const;
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(Transaction& txn, int64_t since,
                                                        int limit) const;
  absl::StatusOr<std::optional<v1::AuditEntry>> GetAudit(Transaction& txn, int64_t sequence) const;
  // Keeps a checkpoint as signed, with the staff id that asked for it.
  absl::Status AddCheckpoint(Transaction& txn, const v1::Checkpoint& checkpoint,
                             absl::string_view created_by) const;
  // Stored checkpoints, highest count first (key: count), with who asked for each.
  absl::StatusOr<Page<v1::CheckpointStatus>> ListCheckpoints(Transaction& txn,
                                                             const PageRequest& page) const;

  // Counts a read at `now` in the row of (tally.window_start, actor, method, entity), creating it
  // (the other fields of `tally` are taken from it). Returns the count after this read.
  absl::StatusOr<int64_t> TallyRead(Transaction& txn, const ReadTally& tally, absl::Time now) const;
  // Up to `limit` tallies whose window started before `before`, oldest first.
  absl::StatusOr<std::vector<ReadTally>> ListReadTallies(Transaction& txn, absl::Time before,
                                                         int limit) const;
  absl::Status DeleteReadTally(Transaction& txn, const ReadTally& tally) const;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_STORE_H_
