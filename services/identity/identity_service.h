#ifndef SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/auth/login_limiter.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/util/clock.h"
#include "services/identity/identity_store.h"
#include "services/identity/password_hasher.h"
#include "smp/identity/v1/identity.grpc.pb.h"

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
};

// The gRPC handlers of smp.identity.v1.IdentityService: each validates the request, authorises the
// caller (permission from the contract, clinic scope), calls the rules and the store, and maps
// errors. Sessions live in Redis (SessionStore); everything else in the service's database.
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

 private:
  // Revokes every session of `staff_id` and logs what could not be revoked.
  absl::Status RevokeAllSessions(absl::string_view staff_id, absl::string_view except = "");
  // Login's last step: the account may have been disabled while the session was being made.
  absl::Status ConfirmStillActive(const v1::Staff& staff, absl::string_view session_id);
  v1::Session ToSessionProto(const SessionRecord& record) const;

  IdentityDeps deps_;
  IdentityStore store_;
  Authorizer authorizer_;
  absl::Mutex bootstrap_mu_;
  bool bootstrapped_ ABSL_GUARDED_BY(bootstrap_mu_) = false;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
