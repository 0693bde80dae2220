#ifndef SMP_SERVICES_IDENTITY_STAFF_H_
#define SMP_SERVICES_IDENTITY_STAFF_H_

// The staff account operations of identity: CreateStaff, GetStaff, ListStaff, UpdateStaff,
// DisableStaff, EnableStaff, ResetStaffPassword. Each validates the request, checks the caller's
// clinic scope (the account's clinics, and every clinic the request names), and runs the rules
// (staff_rules.h) and the store in one transaction; writes are idempotent by request_id and
// recorded in the change record. A write that takes grants away (disable, roles or clinics, a new
// password) then revokes the account's sessions; a replay of the same request revokes again, so a
// retry after a Redis failure finishes the job.

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/identity_store.h"
#include "services/identity/password_hasher.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

class StaffAccounts {
 public:
  // Every pointer must outlive this.
  StaffAccounts(Database* db, const PasswordHasher* hasher, SessionStore* sessions,
                Authenticator* authenticator)
      : db_(db), hasher_(hasher), sessions_(sessions), authenticator_(authenticator) {}

  // INVALID_ARGUMENT naming the field; ALREADY_EXISTS (USERNAME_TAKEN); NOT_FOUND
  // (UNKNOWN_CLINIC) for a membership in no clinic.
  absl::StatusOr<v1::Staff> Create(const Call& call, const v1::CreateStaffRequest& request) const;
  // PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) for an account sharing no clinic with a clinic-scoped
  // caller (see CanSeeStaff).
  absl::StatusOr<v1::Staff> Get(const Call& call, const v1::GetStaffRequest& request) const;
  // The accounts the caller may see, optionally of one clinic, a page at a time, ordered by id.
  absl::StatusOr<v1::ListStaffResponse> List(const Call& call,
                                             const v1::ListStaffRequest& request) const;
  // ABORTED (STALE_ETAG); FAILED_PRECONDITION (LAST_ADMIN) when it would leave no active admin.
  absl::StatusOr<v1::Staff> Update(const Call& call, const v1::UpdateStaffRequest& request) const;
  // FAILED_PRECONDITION (ALREADY_IN_STATE, LAST_ADMIN).
  absl::StatusOr<v1::Staff> Disable(const Call& call, const v1::DisableStaffRequest& request) const;
  // FAILED_PRECONDITION (ALREADY_IN_STATE).
  absl::StatusOr<v1::Staff> Enable(const Call& call, const v1::EnableStaffRequest& request) const;
  absl::StatusOr<v1::Staff> ResetPassword(const Call& call,
                                          const v1::ResetStaffPasswordRequest& request) const;

 private:
  // Enables or disables an account; `detail` goes to the change record.
  template <typename Request>
  absl::StatusOr<v1::Staff> SetState(const Call& call, const Request& request, v1::StaffState state,
                                     absl::string_view action, absl::string_view detail) const;

  Database* const db_;
  const PasswordHasher* const hasher_;
  SessionStore* const sessions_;
  Authenticator* const authenticator_;
  IdentityStore store_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_STAFF_H_
