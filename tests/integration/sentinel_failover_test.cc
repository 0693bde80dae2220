// Redis with failover, through real processes: identity and scheduling find the Redis primary
// through three real sentinels (--redis_sentinels); the primary is killed with SIGKILL; while the
// sentinels fail over, session checks and logins fail closed (UNAVAILABLE, never a wrong allow);
// once the replica is promoted they resume, within the time README documents, and a session
// created before the failover (replicated: logins WAIT for a replica) still works.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/sentinel_group.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/service_process.h"

namespace smp {
namespace {

using ::smp::testing::MakeTempDir;
using ::smp::testing::SentinelGroup;
using ::smp::testing::SentinelGroupOptions;
using ::smp::testing::ServiceProcess;
using ::smp::testing::SetupCodeFileFlag;
using ::smp::testing::WritePrivateFile;

constexpr char kSetupCode[] = "sentinel-failover-setup-code";
constexpr char kPassword[] = "a long password 1";
// What README documents for these settings (down-after-milliseconds 1000): the sentinels need
// down-after + up to ~3 s (agreement, election, promotion), the services at most their 0.5 s
// backoff more. Measured on the shared 2-core machine: about 2.5 s.
constexpr absl::Duration kDocumentedResume = absl::Seconds(6);

std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

class SentinelFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string redis_password = Base64UrlEncode(RandomBytes(24));
    const std::string password_file = WritePrivateFile("redis.password", redis_password + "\n");
    const std::string mac_key_file = WritePrivateFile("session-mac.key", RandomBytes(32));
    ASSERT_FALSE(password_file.empty() || mac_key_file.empty());
    SentinelGroupOptions options;
    options.down_after = absl::Milliseconds(1000);
    options.failover_timeout = absl::Seconds(3);
    ASSERT_OK_AND_ASSIGN(group_, SentinelGroup::StartNew("smp", redis_password, options));
    // No --redis: the sentinels name the primary. The cache is off so that every session check
    // is a Redis read (with the 500 ms default a token seen just before the kill would keep
    // working for 500 ms, as README says).
    const std::vector<std::string> redis_flags = {"--redis_sentinels=" + group_->SentinelsFlag(),
                                                  "--redis_master_name=smp",
                                                  "--redis_user=smp",
                                                  "--redis_password_file=" + password_file,
                                                  "--redis_sentinel_user=smp",
                                                  "--redis_sentinel_password_file=" + password_file,
                                                  "--session_mac_key_file=" + mac_key_file,
                                                  "--auth_cache_ttl=0"};

    std::vector<std::string> identity_args = {"--data_dir=" + MakeTempDir("identity"),
                                              SetupCodeFileFlag(kSetupCode)};
    identity_args.insert(identity_args.end(), redis_flags.begin(), redis_flags.end());
    ASSERT_OK_AND_ASSIGN(identity_, ServiceProcess::Start(SMP_IDENTITY_BINARY, identity_args));
    identity_stub_ = identity::v1::IdentityService::NewStub(
        grpc::CreateChannel(identity_->address(), grpc::InsecureChannelCredentials()));

    identity::v1::BootstrapAdminRequest boot;
    boot.set_setup_code(kSetupCode);
    boot.set_username("root");
    boot.set_display_name("Chain Admin");
    boot.set_password(kPassword);
    identity::v1::Staff admin;
    grpc::Status booted = identity_stub_->BootstrapAdmin(Context().get(), boot, &admin);
    ASSERT_TRUE(booted.ok()) << booted.error_message();
    ASSERT_TRUE(Login(&admin_token_).ok());

    identity::v1::CreateClinicRequest clinic;
    clinic.set_request_id("clinic-1");
    clinic.mutable_clinic()->set_name("Leeds");
    clinic.mutable_clinic()->set_time_zone("Europe/London");
    identity::v1::Clinic made;
    grpc::Status created = identity_stub_->CreateClinic(Context(admin_token_).get(), clinic, &made);
    ASSERT_TRUE(created.ok()) << created.error_message();
    clinic_id_ = made.id();

    std::vector<std::string> scheduling_args = {"--data_dir=" + MakeTempDir("scheduling"),
                                                "--identity_address=" + identity_->address()};
    scheduling_args.insert(scheduling_args.end(), redis_flags.begin(), redis_flags.end());
    ASSERT_OK_AND_ASSIGN(scheduling_,
                         ServiceProcess::Start(SMP_SCHEDULING_BINARY, scheduling_args));
    scheduling_stub_ = scheduling::v1::SchedulingService::NewStub(
        grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    scheduling_.reset();
    identity_.reset();
    group_.reset();
  }

