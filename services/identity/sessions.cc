#include "services/identity/sessions.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/permissions.h"
#include "common/db/idempotency.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/identity/identity_reasons.h"
#include "services/identity/staff_rules.h"

namespace smp::identity {
namespace {

using common::v1::PERMISSION_SESSIONS_MANAGE;

constexpr char kWrongCredentials[] = "wrong username or password";

std::vector<common::v1::Role> RolesOf(const v1::Staff& staff) {
  std::vector<common::v1::Role> roles;
  for (int role : staff.roles()) roles.push_back(static_cast<common::v1::Role>(role));
  return roles;
}

v1::Session ToSessionProto(const SessionRecord& record) {
  v1::Session s;
  s.set_id(record.session_id);
  s.set_staff_id(record.staff_id);
  *s.mutable_create_time() = ToProtoTimestamp(record.create_time);
  *s.mutable_expire_time() = ToProtoTimestamp(record.expire_time);
  s.set_client_address(record.client_address);
  return s;
}

// The keyset of ListSessions: newest first, so a key sorts by creation time and then id.
std::string SessionKey(const SessionRecord& record) {
  return absl::StrFormat("%020d/%s", absl::ToUnixMicros(record.create_time), record.session_id);
}

absl::Status WithReasonIfExhausted(absl::Status status) {
  if (absl::IsResourceExhausted(status)) {
    return WithErrorInfo(std::move(status), identity_reason::kTooManyFailedLogins);
  }
  return status;
}

absl::Status AccountDisabled(absl::string_view username) {
  return WithErrorInfo(
      absl::PermissionDeniedError(absl::StrCat("account ", username, " is disabled; ask an admin")),
      identity_reason::kAccountDisabled, {{"username", std::string(username)}});
}

absl::Status AlreadyBootstrapped() {
  return WithErrorInfo(absl::FailedPreconditionError(
                           "the system already has staff accounts; ask an admin to create yours"),
                       identity_reason::kAlreadyBootstrapped);
}

absl::Status NeedsSessionsManage(absl::string_view what) {
  return WithErrorInfo(
      absl::PermissionDeniedError(absl::StrCat(what, " needs PERMISSION_SESSIONS_MANAGE")),
      reason::kMissingPermission, {{"permission", "PERMISSION_SESSIONS_MANAGE"}});
}

// RunIdempotent when the request carries a request_id; otherwise one unkeyed write transaction
// (for the RPCs whose request_id is still optional, see the contract).
template <typename Response, typename Request>
absl::StatusOr<Response> RunKeyedIfGiven(
    Database& db, const Call& call, const Request& request,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change) {
  if (!request.request_id().empty()) return RunIdempotent<Response>(db, call, request, change);
  Response response;
  RETURN_IF_ERROR(db.Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(response, change(txn));
    return absl::OkStatus();
  }));
  return response;
}

bool IsServiceAccount(const v1::Staff& staff) {
  for (int role : staff.roles()) {
    if (role == common::v1::ROLE_SERVICE) return true;
  }
  return false;
}

void CountFailedLogin(absl::string_view reason) {
  Metrics().IncrementCounter("smp_identity_failed_logins_total",
                             "Failed password checks (wrong_credentials) and attempts refused "
                             "by the login limits (throttled).",
                             {{"reason", std::string(reason)}});
}

}  // namespace

void Sessions::AuditFailedLogin(const Call& call, absl::string_view known_username,
                                absl::string_view client_address) const {
  CountFailedLogin("wrong_credentials");
  const std::string address = AddressBucket(client_address);
  // What was typed as an unknown username is neither logged nor kept: it may be a password.
  LogInfo("login failed",
          {{"username", known_username.empty() ? "(unknown)" : std::string(known_username)},
           {"address", address}});
  absl::Status recorded = login_audit_.Record(known_username, address, call.now);
  // The refusal stands either way; a lost audit row is logged, not the caller's problem.
  if (!recorded.ok()) {
    LogWarning("could not record a failed login", {{"error", recorded.ToString()}});
  }
}

