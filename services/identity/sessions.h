#ifndef SMP_SERVICES_IDENTITY_SESSIONS_H_
#define SMP_SERVICES_IDENTITY_SESSIONS_H_

// The session operations of identity: BootstrapAdmin, Login, Logout, WhoAmI, ListSessions,
// RevokeSession, ChangePassword. Sessions live in Redis (SessionStore); accounts, password hashes,
// the change record and request_ids in the service's database. Login and ChangePassword check
// passwords behind the LoginLimiter; the slow hashing runs outside any write transaction.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/login_limiter.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/client_address.h"
#include "services/identity/identity_store.h"
#include "services/identity/login_audit.h"
#include "services/identity/password_hasher.h"
#include "services/identity/revocations.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

// What the identity service is built from; main.cc wires real ones, tests may wire others.
struct IdentityDeps {
  Database* db;
  SessionStore* sessions;
  Authenticator* authenticator;
  LoginLimiter* login_limiter;
  const PasswordHasher* hasher;
  const Clock* clock;
  // The one-time code BootstrapAdmin needs; empty once any staff account exists.
  std::string setup_code;
  // Called after a successful BootstrapAdmin (main.cc deletes the setup code file).
  std::function<void()> on_bootstrapped;
  // Peers whose `x-smp-client-address` names the client a login counts against
  // (--trusted_forwarders); by default nobody's.
  TrustedForwarders trusted_forwarders;
};

class Sessions {
 public:
  // Every pointer in `deps` must outlive this.
  explicit Sessions(IdentityDeps deps)
      : deps_(std::move(deps)),
        revocations_(deps_.db, deps_.sessions, deps_.authenticator, *deps_.clock),
        login_audit_(deps_.db) {}

  // The first admin of an empty system. FAILED_PRECONDITION (ALREADY_BOOTSTRAPPED) once any
  // account exists; PERMISSION_DENIED (WRONG_SETUP_CODE). With a request_id, a retry returns the
  // first admin.
  absl::StatusOr<v1::Staff> BootstrapAdmin(const Call& call,
                                           const v1::BootstrapAdminRequest& request) const;
  // A new session for `client_address` (the gRPC peer; counts towards the address's limit).
  // UNAUTHENTICATED (WRONG_CREDENTIALS) alike for an unknown user and a wrong password, audited
  // (AuditFailedLogin); PERMISSION_DENIED (ACCOUNT_DISABLED); RESOURCE_EXHAUSTED
  // (TOO_MANY_FAILED_LOGINS) while the account's delay or the address's limit holds (service
  // accounts: the address's only); UNAVAILABLE (PASSWORD_CHECK_BUSY) when no password-hash slot
  // came free in time; ABORTED (ACCOUNT_CHANGED) when the account changed meanwhile.
  absl::StatusOr<v1::LoginResponse> Login(const Call& call, const v1::LoginRequest& request,
                                          absl::string_view client_address) const;
  // Ends the session of `token` (the caller's bearer token) at once.
  absl::StatusOr<v1::LogoutResponse> Logout(const Call& call, absl::string_view token) const;
  // UNAUTHENTICATED (SESSION_ENDED) when the session ended since the frame checked it.
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const Call& call) const;
  // Live sessions newest first, a page at a time. Another account's need SESSIONS_MANAGE
  // (PERMISSION_DENIED, MISSING_PERMISSION).
  absl::StatusOr<v1::ListSessionsResponse> List(const Call& call,
                                                const v1::ListSessionsRequest& request) const;
  // NOT_FOUND for a session that is not live (a retry with the same request_id returns OK).
  absl::StatusOr<v1::RevokeSessionResponse> Revoke(const Call& call,
                                                   const v1::RevokeSessionRequest& request) const;
  // PERMISSION_DENIED (WRONG_PASSWORD) naming current_password. Ends the caller's other sessions
  // through a pending revocation saved with the change: when Redis cannot answer, OK with
  // session_revocation_pending, and identity finishes it by itself (revocations.h).
  absl::StatusOr<v1::ChangePasswordResponse> ChangePassword(
      const Call& call, const v1::ChangePasswordRequest& request,
      absl::string_view client_address) const;

 private:
  // Login's last step: the account may have been disabled while the session was being made.
  absl::Status ConfirmStillActive(const v1::Staff& staff, absl::string_view session_id) const;
  // A wrong password: counted (smp_identity_failed_logins_total), logged, and added to the
  // login_failures table, one row per hour per account (or "unknown account") and per address.
  void AuditFailedLogin(const Call& call, absl::string_view known_username,
                        absl::string_view client_address) const;

  IdentityDeps deps_;
  IdentityStore store_;
  Revocations revocations_;
  LoginAudit login_audit_;  // writes the login_failures rows
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_SESSIONS_H_
