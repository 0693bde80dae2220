#ifndef SMP_SERVICES_IDENTITY_IDENTITY_STORE_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/store_kit.h"
#include "common/util/paging.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

// A revocation of an account's sessions that Redis has not confirmed yet.
struct PendingRevocation {
  std::string id;
  std::string staff_id;
  std::string action;      // the change that called for it, e.g. "disable_staff"
  absl::Time change_time;  // sessions created up to this time go
  // A session that stays (the one that changed its own password); empty: none.
  std::string spare_session_id;
};

// One aggregated row of failed logins (see AddLoginFailure).
struct LoginFailureRow {
  absl::Time window_start;
  std::string kind;  // "account", "unknown_account" or "address"
  std::string subject;
  int64_t failures = 0;
  absl::Time first_time;
  absl::Time last_time;
};

// The sort key of a row of failed logins, as page keys carry it.
std::string LoginFailureKey(const LoginFailureRow& row);

struct StaffCredentials {
  v1::Staff staff;
  std::string password_hash;
};

// The identity SQL: clinics, staff accounts with their roles, clinic memberships and password
// hashes, and the change record (identity_events: who did what to which account or clinic).
// Sessions are not here: they live in Redis (common/auth/session_store.h).
//
// Every function runs inside the caller's transaction; the operation decides its extent, so that a
// change, its change record and its request_id commit together. Errors: NOT_FOUND "<kind> <id> not
// found" (store kit) for a missing clinic or account; ABORTED with reason STALE_ETAG naming the
// current etag when an update's version is no longer current; ALREADY_EXISTS (USERNAME_TAKEN) for a
// taken username; NOT_FOUND (UNKNOWN_CLINIC) naming the field of a membership in no clinic;
// whatever the database reports otherwise (see common/db/database.h). Stateless: one may be shared
// freely.
class IdentityStore {
 public:
  // Clinics. `clinic` holds validated client fields; id, times and version are assigned here.
  absl::StatusOr<v1::Clinic> CreateClinic(Transaction& txn, const v1::Clinic& clinic,
                                          absl::Time now) const;
  // NOT_FOUND "clinic <id> not found".
  absl::StatusOr<v1::Clinic> GetClinic(Transaction& txn, absl::string_view id) const;
  // Clinics ordered by id; `only` (when set) restricts to those ids (a caller's scope).
  absl::StatusOr<Page<v1::Clinic>> ListClinics(
      Transaction& txn, const PageRequest& page,
      const std::optional<std::vector<std::string>>& only) const;
  // Writes `updated` if the stored version is still `expected_version`; ABORTED otherwise, naming
  // the current etag.
  absl::StatusOr<v1::Clinic> UpdateClinic(Transaction& txn, const v1::Clinic& updated,
                                          int64_t expected_version, absl::Time now) const;
  // NOT_FOUND naming the field (e.g. "staff.clinic_ids[1]") of the first id that is no clinic.
  absl::Status CheckClinicsExist(Transaction& txn, const v1::Staff& staff,
                                 absl::string_view prefix) const;

  // Staff. ALREADY_EXISTS when the username is taken.
  absl::StatusOr<v1::Staff> CreateStaff(Transaction& txn, const v1::Staff& staff,
                                        const std::string& password_hash, absl::Time now) const;
  // NOT_FOUND "staff <id> not found".
  absl::StatusOr<v1::Staff> GetStaff(Transaction& txn, absl::string_view id) const;
  // std::nullopt when no account has that (normalised) username.
  absl::StatusOr<std::optional<StaffCredentials>> FindByUsername(Transaction& txn,
                                                                 absl::string_view username) const;
  absl::StatusOr<std::string> GetPasswordHash(Transaction& txn, absl::string_view id) const;
  // Staff ordered by id; `in_clinics` (when set) restricts to members of any of those clinics.
  absl::StatusOr<Page<v1::Staff>> ListStaff(
      Transaction& txn, const PageRequest& page,
      const std::optional<std::vector<std::string>>& in_clinics) const;
  // Writes profile, roles and clinics of `updated` if the version is still `expected_version`.
  absl::StatusOr<v1::Staff> UpdateStaffProfile(Transaction& txn, const v1::Staff& updated,
                                               int64_t expected_version, absl::Time now) const;
  absl::StatusOr<v1::Staff> SetStaffState(Transaction& txn, absl::string_view id,
                                          v1::StaffState state, absl::Time now) const;
  absl::Status SetPasswordHash(Transaction& txn, absl::string_view id, const std::string& hash,
                               absl::Time now) const;
  absl::StatusOr<int64_t> CountStaff(Transaction& txn) const;
  absl::StatusOr<int64_t> CountActiveAdmins(Transaction& txn) const;

  // Pending session revocations. Add runs in the transaction of the change that calls for it.
  absl::Status AddPendingRevocation(Transaction& txn, absl::string_view staff_id,
                                    absl::string_view action, absl::Time now,
                                    absl::string_view spare_session_id = "") const;
  // The oldest `limit` pending revocations, of every account or (staff_id not empty) of one.
  absl::StatusOr<std::vector<PendingRevocation>> ListPendingRevocations(Transaction& txn,
                                                                        absl::string_view staff_id,
                                                                        int limit) const;
  absl::Status DeletePendingRevocations(Transaction& txn,
                                        const std::vector<std::string>& ids) const;
  // Moves the rows' change_time (the bound of the sessions they end) to `time`.
  absl::Status SetPendingRevocationsTime(Transaction& txn, const std::vector<std::string>& ids,
                                         absl::Time time) const;
  absl::StatusOr<int64_t> CountPendingRevocations(Transaction& txn) const;

  // Counts one failed login in the row of (the window holding `now`, kind, subject), creating it.
  absl::Status AddLoginFailure(Transaction& txn, absl::string_view kind, absl::string_view subject,
                               absl::Duration window, absl::Time now) const;
  // Rows whose window starts at or after `since`, newest first.
  absl::StatusOr<std::vector<LoginFailureRow>> ListLoginFailures(Transaction& txn,
                                                                 absl::Time since) const;
  // A page of the rows whose window starts in [start, end), by (window_start, kind, subject); the
  // page key is LoginFailureKey of the last row.
  absl::StatusOr<Page<LoginFailureRow>> ListLoginFailurePage(Transaction& txn, absl::Time start,
                                                             absl::Time end,
                                                             const PageRequest& page) const;
  // Deletes the rows whose window started before `cutoff`; how many.
  absl::StatusOr<int64_t> PurgeLoginFailures(Transaction& txn, absl::Time cutoff) const;

  // Appends to the change record: who did what to which account or clinic, and why.
  absl::Status RecordEvent(Transaction& txn, absl::string_view actor_staff_id,
                           absl::string_view action, absl::string_view subject_id,
                           absl::string_view detail, absl::Time now) const;

 private:
  absl::Status LoadGrants(Transaction& txn, v1::Staff& staff) const;
  absl::Status WriteGrants(Transaction& txn, const v1::Staff& staff) const;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_STORE_H_
