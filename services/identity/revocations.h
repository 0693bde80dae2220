#ifndef SMP_SERVICES_IDENTITY_REVOCATIONS_H_
#define SMP_SERVICES_IDENTITY_REVOCATIONS_H_

// Revocation that cannot be lost. A change that takes grants away from an account (DisableStaff,
// UpdateStaff of roles or clinics, ResetStaffPassword, ChangePassword) records a pending revocation
// in identity's database in the same transaction as the change (Record). After the commit the
// operation tries to revoke at once (Finish); if Redis cannot answer, the row stays and the answer
// says `session_revocation_pending`, and the background task (FinishAll, on a PeriodicTask in
// main.cc) keeps trying until Redis is back. No one has to retry the request.
//
// The immediate attempt ends every session of the account (a login racing the change re-checks the
// account after making its session, see Sessions::ConfirmStillActive). A revocation finished late
// ends the sessions created before that attempt failed, not those made after it, so an owner who
// logged in again with a new password keeps that session. ChangePassword's revocation spares the
// session that changed the password (its `spare_session_id`); when an account has several pending
// rows, a session is spared only if every row spares it.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/util/clock.h"
#include "services/identity/identity_store.h"

namespace smp::identity {

class Revocations {
 public:
  // Every pointer must outlive this.
  Revocations(Database* db, SessionStore* sessions, Authenticator* authenticator,
              const Clock& clock)
      : db_(db), sessions_(sessions), authenticator_(authenticator), clock_(clock) {}

  // Inside the change's write transaction: the account's sessions made before `now` must go, but
  // `spare_session_id` (if not empty).
  absl::Status Record(Transaction& txn, absl::string_view staff_id, absl::string_view action,
                      absl::Time now, absl::string_view spare_session_id = "") const;

  // After the change committed: revokes what is pending for `staff_id` now. Returns whether a
  // revocation is still pending (Redis could not answer: logged, and left to FinishAll). Errors
  // only from the database. With no row pending (a replay of the change) it revokes again, sparing
  // `spare_session_id`.
  absl::StatusOr<bool> Finish(absl::string_view staff_id,
                              absl::string_view spare_session_id = "") const;

  // The background job: finishes every pending revocation it can. UNAVAILABLE (with the count
  // left) while Redis cannot answer; OK when nothing is left.
  absl::Status FinishAll() const;

 private:
  // Revokes the account's sessions created up to `spare_created_after` (but `spare_session_id`)
  // and clears its pending rows. UNAVAILABLE etc. from Redis.
  absl::Status FinishRows(absl::string_view staff_id, const std::vector<PendingRevocation>& rows,
                          absl::Time spare_created_after, absl::string_view spare_session_id) const;

  Database* const db_;
  SessionStore* const sessions_;
  Authenticator* const authenticator_;
  const Clock& clock_;
  IdentityStore store_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_REVOCATIONS_H_