  grpc::Status Login(std::string* token) {
    identity::v1::LoginRequest req;
    req.set_username("root");
    req.set_password(kPassword);
    identity::v1::LoginResponse out;
    grpc::Status status = identity_stub_->Login(Context().get(), req, &out);
    if (status.ok()) *token = out.access_token();
    return status;
  }
  // A session check at identity.
  grpc::Status CheckAtIdentity(const std::string& token) {
    identity::v1::GetClinicRequest req;
    req.set_id(clinic_id_);
    identity::v1::Clinic out;
    return identity_stub_->GetClinic(Context(token).get(), req, &out);
  }
  // A session check at scheduling (another process, its own Redis client).
  grpc::Status CheckAtScheduling(const std::string& token) {
    scheduling::v1::ListChairsRequest req;
    req.set_clinic_id(clinic_id_);
    scheduling::v1::ListChairsResponse out;
    return scheduling_stub_->ListChairs(Context(token).get(), req, &out);
  }

  std::unique_ptr<SentinelGroup> group_;
  std::unique_ptr<ServiceProcess> identity_;
  std::unique_ptr<ServiceProcess> scheduling_;
  std::unique_ptr<identity::v1::IdentityService::Stub> identity_stub_;
  std::unique_ptr<scheduling::v1::SchedulingService::Stub> scheduling_stub_;
  std::string admin_token_;
  std::string clinic_id_;
};

// Every answer during and after the failover is either the right one or UNAVAILABLE.
#define EXPECT_OK_OR_UNAVAILABLE(status, what)                                         \
  EXPECT_TRUE((status).ok() || (status).error_code() == grpc::StatusCode::UNAVAILABLE) \
      << what << ": " << (status).error_code() << " " << (status).error_message()

TEST_F(SentinelFailoverTest, SessionsFailClosedDuringFailoverAndResumeAfterIt) {
  ASSERT_TRUE(CheckAtIdentity(admin_token_).ok());
  grpc::Status before = CheckAtScheduling(admin_token_);
  ASSERT_TRUE(before.ok()) << before.error_message();
  // A session revoked before the failover must stay revoked after it (the revocation WAITed for
  // the replica too).
  std::string revoked;
  ASSERT_TRUE(Login(&revoked).ok());
  identity::v1::LogoutResponse logged_out;
  ASSERT_TRUE(
      identity_stub_->Logout(Context(revoked).get(), identity::v1::LogoutRequest(), &logged_out)
          .ok());
  ASSERT_EQ(CheckAtScheduling(revoked).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const absl::Time killed = absl::Now();
  ASSERT_OK(group_->primary().Kill());  // kill -9 of exactly the primary's PID

  int unavailable = 0;
  absl::Time resumed = absl::InfinitePast();
  std::string fresh;
  while (absl::Now() - killed < absl::Seconds(30)) {
    grpc::Status at_identity = CheckAtIdentity(admin_token_);
    grpc::Status at_scheduling = CheckAtScheduling(admin_token_);
    grpc::Status login = Login(&fresh);
    // Never a wrong allow: the revoked token and a made-up one are refused throughout.
    grpc::Status with_revoked = CheckAtScheduling(revoked);
    EXPECT_FALSE(with_revoked.ok()) << "a revoked session was accepted during the failover";
    EXPECT_FALSE(CheckAtIdentity("made-up-token").ok());
    EXPECT_OK_OR_UNAVAILABLE(at_identity, "identity session check");
    EXPECT_OK_OR_UNAVAILABLE(at_scheduling, "scheduling session check");
    EXPECT_OK_OR_UNAVAILABLE(login, "login");
    if (at_identity.ok() && at_scheduling.ok() && login.ok()) {
      resumed = absl::Now();
      break;
    }
    ++unavailable;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_NE(resumed, absl::InfinitePast()) << "sessions did not resume within 30 s of the kill";
  const absl::Duration took = resumed - killed;
  std::printf("sessions resumed %s after kill -9 of the Redis primary (down-after 1s)\n",
              absl::FormatDuration(took).c_str());
  RecordProperty("resume_ms", static_cast<int>(absl::ToInt64Milliseconds(took)));
  EXPECT_GT(unavailable, 0) << "the failover should have been visible as UNAVAILABLE";
  EXPECT_LT(took, kDocumentedResume);

  // The replica is the primary now, and the session from before the failover survived on it.
  RedisPool promoted(group_->AdminOptions(group_->replica()));
  ASSERT_OK_AND_ASSIGN(RedisReply role, promoted.Command({"ROLE"}));
  ASSERT_TRUE(role.is_array());
  EXPECT_EQ(role.elements().at(0).str(), "master");
  EXPECT_TRUE(CheckAtScheduling(admin_token_).ok());
  // A login after the failover works everywhere; the revoked session stays revoked.
  EXPECT_TRUE(CheckAtScheduling(fresh).ok());
  EXPECT_TRUE(CheckAtIdentity(fresh).ok());
  EXPECT_EQ(CheckAtScheduling(revoked).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace smp
