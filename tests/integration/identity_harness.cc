#include "tests/integration/identity_harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"
#include "gtest/gtest.h"

namespace smp::testing {
namespace {

constexpr char kSetupCode[] = "integration-harness-setup-code";
constexpr char kRedisUser[] = "smp";

}  // namespace

std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string WriteSecretFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  bool ok = fd >= 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  if (fd >= 0) ok = ::close(fd) == 0 && ok;
  EXPECT_TRUE(ok) << "cannot write " << path;
  return ok ? path : "";
}

absl::Status IdentityHarness::Start(const std::vector<std::string>& identity_flags) {
  const std::string secrets = MakeTempDir("secrets");
  const std::string redis_password = Base64UrlEncode(RandomBytes(24));
  redis_password_file_ = WriteSecretFile(secrets + "/redis.password", redis_password + "\n");
  session_mac_key_file_ = WriteSecretFile(secrets + "/session-mac.key", RandomBytes(32));
  if (redis_password_file_.empty() || session_mac_key_file_.empty()) {
    return absl::InternalError("cannot write the harness's secret files");
  }
  // Inherited by every service process the test starts from here on.
  setenv("SMP_REDIS_USER", kRedisUser, 1);
  setenv("SMP_REDIS_PASSWORD_FILE", redis_password_file_.c_str(), 1);
  setenv("SMP_SESSION_MAC_KEY_FILE", session_mac_key_file_.c_str(), 1);
  ASSIGN_OR_RETURN(redis_, RedisServer::StartNewWithAcl(kRedisUser, redis_password));
  std::vector<std::string> flags = {"--data_dir=" + MakeTempDir("identity"), RedisFlag(),
                                    SetupCodeFileFlag(kSetupCode)};
  flags.insert(flags.end(), identity_flags.begin(), identity_flags.end());
  ASSIGN_OR_RETURN(identity_, ServiceProcess::Start(SMP_IDENTITY_BINARY, flags));
  stub_ = identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(identity_->address(), grpc::InsecureChannelCredentials()));
  identity::v1::BootstrapAdminRequest boot;
  boot.set_setup_code(kSetupCode);
  boot.set_username("root");
  boot.set_display_name("Chain Admin");
  boot.set_password(kPassword);
  identity::v1::Staff admin;
  grpc::Status booted = stub_->BootstrapAdmin(CallContext().get(), boot, &admin);
  if (!booted.ok()) return absl::InternalError("BootstrapAdmin: " + booted.error_message());
  admin_token_ = Login("root");
  if (admin_token_.empty()) return absl::InternalError("the first admin cannot log in");
  return absl::OkStatus();
}

std::string IdentityHarness::RedisFlag() const {
  return absl::StrCat("--redis=127.0.0.1:", redis_->port());
}

std::vector<std::string> IdentityHarness::SecretFlags() const {
  return {absl::StrCat("--redis_user=", kRedisUser),
          "--redis_password_file=" + redis_password_file_,
          "--session_mac_key_file=" + session_mac_key_file_};
}

std::string IdentityHarness::MakeClinic(const std::string& name, const std::string& time_zone) {
  identity::v1::CreateClinicRequest req;
  req.set_request_id("clinic-" + name);
  req.mutable_clinic()->set_name(name);
  req.mutable_clinic()->set_time_zone(time_zone);
  identity::v1::Clinic out;
  grpc::Status s = stub_->CreateClinic(CallContext(admin_token_).get(), req, &out);
  EXPECT_TRUE(s.ok()) << "CreateClinic " << name << ": " << s.error_message();
  return out.id();
}

std::string IdentityHarness::MakeStaff(const std::string& username, common::v1::Role role,
                                       const std::string& clinic_id) {
  identity::v1::CreateStaffRequest req;
  req.set_request_id("staff-" + username);
  req.mutable_staff()->set_username(username);
  req.mutable_staff()->set_display_name(username);
  req.mutable_staff()->add_roles(role);
  if (!clinic_id.empty()) req.mutable_staff()->add_clinic_ids(clinic_id);
  req.set_initial_password(kPassword);
  identity::v1::Staff out;
  grpc::Status s = stub_->CreateStaff(CallContext(admin_token_).get(), req, &out);
  EXPECT_TRUE(s.ok()) << "CreateStaff " << username << ": " << s.error_message();
  return out.id();
}

std::string IdentityHarness::Login(const std::string& username) {
  identity::v1::LoginRequest req;
  req.set_username(username);
  req.set_password(kPassword);
  identity::v1::LoginResponse out;
  grpc::Status s = stub_->Login(CallContext().get(), req, &out);
  EXPECT_TRUE(s.ok()) << "Login " << username << ": " << s.error_message();
  return out.access_token();
}

std::vector<std::string> IdentityHarness::MakeServiceAccount(const std::string& username) {
  MakeStaff(username, common::v1::ROLE_SERVICE);
  const std::string path = MakeTempDir("service-account") + "/" + username;
  {
    std::ofstream out(path);
    out << username << "\n" << kPassword << "\n";
  }
  chmod(path.c_str(), 0600);
  return {"--identity_address=" + identity_->address(), "--service_credentials_file=" + path};
}

}  // namespace smp::testing
