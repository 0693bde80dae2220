#include "services/identity/identity_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/db/idempotency.h"
#include "common/rpc/handler.h"
#include "common/server/log.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "google/protobuf/descriptor.h"
#include "services/identity/clinic_rules.h"
#include "services/identity/staff_rules.h"

namespace smp::identity {
namespace {

using common::v1::PERMISSION_SESSIONS_MANAGE;

constexpr size_t kMaxReasonChars = 500;

std::vector<common::v1::Role> RolesOf(const v1::Staff& staff) {
  std::vector<common::v1::Role> roles;
  for (int role : staff.roles()) roles.push_back(static_cast<common::v1::Role>(role));
  return roles;
}

std::vector<std::string> ClinicsOf(const v1::Staff& staff) {
  return {staff.clinic_ids().begin(), staff.clinic_ids().end()};
}

// A clinic-scoped caller's own clinics, or nullopt for chain-wide callers (no filter).
std::optional<std::vector<std::string>> ScopeFilter(const Principal& who) {
  if (who.IsChainWide()) return std::nullopt;
  return who.clinic_ids;
}

constexpr char kWrongCredentials[] = "wrong username or password";

}  // namespace

IdentityServiceImpl::IdentityServiceImpl(IdentityDeps deps)
    : deps_(std::move(deps)),
      authorizer_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::IdentityService::service_full_name()),
                  deps_.authenticator) {}

v1::Session IdentityServiceImpl::ToSessionProto(const SessionRecord& record) const {
  v1::Session s;
  s.set_id(record.session_id);
  s.set_staff_id(record.staff_id);
  *s.mutable_create_time() = ToProtoTimestamp(record.create_time);
  *s.mutable_expire_time() = ToProtoTimestamp(record.expire_time);
  s.set_client_address(record.client_address);
  return s;
}

absl::Status IdentityServiceImpl::RevokeAllSessions(absl::string_view staff_id,
                                                    absl::string_view except) {
  absl::Status status = deps_.sessions->RevokeAllForStaff(staff_id, except);
  // Other processes notice within their cache TTL; this one at once.
  deps_.authenticator->ForgetStaff(staff_id);
  if (!status.ok()) {
    LogWarning("could not revoke sessions",
               {{"staff_id", std::string(staff_id)}, {"error", status.ToString()}});
    return absl::UnavailableError(
        absl::StrCat("the change is saved but sessions could not be revoked (", status.message(),
                     "); retry the same request to finish"));
  }
  return absl::OkStatus();
}

// ---- Sessions ----

