#include "services/identity/identity_service.h"

#include <grpcpp/security/auth_context.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace smp::identity {
namespace {

// The names of the peer's client certificate, when gRPC verified one over TLS (mutual TLS).
std::vector<std::string> PeerCertificateNames(const grpc::ServerContext& ctx) {
  std::vector<std::string> names;
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return names;
  for (const grpc::string_ref& value : auth->GetPeerIdentity()) {
    names.emplace_back(value.data(), value.size());
  }
  return names;
}

}  // namespace

IdentityServiceImpl::IdentityServiceImpl(IdentityDeps deps)
    : frame_(v1::IdentityService::service_full_name(), deps.authenticator, deps.clock),
      sessions_(deps),
      clinics_(deps.db),
      staff_(deps.db, deps.hasher, deps.sessions, deps.authenticator, *deps.clock),
      login_audit_(deps.db),
      forwarders_(deps.trusted_forwarders) {}

std::string IdentityServiceImpl::ClientAddress(const grpc::ServerContext& ctx) const {
  const auto& metadata = ctx.client_metadata();
  auto forwarded = metadata.find(kClientAddressHeader);
  return forwarders_.ClientAddress(
      ctx.peer(), PeerCertificateNames(ctx),
      forwarded == metadata.end()
          ? absl::string_view()
          : absl::string_view(forwarded->second.data(), forwarded->second.size()));
}

// ---- Sessions ----

grpc::Status IdentityServiceImpl::BootstrapAdmin(grpc::ServerContext* ctx,
                                                 const v1::BootstrapAdminRequest* req,
                                                 v1::Staff* out) {
  return frame_.Serve(ctx, "BootstrapAdmin", *req, out,
                      [&](const Call& call) { return sessions_.BootstrapAdmin(call, *req); });
}

grpc::Status IdentityServiceImpl::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                        v1::LoginResponse* out) {
  const std::string peer = ClientAddress(*ctx);
  return frame_.Serve(ctx, "Login", *req, out,
                      [&](const Call& call) { return sessions_.Login(call, *req, peer); });
}

grpc::Status IdentityServiceImpl::Logout(grpc::ServerContext* ctx, const v1::LogoutRequest*,
                                         v1::LogoutResponse* out) {
  return frame_.Serve(ctx, "Logout", out,
                      [&](const Call& call) -> absl::StatusOr<v1::LogoutResponse> {
                        ASSIGN_OR_RETURN(std::string token, Authenticator::BearerToken(*ctx));
                        return sessions_.Logout(call, token);
                      });
}

grpc::Status IdentityServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                         v1::WhoAmIResponse* out) {
  return frame_.Serve(ctx, "WhoAmI", out, [&](const Call& call) { return sessions_.WhoAmI(call); });
}

grpc::Status IdentityServiceImpl::ListSessions(grpc::ServerContext* ctx,
                                               const v1::ListSessionsRequest* req,
                                               v1::ListSessionsResponse* out) {
  return frame_.Serve(ctx, "ListSessions", *req, out,
                      [&](const Call& call) { return sessions_.List(call, *req); });
}

grpc::Status IdentityServiceImpl::RevokeSession(grpc::ServerContext* ctx,
                                                const v1::RevokeSessionRequest* req,
                                                v1::RevokeSessionResponse* out) {
  return frame_.Serve(ctx, "RevokeSession", *req, out,
                      [&](const Call& call) { return sessions_.Revoke(call, *req); });
}

grpc::Status IdentityServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                                 const v1::ChangePasswordRequest* req,
                                                 v1::ChangePasswordResponse* out) {
  const std::string peer = ClientAddress(*ctx);
  return frame_.Serve(ctx, "ChangePassword", *req, out,
                      [&](const Call& call) { return sessions_.ChangePassword(call, *req, peer); });
}

// ---- Clinics ----

