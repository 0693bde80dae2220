#ifndef SMP_SERVICES_IDENTITY_STAFF_H_
#define SMP_SERVICES_IDENTITY_STAFF_H_

// The staff account operations of identity: CreateStaff, GetStaff, ListStaff, UpdateStaff,
// DisableStaff, EnableStaff, ResetStaffPassword. Each validates the request, checks the caller's
// clinic scope (the account's clinics, and every clinic the request names), and runs the rules
// (staff_rules.h) and the store in one transaction; writes are idempotent by request_id and
// recorded in the change record. A write that takes grants away (disable, roles or clinics, a new
// password) records a pending revocation of the account's sessions in the same transaction and
// then revokes them (revocations.h); when Redis cannot answer, the answer carries
// session_revocation_pending and identity finishes the revocation by itself later.

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/identity_store.h"
#include "services/identity/password_hasher.h"
#include "services/identity/revocations.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

class StaffAccounts {
 public:
  // Every pointer must outlive this.
  StaffAccounts(Database* db, const PasswordHasher* hasher, SessionStore* sessions,
                Authenticator* authenticator, const Clock& clock)
      : db_(db), hasher_(hasher), revocations_(db, sessions, authenticator, clock) {}

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
  // FAILED_PRECONDITION (ALREADY_IN_STATE, LAST_ADMIN). Update, Disable and ResetPassword answer
  // OK once the change is saved, with session_revocation_pending set if Redis could not end the
  // sessions yet.
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
  // After a change that recorded a pending revocation: tries it now and says in `saved` whether
  // it is still pending.
  absl::StatusOr<v1::Staff> FinishRevocation(v1::Staff saved) const;

  Database* const db_;
  const PasswordHasher* const hasher_;
  Revocations revocations_;
  IdentityStore store_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_STAFF_H_