grpc::Status IdentityServiceImpl::BootstrapAdmin(grpc::ServerContext* ctx,
                                                 const v1::BootstrapAdminRequest* req,
                                                 v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "BootstrapAdmin", [&](const Principal&) -> absl::Status {
    v1::Staff admin;
    admin.set_username(NormalizeUsername(req->username()));
    admin.set_display_name(req->display_name());
    admin.add_roles(common::v1::ROLE_ADMIN);
    RETURN_IF_ERROR(ValidateUsername("username", admin.username()));
    RETURN_IF_ERROR(ValidateStaffProfile(admin, "admin"));
    RETURN_IF_ERROR(ValidatePassword("password", req->password()));
    if (deps_.setup_code.empty()) {
      return absl::FailedPreconditionError(
          "the system already has staff accounts; ask an admin to create yours");
    }
    if (!ConstantTimeEquals(req->setup_code(), deps_.setup_code)) {
      return absl::PermissionDeniedError(
          "setup_code does not match the one this identity service wrote at start");
    }
    ASSIGN_OR_RETURN(std::string hash, deps_.hasher->Hash(req->password()));
    const absl::Time now = deps_.clock->Now();
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(int64_t existing, store_.CountStaff(txn));
      if (existing > 0) {
        return absl::FailedPreconditionError(
            "the system already has staff accounts; ask an admin to create yours");
      }
      ASSIGN_OR_RETURN(*out, store_.CreateStaff(txn, admin, hash, now));
      return store_.RecordEvent(txn, out->id(), "bootstrap_admin", out->id(), "", now);
    }));
    LogInfo("first admin created", {{"staff_id", out->id()}, {"username", out->username()}});
    if (deps_.on_bootstrapped) deps_.on_bootstrapped();
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                        v1::LoginResponse* out) {
  return ServeRpc(authorizer_, ctx, "Login", [&](const Principal&) -> absl::Status {
    if (req->username().empty()) return absl::InvalidArgumentError("username: is required");
    if (req->password().empty()) return absl::InvalidArgumentError("password: is required");
    if (req->username().size() > 64) {
      return absl::InvalidArgumentError("username: is longer than 64 characters");
    }
    if (req->password().size() > 1024) {
      return absl::InvalidArgumentError("password: is longer than 1024 bytes");
    }
    const std::string username = NormalizeUsername(req->username());
    const std::string peer = ctx->peer();
    RETURN_IF_ERROR(deps_.login_limiter->CheckAllowed(username, peer));

    std::optional<StaffCredentials> found;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(found, store_.FindByUsername(txn, username));
      return absl::OkStatus();
    }));
    bool password_ok = false;
    if (found.has_value()) {
      password_ok = deps_.hasher->Verify(req->password(), found->password_hash);
    } else {
      deps_.hasher->VerifyDummy(req->password());
    }
    if (!password_ok) {
      RETURN_IF_ERROR(deps_.login_limiter->RecordFailure(username, peer));
      LogInfo("login failed", {{"username", username}, {"peer", peer}});
      return absl::UnauthenticatedError(kWrongCredentials);
    }
    if (found->staff.state() != v1::STAFF_STATE_ACTIVE) {
      return absl::PermissionDeniedError(
          absl::StrCat("account ", username, " is disabled; ask an admin"));
    }
    ASSIGN_OR_RETURN(NewSession session,
                     deps_.sessions->Create(found->staff.id(), username, RolesOf(found->staff),
                                            ClinicsOf(found->staff), peer));
    RETURN_IF_ERROR(ConfirmStillActive(found->staff, session.record.session_id));
    // A failure to clear the counter only makes a later lockout come sooner; the login stands.
    absl::Status cleared = deps_.login_limiter->RecordSuccess(username);
    if (!cleared.ok())
      LogWarning("could not clear login failures", {{"error", cleared.ToString()}});
    out->set_access_token(session.token);
    *out->mutable_session() = ToSessionProto(session.record);
    *out->mutable_staff() = found->staff;
    return absl::OkStatus();
  });
}

absl::Status IdentityServiceImpl::ConfirmStillActive(const v1::Staff& staff,
                                                     absl::string_view session_id) {
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
  if (now_staff.state() != v1::STAFF_STATE_ACTIVE) {
    return absl::PermissionDeniedError(
        absl::StrCat("account ", staff.username(), " is disabled; ask an admin"));
  }
  return absl::AbortedError("the account changed while logging in; log in again");
}

