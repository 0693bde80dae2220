#ifndef SMP_TESTS_INTEGRATION_IDENTITY_HARNESS_H_
#define SMP_TESTS_INTEGRATION_IDENTITY_HARNESS_H_

// What every multi-process test of a service needs before its own binary starts: a real
// redis-server and a real identity process on free loopback ports, a first admin, and helpers to
// make clinics and staff and log them in.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/redis/testing/redis_server.h"
#include "gmock/gmock.h"
#include "smp/common/v1/auth.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tests/integration/service_process.h"

namespace smp::testing {

// A client context with a 20 s deadline and, when `token` is set, `authorization: Bearer <token>`.
std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token = "");

// EXPECT_THAT(status, GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));
MATCHER_P2(GrpcIs, code, substring, "") {
  *result_listener << "status " << arg.error_code() << " \"" << arg.error_message() << "\"";
  return arg.error_code() == code && arg.error_message().find(substring) != std::string::npos;
}

class IdentityHarness {
 public:
  // Password of every account the harness makes (the admin's too).
  static constexpr char kPassword[] = "a long password 1";

  // Starts redis-server (ACL user "smp" with a random password, the default user off, as
  // stack.sh runs it) and identity, creates the first admin ("root") and logs it in.
  //
  // The secrets every service needs are files of a fresh directory (0600): the Redis password and
  // the session MAC key. Start() exports SMP_REDIS_USER, SMP_REDIS_PASSWORD_FILE and
  // SMP_SESSION_MAC_KEY_FILE into this test process's environment, so every service binary the
  // test starts afterwards (by any helper) inherits them; SecretFlags() gives the same as flags.
  // `identity_flags` go to the identity binary as well.
  absl::Status Start(const std::vector<std::string>& identity_flags = {});

  // "--redis=127.0.0.1:<port>", for the service binaries under test.
  std::string RedisFlag() const;
  // --redis_user, --redis_password_file and --session_mac_key_file of this harness.
  std::vector<std::string> SecretFlags() const;
  const std::string& redis_password_file() const { return redis_password_file_; }
  const std::string& session_mac_key_file() const { return session_mac_key_file_; }
  RedisServer& redis() { return *redis_; }
  ServiceProcess& identity() { return *identity_; }
  identity::v1::IdentityService::Stub& stub() { return *stub_; }
  const std::string& admin_token() const { return admin_token_; }

  // Each returns the new id, or "" after recording a test failure.
  std::string MakeClinic(const std::string& name, const std::string& time_zone);
  std::string MakeStaff(const std::string& username, common::v1::Role role,
                        const std::string& clinic_id = "");
  // A bearer token for `username`, or "" after recording a test failure.
  std::string Login(const std::string& username);
  // Makes a service-role account and its credentials file (0600). Returns the flags a service
  // binary needs to log in as it: --identity_address=... and --service_credentials_file=...
  std::vector<std::string> MakeServiceAccount(const std::string& username);

 private:
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> identity_;
  std::unique_ptr<identity::v1::IdentityService::Stub> stub_;
  std::string admin_token_;
  std::string redis_password_file_;
  std::string session_mac_key_file_;
};

// Writes `content` to a new file `path` with mode 0600. Returns the path, or "" after recording a
// test failure.
std::string WriteSecretFile(const std::string& path, const std::string& content);

}  // namespace smp::testing

#endif  // SMP_TESTS_INTEGRATION_IDENTITY_HARNESS_H_
