#ifndef SMP_COMMON_PEER_SERVICE_CREDENTIALS_H_
#define SMP_COMMON_PEER_SERVICE_CREDENTIALS_H_

// How a service proves who it is when it calls a peer. Each service runs under a staff account of
// the service role; its credentials file (readable by its owner only) holds that account's username
// and password. The service logs in to identity when it first needs a token, reuses the session
// until half its lifetime has passed, and logs in again after a peer refuses the token
// (UNAUTHENTICATED: the session was revoked or expired). So a service keeps working for as long as
// it runs without anyone handing it tokens, and disabling its account stops it at the next login.
//
// With mutual TLS to its peers (common/peer/peer_channel.h) a service may instead be known by its
// client certificate (svc.<service>): then it sends no token at all, and needs no password.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/util/clock.h"
#include "smp/identity/v1/identity.grpc.pb.h"

namespace smp {

// A caller's side of peer authentication.
class ServiceCredentials {
 public:
  virtual ~ServiceCredentials() = default;
  // Adds "authorization: Bearer <token>" to `context`. UNAVAILABLE when identity cannot be reached,
  // UNAUTHENTICATED when it refuses the account: the call should not be made.
  virtual absl::Status Authorize(grpc::ClientContext& context) = 0;
  // What the peer answered; UNAUTHENTICATED drops the token so that the next call logs in again.
  virtual void Observe(const grpc::Status& status) = 0;
};

struct ServiceAccount {
  std::string username;
  std::string password;
};

// Reads a credentials file: the username on the first line, the password on the second. Refused
// (FAILED_PRECONDITION naming the file) when the file is readable by group or others, missing, or
// incomplete.
absl::StatusOr<ServiceAccount> ReadServiceAccountFile(const std::string& path);

// Logs in to identity over `channel` as `account`; each login has `deadline`. After a failed login
// the next attempt waits `retry_after`, so a wrong password cannot hammer identity or lock the
// account out faster than the login limiter intends.
class IdentityServiceLogin final : public ServiceCredentials {
 public:
  IdentityServiceLogin(std::shared_ptr<grpc::Channel> channel, ServiceAccount account,
                       absl::Duration deadline, const Clock& clock,
                       absl::Duration retry_after = absl::Seconds(1));

  absl::Status Authorize(grpc::ClientContext& context) override;
  void Observe(const grpc::Status& status) override;

 private:
  absl::Status LoginLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<identity::v1::IdentityService::Stub> stub_;
  const ServiceAccount account_;
  const absl::Duration deadline_;
  const Clock& clock_;
  const absl::Duration retry_after_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time renew_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_failure_ ABSL_GUARDED_BY(mu_);
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// For a service started without --service_credentials_file: every call is refused with
// UNAUTHENTICATED saying so (the peer would refuse it anyway).
class MissingServiceCredentials final : public ServiceCredentials {
 public:
  absl::Status Authorize(grpc::ClientContext& context) override;
  void Observe(const grpc::Status&) override {}
};

// For a service whose peer channels present its client certificate (--peer_tls_cert_file naming
// svc.<service>) and which has no credentials file: calls carry no token, and a peer that verifies
// client certificates (--tls_client_ca) takes them as the service
// (common/auth/service_certificate.h). A peer that does not verify client certificates answers
// UNAUTHENTICATED.
class ClientCertificateCredentials final : public ServiceCredentials {
 public:
  absl::Status Authorize(grpc::ClientContext&) override { return absl::OkStatus(); }
  void Observe(const grpc::Status&) override {}
};

// From --service_credentials_file, else the peer client certificate:
//  - a credentials file: IdentityServiceLogin at --identity_address over a peer channel
//    (MakePeerChannel: TLS per the --peer_tls_* flags); a file that cannot be read, or a plaintext
//    identity address that is not loopback, is an error (the service should refuse to start);
//  - no file but --peer_tls_cert_file: ClientCertificateCredentials;
//  - neither: MissingServiceCredentials.
absl::StatusOr<std::unique_ptr<ServiceCredentials>> ServiceCredentialsFromFlags();

// Sets `context`'s deadline to now + `timeout`: every outbound call has one.
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

}  // namespace smp

#endif  // SMP_COMMON_PEER_SERVICE_CREDENTIALS_H_