absl::StatusOr<v1::Staff> Sessions::BootstrapAdmin(const Call& call,
                                                   const v1::BootstrapAdminRequest& request) const {
  v1::Staff admin;
  admin.set_username(NormalizeUsername(request.username()));
  admin.set_display_name(request.display_name());
  admin.add_roles(common::v1::ROLE_ADMIN);
  RETURN_IF_ERROR(ValidateUsername("username", admin.username()));
  RETURN_IF_ERROR(ValidateStaffProfile(admin, "admin"));
  RETURN_IF_ERROR(ValidatePassword("password", request.password()));
  if (!request.request_id().empty()) {
    RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  }
  if (deps_.setup_code.empty()) return AlreadyBootstrapped();
  if (!ConstantTimeEquals(request.setup_code(), deps_.setup_code)) {
    return WithErrorInfo(absl::PermissionDeniedError(
                             "setup_code does not match the one this identity service wrote at "
                             "start"),
                         identity_reason::kWrongSetupCode);
  }
  ASSIGN_OR_RETURN(std::string hash, deps_.hasher->Hash(request.password()));
  ASSIGN_OR_RETURN(
      v1::Staff created,
      RunKeyedIfGiven<v1::Staff>(
          *deps_.db, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
            ASSIGN_OR_RETURN(int64_t existing, store_.CountStaff(txn));
            if (existing > 0) return AlreadyBootstrapped();
            ASSIGN_OR_RETURN(v1::Staff saved, store_.CreateStaff(txn, admin, hash, call.now));
            RETURN_IF_ERROR(
                store_.RecordEvent(txn, saved.id(), "bootstrap_admin", saved.id(), "", call.now));
            return saved;
          }));
  LogInfo("first admin created", {{"staff_id", created.id()}, {"username", created.username()}});
  if (deps_.on_bootstrapped) deps_.on_bootstrapped();
  return created;
}

absl::StatusOr<v1::LoginResponse> Sessions::Login(const Call& call, const v1::LoginRequest& request,
                                                  absl::string_view client_address) const {
  if (request.username().empty()) return absl::InvalidArgumentError("username: is required");
  if (request.password().empty()) return absl::InvalidArgumentError("password: is required");
  if (request.username().size() > 64) {
    return absl::InvalidArgumentError("username: is longer than 64 characters");
  }
  if (request.password().size() > 1024) {
    return absl::InvalidArgumentError("password: is longer than 1024 bytes");
  }
  const std::string username = NormalizeUsername(request.username());

  std::optional<StaffCredentials> found;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(found, store_.FindByUsername(txn, username));
    return absl::OkStatus();
  }));
  // Service accounts are spared the per-account delays (anyone can guess svc.scheduling and would
  // otherwise stall bookings); their failures still count against the caller's address.
  const AccountLimit account_limit = found.has_value() && IsServiceAccount(found->staff)
                                         ? AccountLimit::kExempt
                                         : AccountLimit::kApply;
  absl::Status allowed = deps_.login_limiter->CheckAllowed(username, client_address, account_limit);
  if (absl::IsResourceExhausted(allowed)) CountFailedLogin("throttled");
  RETURN_IF_ERROR(WithReasonIfExhausted(std::move(allowed)));

  bool password_ok = false;
  if (found.has_value()) {
    ASSIGN_OR_RETURN(password_ok, deps_.hasher->Verify(request.password(), found->password_hash));
  } else {
    RETURN_IF_ERROR(deps_.hasher->VerifyDummy(request.password()));
  }
  if (!password_ok) {
    RETURN_IF_ERROR(deps_.login_limiter->RecordFailure(username, client_address, account_limit));
    AuditFailedLogin(call, found.has_value() ? username : "", client_address);
    return WithErrorInfo(absl::UnauthenticatedError(kWrongCredentials),
                         identity_reason::kWrongCredentials);
  }
  const v1::Staff& staff = found->staff;
  if (staff.state() != v1::STAFF_STATE_ACTIVE) return AccountDisabled(username);
  ASSIGN_OR_RETURN(NewSession session,
                   deps_.sessions->Create(staff.id(), username, RolesOf(staff),
                                          {staff.clinic_ids().begin(), staff.clinic_ids().end()},
                                          client_address));
  RETURN_IF_ERROR(ConfirmStillActive(staff, session.record.session_id));
  // A failure to clear the counter only makes a later lockout come sooner; the login stands.
  absl::Status cleared = deps_.login_limiter->RecordSuccess(username);
  if (!cleared.ok()) LogWarning("could not clear login failures", {{"error", cleared.ToString()}});
  v1::LoginResponse response;
  response.set_access_token(session.token);
  *response.mutable_session() = ToSessionProto(session.record);
  *response.mutable_staff() = staff;
  return response;
}