grpc::Status IdentityServiceImpl::CreateClinic(grpc::ServerContext* ctx,
                                               const v1::CreateClinicRequest* req,
                                               v1::Clinic* out) {
  return frame_.Serve(ctx, "CreateClinic", *req, out,
                      [&](const Call& call) { return clinics_.Create(call, *req); });
}

grpc::Status IdentityServiceImpl::GetClinic(grpc::ServerContext* ctx,
                                            const v1::GetClinicRequest* req, v1::Clinic* out) {
  return frame_.Serve(ctx, "GetClinic", *req, out,
                      [&](const Call& call) { return clinics_.Get(call, *req); });
}

grpc::Status IdentityServiceImpl::ListClinics(grpc::ServerContext* ctx,
                                              const v1::ListClinicsRequest* req,
                                              v1::ListClinicsResponse* out) {
  return frame_.Serve(ctx, "ListClinics", *req, out,
                      [&](const Call& call) { return clinics_.List(call, *req); });
}

grpc::Status IdentityServiceImpl::UpdateClinic(grpc::ServerContext* ctx,
                                               const v1::UpdateClinicRequest* req,
                                               v1::Clinic* out) {
  return frame_.Serve(ctx, "UpdateClinic", *req, out,
                      [&](const Call& call) { return clinics_.Update(call, *req); });
}

// ---- Staff ----

grpc::Status IdentityServiceImpl::CreateStaff(grpc::ServerContext* ctx,
                                              const v1::CreateStaffRequest* req, v1::Staff* out) {
  return frame_.Serve(ctx, "CreateStaff", *req, out,
                      [&](const Call& call) { return staff_.Create(call, *req); });
}

grpc::Status IdentityServiceImpl::GetStaff(grpc::ServerContext* ctx, const v1::GetStaffRequest* req,
                                           v1::Staff* out) {
  return frame_.Serve(ctx, "GetStaff", *req, out,
                      [&](const Call& call) { return staff_.Get(call, *req); });
}

grpc::Status IdentityServiceImpl::ListStaff(grpc::ServerContext* ctx,
                                            const v1::ListStaffRequest* req,
                                            v1::ListStaffResponse* out) {
  return frame_.Serve(ctx, "ListStaff", *req, out,
                      [&](const Call& call) { return staff_.List(call, *req); });
}

grpc::Status IdentityServiceImpl::UpdateStaff(grpc::ServerContext* ctx,
                                              const v1::UpdateStaffRequest* req, v1::Staff* out) {
  return frame_.Serve(ctx, "UpdateStaff", *req, out,
                      [&](const Call& call) { return staff_.Update(call, *req); });
}

grpc::Status IdentityServiceImpl::DisableStaff(grpc::ServerContext* ctx,
                                               const v1::DisableStaffRequest* req, v1::Staff* out) {
  return frame_.Serve(ctx, "DisableStaff", *req, out,
                      [&](const Call& call) { return staff_.Disable(call, *req); });
}

grpc::Status IdentityServiceImpl::EnableStaff(grpc::ServerContext* ctx,
                                              const v1::EnableStaffRequest* req, v1::Staff* out) {
  return frame_.Serve(ctx, "EnableStaff", *req, out,
                      [&](const Call& call) { return staff_.Enable(call, *req); });
}

grpc::Status IdentityServiceImpl::ResetStaffPassword(grpc::ServerContext* ctx,
                                                     const v1::ResetStaffPasswordRequest* req,
                                                     v1::Staff* out) {
  return frame_.Serve(ctx, "ResetStaffPassword", *req, out,
                      [&](const Call& call) { return staff_.ResetPassword(call, *req); });
}

// ---- Audit ----

grpc::Status IdentityServiceImpl::ListLoginFailures(grpc::ServerContext* ctx,
                                                    const v1::ListLoginFailuresRequest* req,
                                                    v1::ListLoginFailuresResponse* out) {
  return frame_.Serve(ctx, "ListLoginFailures", *req, out,
                      [&](const Call& call) { return login_audit_.ListFailures(call, *req); });
}

}  // namespace smp::identity