grpc::Status IdentityServiceImpl::Logout(grpc::ServerContext* ctx, const v1::LogoutRequest*,
                                         v1::LogoutResponse*) {
  return ServeRpc(authorizer_, ctx, "Logout", [&](const Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(std::string token, Authenticator::BearerToken(*ctx));
    RETURN_IF_ERROR(deps_.sessions->RevokeToken(token));
    deps_.authenticator->Forget(token);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                         v1::WhoAmIResponse* out) {
  return ServeRpc(authorizer_, ctx, "WhoAmI", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*out->mutable_staff(), store_.GetStaff(txn, who.staff_id));
      return absl::OkStatus();
    }));
    absl::StatusOr<SessionRecord> session = deps_.sessions->GetById(who.session_id);
    if (absl::IsNotFound(session.status())) {
      // Revoked between the cached check and now.
      return absl::UnauthenticatedError("the session has ended; log in again");
    }
    if (!session.ok()) return session.status();
    *out->mutable_session() = ToSessionProto(*session);
    for (common::v1::Permission p : GrantedPermissions(who.roles)) out->add_permissions(p);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ListSessions(grpc::ServerContext* ctx,
                                               const v1::ListSessionsRequest* req,
                                               v1::ListSessionsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListSessions", [&](const Principal& who) -> absl::Status {
    std::string staff_id = req->staff_id().empty() ? who.staff_id : req->staff_id();
    RETURN_IF_ERROR(ValidateId("staff_id", staff_id));
    if (staff_id != who.staff_id && !who.Has(PERMISSION_SESSIONS_MANAGE)) {
      return absl::PermissionDeniedError(
          "listing another account's sessions needs PERMISSION_SESSIONS_MANAGE");
    }
    ASSIGN_OR_RETURN(std::vector<SessionRecord> sessions, deps_.sessions->ListForStaff(staff_id));
    for (const SessionRecord& s : sessions) *out->add_sessions() = ToSessionProto(s);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::RevokeSession(grpc::ServerContext* ctx,
                                                const v1::RevokeSessionRequest* req,
                                                v1::RevokeSessionResponse*) {
  return ServeRpc(authorizer_, ctx, "RevokeSession", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("session_id", req->session_id()));
    ASSIGN_OR_RETURN(SessionRecord session, deps_.sessions->GetById(req->session_id()));
    if (session.staff_id != who.staff_id && !who.Has(PERMISSION_SESSIONS_MANAGE)) {
      return absl::PermissionDeniedError(
          "revoking another account's session needs PERMISSION_SESSIONS_MANAGE");
    }
    RETURN_IF_ERROR(deps_.sessions->RevokeById(req->session_id()));
    deps_.authenticator->ForgetSession(req->session_id());
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                                 const v1::ChangePasswordRequest* req,
                                                 v1::ChangePasswordResponse*) {
  return ServeRpc(authorizer_, ctx, "ChangePassword", [&](const Principal& who) -> absl::Status {
    if (req->current_password().empty()) {
      return absl::InvalidArgumentError("current_password: is required");
    }
    RETURN_IF_ERROR(ValidatePassword("new_password", req->new_password()));
    if (req->new_password() == req->current_password()) {
      return absl::InvalidArgumentError("new_password: must differ from the current password");
    }
    RETURN_IF_ERROR(deps_.login_limiter->CheckAllowed(who.username, ctx->peer()));
    std::string current_hash;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(current_hash, store_.GetPasswordHash(txn, who.staff_id));
      return absl::OkStatus();
    }));
    if (!deps_.hasher->Verify(req->current_password(), current_hash)) {
      RETURN_IF_ERROR(deps_.login_limiter->RecordFailure(who.username, ctx->peer()));
      return absl::PermissionDeniedError("current_password: does not match");
    }
    ASSIGN_OR_RETURN(std::string new_hash, deps_.hasher->Hash(req->new_password()));
    const absl::Time now = deps_.clock->Now();
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(store_.SetPasswordHash(txn, who.staff_id, new_hash, now));
      return store_.RecordEvent(txn, who.staff_id, "change_password", who.staff_id, "", now);
    }));
    return RevokeAllSessions(who.staff_id, who.session_id);
  });
}

// ---- Clinics ----