absl::Status Sessions::ConfirmStillActive(const v1::Staff& staff,
                                          absl::string_view session_id) const {
  // DisableStaff commits the state and then revokes sessions. A login that read "active" before
  // that commit may create its session after the revocation; reading the state again after creating
  // the session closes that gap.
  v1::Staff now_staff;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(now_staff, store_.GetStaff(txn, staff.id()));
    return absl::OkStatus();
  }));
  if (now_staff.state() == v1::STAFF_STATE_ACTIVE && now_staff.etag() == staff.etag()) {
    return absl::OkStatus();
  }
  (void)deps_.sessions->RevokeById(session_id);
  if (now_staff.state() != v1::STAFF_STATE_ACTIVE) return AccountDisabled(staff.username());
  return WithErrorInfo(absl::AbortedError("the account changed while logging in; log in again"),
                       identity_reason::kAccountChanged);
}

absl::StatusOr<v1::LogoutResponse> Sessions::Logout(const Call&, absl::string_view token) const {
  RETURN_IF_ERROR(deps_.sessions->RevokeToken(token));
  deps_.authenticator->Forget(token);
  return v1::LogoutResponse();
}

absl::StatusOr<v1::WhoAmIResponse> Sessions::WhoAmI(const Call& call) const {
  v1::WhoAmIResponse response;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(*response.mutable_staff(), store_.GetStaff(txn, call.who.staff_id));
    return absl::OkStatus();
  }));
  absl::StatusOr<SessionRecord> session = deps_.sessions->GetById(call.who.session_id);
  if (absl::IsNotFound(session.status())) {
    // Revoked between the cached check and now.
    return WithErrorInfo(absl::UnauthenticatedError("the session has ended; log in again"),
                         identity_reason::kSessionEnded);
  }
  if (!session.ok()) return session.status();
  *response.mutable_session() = ToSessionProto(*session);
  for (common::v1::Permission p : GrantedPermissions(call.who.roles)) response.add_permissions(p);
  return response;
}

absl::StatusOr<v1::ListSessionsResponse> Sessions::List(
    const Call& call, const v1::ListSessionsRequest& request) const {
  const std::string& staff_id = request.staff_id().empty() ? call.who.staff_id : request.staff_id();
  RETURN_IF_ERROR(ValidateId("staff_id", staff_id));
  if (staff_id != call.who.staff_id && !call.who.Has(PERMISSION_SESSIONS_MANAGE)) {
    return NeedsSessionsManage("listing another account's sessions");
  }
  const std::string query = absl::StrCat("sessions?staff=", staff_id);
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  // A staff member has a handful of live sessions: they are read whole and paged here.
  ASSIGN_OR_RETURN(std::vector<SessionRecord> sessions, deps_.sessions->ListForStaff(staff_id));
  std::sort(sessions.begin(), sessions.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return SessionKey(a) > SessionKey(b);
  });
  std::vector<SessionRecord> after;
  for (SessionRecord& s : sessions) {
    if (page.after_key.empty() || SessionKey(s) < page.after_key) after.push_back(std::move(s));
    if (static_cast<int>(after.size()) > page.size) break;
  }
  Page<SessionRecord> result = MakePage(std::move(after), page.size, SessionKey);
  v1::ListSessionsResponse response;
  for (const SessionRecord& s : result.items) *response.add_sessions() = ToSessionProto(s);
  response.set_next_page_token(NextPageToken(query, result.last_key));
  return response;
}

