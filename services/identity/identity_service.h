#ifndef SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <string>

#include "common/rpc/frame.h"
#include "services/identity/client_address.h"
#include "services/identity/clinics.h"
#include "services/identity/login_audit.h"
#include "services/identity/sessions.h"
#include "services/identity/staff.h"
#include "smp/identity/v1/identity.grpc.pb.h"

namespace smp::identity {

// The gRPC overrides of smp.identity.v1.IdentityService: each runs one operation of the units
// (sessions.h, clinics.h, staff.h, login_audit.h) in the RpcFrame, which authorises the caller for
// the method (permission from the contract), gives the operation its Call and maps the status at
// the edge.
class IdentityServiceImpl final : public v1::IdentityService::Service {
 public:
  explicit IdentityServiceImpl(IdentityDeps deps);

  grpc::Status BootstrapAdmin(grpc::ServerContext* ctx, const v1::BootstrapAdminRequest* req,
                              v1::Staff* out) override;
  grpc::Status Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                     v1::LoginResponse* out) override;
  grpc::Status Logout(grpc::ServerContext* ctx, const v1::LogoutRequest* req,
                      v1::LogoutResponse* out) override;
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest* req,
                      v1::WhoAmIResponse* out) override;
  grpc::Status ListSessions(grpc::ServerContext* ctx, const v1::ListSessionsRequest* req,
                            v1::ListSessionsResponse* out) override;
  grpc::Status RevokeSession(grpc::ServerContext* ctx, const v1::RevokeSessionRequest* req,
                             v1::RevokeSessionResponse* out) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const v1::ChangePasswordRequest* req,
                              v1::ChangePasswordResponse* out) override;

  grpc::Status CreateClinic(grpc::ServerContext* ctx, const v1::CreateClinicRequest* req,
                            v1::Clinic* out) override;
  grpc::Status GetClinic(grpc::ServerContext* ctx, const v1::GetClinicRequest* req,
                         v1::Clinic* out) override;
  grpc::Status ListClinics(grpc::ServerContext* ctx, const v1::ListClinicsRequest* req,
                           v1::ListClinicsResponse* out) override;
  grpc::Status UpdateClinic(grpc::ServerContext* ctx, const v1::UpdateClinicRequest* req,
                            v1::Clinic* out) override;

  grpc::Status CreateStaff(grpc::ServerContext* ctx, const v1::CreateStaffRequest* req,
                           v1::Staff* out) override;
  grpc::Status GetStaff(grpc::ServerContext* ctx, const v1::GetStaffRequest* req,
                        v1::Staff* out) override;
  grpc::Status ListStaff(grpc::ServerContext* ctx, const v1::ListStaffRequest* req,
                         v1::ListStaffResponse* out) override;
  grpc::Status UpdateStaff(grpc::ServerContext* ctx, const v1::UpdateStaffRequest* req,
                           v1::Staff* out) override;
  grpc::Status DisableStaff(grpc::ServerContext* ctx, const v1::DisableStaffRequest* req,
                            v1::Staff* out) override;
  grpc::Status EnableStaff(grpc::ServerContext* ctx, const v1::EnableStaffRequest* req,
                           v1::Staff* out) override;
  grpc::Status ResetStaffPassword(grpc::ServerContext* ctx,
                                  const v1::ResetStaffPasswordRequest* req,
                                  v1::Staff* out) override;
  grpc::Status ListLoginFailures(grpc::ServerContext* ctx, const v1::ListLoginFailuresRequest* req,
                                 v1::ListLoginFailuresResponse* out) override;

 private:
  // The address a login or password change counts against: the peer, or the client a trusted
  // forwarder names (client_address.h).
  std::string ClientAddress(const grpc::ServerContext& ctx) const;

  RpcFrame frame_;
  Sessions sessions_;
  Clinics clinics_;
  StaffAccounts staff_;
  LoginAudit login_audit_;
  const TrustedForwarders forwarders_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