grpc::Status IdentityServiceImpl::CreateClinic(grpc::ServerContext* ctx,
                                               const v1::CreateClinicRequest* req,
                                               v1::Clinic* out) {
  return ServeRpc(authorizer_, ctx, "CreateClinic", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateClinic(req->clinic(), "clinic"));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateClinic", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(*out,
                     RunIdempotent<v1::Clinic>(
                         *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Clinic> {
                           ASSIGN_OR_RETURN(v1::Clinic created,
                                            store_.CreateClinic(txn, req->clinic(), now));
                           RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "create_clinic",
                                                              created.id(), created.name(), now));
                           return created;
                         }));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::GetClinic(grpc::ServerContext* ctx,
                                            const v1::GetClinicRequest* req, v1::Clinic* out) {
  return ServeRpc(authorizer_, ctx, "GetClinic", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    RETURN_IF_ERROR(who.CheckClinic(req->id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*out, store_.GetClinic(txn, req->id()));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListClinics(grpc::ServerContext* ctx,
                                              const v1::ListClinicsRequest* req,
                                              v1::ListClinicsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListClinics", [&](const Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), "clinics"));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Clinic> result, store_.ListClinics(txn, page, ScopeFilter(who)));
      for (v1::Clinic& c : result.items) *out->add_clinics() = std::move(c);
      if (!result.last_key.empty()) {
        out->set_next_page_token(MakePageToken("clinics", result.last_key));
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::UpdateClinic(grpc::ServerContext* ctx,
                                               const v1::UpdateClinicRequest* req,
                                               v1::Clinic* out) {
  return ServeRpc(authorizer_, ctx, "UpdateClinic", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic.id", req->clinic().id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("clinic.etag", req->clinic().etag()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic().id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("UpdateClinic", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Clinic>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Clinic> {
              ASSIGN_OR_RETURN(v1::Clinic current, store_.GetClinic(txn, req->clinic().id()));
              ASSIGN_OR_RETURN(v1::Clinic updated,
                               ApplyClinicUpdate(current, req->clinic(), req->update_mask()));
              ASSIGN_OR_RETURN(v1::Clinic saved, store_.UpdateClinic(txn, updated, version, now));
              RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "update_clinic", saved.id(),
                                                 req->update_mask().ShortDebugString(), now));
              return saved;
            }));
    return absl::OkStatus();
  });
}

// ---- Staff ----

grpc::Status IdentityServiceImpl::CreateStaff(grpc::ServerContext* ctx,
                                              const v1::CreateStaffRequest* req, v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "CreateStaff", [&](const Principal& who) -> absl::Status {
    v1::Staff staff = req->staff();
    staff.set_username(NormalizeUsername(staff.username()));
    RETURN_IF_ERROR(ValidateUsername("staff.username", staff.username()));
    RETURN_IF_ERROR(ValidateStaffProfile(staff, "staff"));
    RETURN_IF_ERROR(ValidatePassword("initial_password", req->initial_password()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateStaff", req->request_id(), who.staff_id, *req));
    // Hash outside the write transaction: it is slow and needs no lock. A replay hashes in vain,
    // which is cheaper than holding the database's write lock for 50 ms per account.
    ASSIGN_OR_RETURN(std::string hash, deps_.hasher->Hash(req->initial_password()));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Staff>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
                    RETURN_IF_ERROR(store_.CheckClinicsExist(txn, staff, "staff"));
                    ASSIGN_OR_RETURN(v1::Staff created, store_.CreateStaff(txn, staff, hash, now));
                    RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "create_staff",
                                                       created.id(), created.username(), now));
                    return created;
                  }));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::GetStaff(grpc::ServerContext* ctx, const v1::GetStaffRequest* req,
                                           v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "GetStaff", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*out, store_.GetStaff(txn, req->id()));
      return absl::OkStatus();
    }));
    if (!CanSeeStaff(who, *out)) {
      out->Clear();
      return absl::PermissionDeniedError(
          absl::StrCat("staff ", req->id(), " works at no clinic in your clinic scope"));
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ListStaff(grpc::ServerContext* ctx,
                                            const v1::ListStaffRequest* req,
                                            v1::ListStaffResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListStaff", [&](const Principal& who) -> absl::Status {
    std::optional<std::vector<std::string>> clinics = ScopeFilter(who);
    if (!req->clinic_id().empty()) {
      RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
      RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
      clinics = std::vector<std::string>{req->clinic_id()};
    }
    const std::string query = absl::StrCat("staff?clinic=", req->clinic_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Staff> result, store_.ListStaff(txn, page, clinics));
      for (v1::Staff& s : result.items) *out->add_staff() = std::move(s);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::UpdateStaff(grpc::ServerContext* ctx,
                                              const v1::UpdateStaffRequest* req, v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "UpdateStaff", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("staff.id", req->staff().id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("staff.etag", req->staff().etag()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("UpdateStaff", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Staff>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
              ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, req->staff().id()));
              ASSIGN_OR_RETURN(v1::Staff updated,
                               ApplyStaffUpdate(current, req->staff(), req->update_mask()));
              RETURN_IF_ERROR(store_.CheckClinicsExist(txn, updated, "staff"));
              ASSIGN_OR_RETURN(v1::Staff saved,
                               store_.UpdateStaffProfile(txn, updated, version, now));
              if (IsActiveAdmin(current) && !IsActiveAdmin(saved)) {
                ASSIGN_OR_RETURN(int64_t admins, store_.CountActiveAdmins(txn));
                RETURN_IF_ERROR(CheckAdminRemains(static_cast<int>(admins)));
              }
              RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "update_staff", saved.id(),
                                                 req->update_mask().ShortDebugString(), now));
              return saved;
            }));
    // Sessions carry the grants they were made with, so they go when roles or clinics are written.
    // Decided by the mask, not by a diff, so that a replay after a Redis failure revokes too.
    if (UpdateTouchesGrants(req->update_mask())) return RevokeAllSessions(out->id());
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::DisableStaff(grpc::ServerContext* ctx,
                                               const v1::DisableStaffRequest* req, v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "DisableStaff", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), kMaxReasonChars));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("DisableStaff", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(*out,
                     RunIdempotent<v1::Staff>(
                         *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
                           ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, req->id()));
                           if (current.state() == v1::STAFF_STATE_DISABLED) {
                             return absl::FailedPreconditionError(
                                 absl::StrCat("staff ", req->id(), " is already disabled"));
                           }
                           ASSIGN_OR_RETURN(
                               v1::Staff saved,
                               store_.SetStaffState(txn, req->id(), v1::STAFF_STATE_DISABLED, now));
                           if (IsActiveAdmin(current)) {
                             ASSIGN_OR_RETURN(int64_t admins, store_.CountActiveAdmins(txn));
                             RETURN_IF_ERROR(CheckAdminRemains(static_cast<int>(admins)));
                           }
                           RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "disable_staff",
                                                              saved.id(), req->reason(), now));
                           return saved;
                         }));
    // After the commit, so that a concurrent login either sees "disabled" or has its new session
    // revoked here. Also on a replay: a retry after a Redis failure finishes the job.
    return RevokeAllSessions(out->id());
  });
}