absl::StatusOr<v1::RevokeSessionResponse> Sessions::Revoke(
    const Call& call, const v1::RevokeSessionRequest& request) const {
  RETURN_IF_ERROR(ValidateId("session_id", request.session_id()));
  if (!request.request_id().empty()) {
    RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  }
  // Redis is written inside the keyed transaction, so that the key is remembered only once the
  // session is gone (a failure leaves nothing to replay; the retry runs again).
  return RunKeyedIfGiven<v1::RevokeSessionResponse>(
      *deps_.db, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::RevokeSessionResponse> {
        ASSIGN_OR_RETURN(SessionRecord session, deps_.sessions->GetById(request.session_id()));
        if (session.staff_id != call.who.staff_id && !call.who.Has(PERMISSION_SESSIONS_MANAGE)) {
          return NeedsSessionsManage("revoking another account's session");
        }
        RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "revoke_session",
                                           session.staff_id, session.session_id, call.now));
        RETURN_IF_ERROR(deps_.sessions->RevokeById(request.session_id()));
        deps_.authenticator->ForgetSession(request.session_id());
        return v1::RevokeSessionResponse();
      });
}

absl::StatusOr<v1::ChangePasswordResponse> Sessions::ChangePassword(
    const Call& call, const v1::ChangePasswordRequest& request,
    absl::string_view client_address) const {
  if (request.current_password().empty()) {
    return absl::InvalidArgumentError("current_password: is required");
  }
  RETURN_IF_ERROR(ValidatePassword("new_password", request.new_password()));
  if (request.new_password() == request.current_password()) {
    return absl::InvalidArgumentError("new_password: must differ from the current password");
  }
  // The key is fingerprinted without the passwords: a fast hash of them must not be kept.
  v1::ChangePasswordRequest keyed;
  keyed.set_request_id(request.request_id());
  ASSIGN_OR_RETURN(IdempotencyKey key, IdempotencyKeyOf(call, keyed));
  // A retry of a change that went through would no longer pass the current-password check, so
  // look for it first; it revokes again, finishing a first attempt that Redis failed.
  std::optional<std::string> done;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(done, FindIdempotentResponse(txn, key));
    return absl::OkStatus();
  }));
  if (!done.has_value()) {
    const AccountLimit account_limit =
        call.who.HasRole(common::v1::ROLE_SERVICE) ? AccountLimit::kExempt : AccountLimit::kApply;
    RETURN_IF_ERROR(WithReasonIfExhausted(
        deps_.login_limiter->CheckAllowed(call.who.username, client_address, account_limit)));
    std::string current_hash;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(current_hash, store_.GetPasswordHash(txn, call.who.staff_id));
      return absl::OkStatus();
    }));
    ASSIGN_OR_RETURN(bool current_ok,
                     deps_.hasher->Verify(request.current_password(), current_hash));
    if (!current_ok) {
      RETURN_IF_ERROR(
          deps_.login_limiter->RecordFailure(call.who.username, client_address, account_limit));
      AuditFailedLogin(call, call.who.username, client_address);
      return WithErrorInfo(absl::PermissionDeniedError("current_password: does not match"),
                           identity_reason::kWrongPassword);
    }
    ASSIGN_OR_RETURN(std::string new_hash, deps_.hasher->Hash(request.new_password()));
    RETURN_IF_ERROR(
        RunIdempotent<v1::ChangePasswordResponse>(
            *deps_.db, key, call.now,
            [&](Transaction& txn) -> absl::StatusOr<v1::ChangePasswordResponse> {
              RETURN_IF_ERROR(store_.SetPasswordHash(txn, call.who.staff_id, new_hash, call.now));
              RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "change_password",
                                                 call.who.staff_id, "", call.now));
              // The other sessions' end is saved with the change, so Redis failing now cannot
              // lose it (revocations.h).
              RETURN_IF_ERROR(revocations_.Record(txn, call.who.staff_id, "change_password",
                                                  call.now, call.who.session_id));
              return v1::ChangePasswordResponse();
            })
            .status());
  }
  ASSIGN_OR_RETURN(bool pending, revocations_.Finish(call.who.staff_id, call.who.session_id));
  v1::ChangePasswordResponse response;
  response.set_session_revocation_pending(pending);
  return response;
}

}  // namespace smp::identity