grpc::Status IdentityServiceImpl::EnableStaff(grpc::ServerContext* ctx,
                                              const v1::EnableStaffRequest* req, v1::Staff* out) {
  return ServeRpc(authorizer_, ctx, "EnableStaff", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("EnableStaff", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Staff>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
                    ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, req->id()));
                    if (current.state() == v1::STAFF_STATE_ACTIVE) {
                      return absl::FailedPreconditionError(
                          absl::StrCat("staff ", req->id(), " is already active"));
                    }
                    ASSIGN_OR_RETURN(
                        v1::Staff saved,
                        store_.SetStaffState(txn, req->id(), v1::STAFF_STATE_ACTIVE, now));
                    RETURN_IF_ERROR(
                        store_.RecordEvent(txn, who.staff_id, "enable_staff", saved.id(), "", now));
                    return saved;
                  }));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ResetStaffPassword(grpc::ServerContext* ctx,
                                                     const v1::ResetStaffPasswordRequest* req,
                                                     v1::Staff* out) {
  return ServeRpc(
      authorizer_, ctx, "ResetStaffPassword", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        RETURN_IF_ERROR(ValidatePassword("new_password", req->new_password()));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("ResetStaffPassword", req->request_id(), who.staff_id, *req));
        ASSIGN_OR_RETURN(std::string hash, deps_.hasher->Hash(req->new_password()));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(
            *out, RunIdempotent<v1::Staff>(
                      *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
                        RETURN_IF_ERROR(store_.SetPasswordHash(txn, req->id(), hash, now));
                        RETURN_IF_ERROR(store_.RecordEvent(txn, who.staff_id, "reset_password",
                                                           req->id(), "", now));
                        return store_.GetStaff(txn, req->id());
                      }));
        return RevokeAllSessions(out->id());
      });
}

}  // namespace smp::identity
