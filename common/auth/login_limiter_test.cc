#include "common/auth/login_limiter.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/fault_injecting_redis_client.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::FaultInjectingRedisClient;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StatusIs;

TEST(ClientIpTest, StripsSchemeAndPort) {
  EXPECT_EQ(ClientIp("ipv4:127.0.0.1:5312"), "127.0.0.1");
  EXPECT_EQ(ClientIp("ipv4:10.1.2.3:1"), "10.1.2.3");
  EXPECT_EQ(ClientIp("ipv6:[::1]:5312"), "::1");
  EXPECT_EQ(ClientIp("ipv6:%5B2001:db8::7%5D:443"), "2001:db8::7");
  EXPECT_EQ(ClientIp("unix:/run/smp.sock"), "unix:/run/smp.sock");
  EXPECT_EQ(ClientIp(""), "");
}

class LoginLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
    redis_ = std::make_unique<FaultInjectingRedisClient>(pool_.get());
    limiter_ = std::make_unique<LoginLimiter>(redis_.get(), LoginLimitPolicy());
  }

  void Fail(LoginLimiter& limiter, const std::string& user, const std::string& address, int n) {
    for (int i = 0; i < n; ++i) ASSERT_OK(limiter.RecordFailure(user, address));
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<FaultInjectingRedisClient> redis_;
  std::unique_ptr<LoginLimiter> limiter_;
};

TEST_F(LoginLimiterTest, LocksAccountAfterMaxFailures) {
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1000", 4);
  EXPECT_THAT(limiter_->CheckAllowed("alice", "ipv4:10.0.0.1:1000"), IsOk());
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1001", 1);
  const absl::Status locked = limiter_->CheckAllowed("alice", "ipv4:10.0.0.9:1000");
  EXPECT_THAT(locked, StatusIs(absl::StatusCode::kResourceExhausted,
                               "too many failed logins for this account; try again in 15 "
                               "minutes"));
  // Usernames are compared case-insensitively; other accounts are unaffected.
  EXPECT_THAT(limiter_->CheckAllowed("ALICE", ""), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(limiter_->CheckAllowed("bob", "ipv4:10.0.0.1:1000"), IsOk());
}

TEST_F(LoginLimiterTest, LocksAddressAcrossUsernamesAndPorts) {
  for (int i = 0; i < 20; ++i) {
    const std::string peer = "ipv4:10.0.0.1:" + std::to_string(40000 + i);
    ASSERT_OK(limiter_->CheckAllowed("user" + std::to_string(i), peer));
    ASSERT_OK(limiter_->RecordFailure("user" + std::to_string(i), peer));
  }
  EXPECT_THAT(limiter_->CheckAllowed("fresh-user", "ipv4:10.0.0.1:50000"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "too many failed logins from this address; try again in 15 minutes"));
  EXPECT_THAT(limiter_->CheckAllowed("fresh-user", "ipv4:10.0.0.2:50000"), IsOk());
  EXPECT_THAT(limiter_->CheckAllowed("fresh-user", ""), IsOk());
}

TEST_F(LoginLimiterTest, SuccessClearsAccountButNotAddress) {
  LoginLimitPolicy policy;
  policy.max_failures_per_account = 3;
  policy.max_failures_per_address = 3;
  LoginLimiter limiter(redis_.get(), policy);
  Fail(limiter, "alice", "ipv4:10.0.0.1:1", 2);
  ASSERT_OK(limiter.RecordSuccess("Alice"));
  Fail(limiter, "alice", "ipv4:10.0.0.2:1", 2);
  EXPECT_THAT(limiter.CheckAllowed("alice", "ipv4:10.0.0.2:1"), IsOk());
  Fail(limiter, "carol", "ipv4:10.0.0.1:1", 1);
  EXPECT_THAT(limiter.CheckAllowed("dave", "ipv4:10.0.0.1:1"),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(LoginLimiterTest, FixedWindowFromFirstFailure) {
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1", 1);
  const std::string key = LoginLimiter::AccountKey("alice");
  ASSERT_OK_AND_ASSIGN(RedisReply first_ttl, pool_->Command({"PTTL", key}));
  EXPECT_GT(first_ttl.integer(), absl::ToInt64Milliseconds(absl::Minutes(14)));
  ASSERT_OK(pool_->Command({"PEXPIRE", key, "60000"}).status());
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1", 1);
  // A later failure does not restart the window.
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, pool_->Command({"PTTL", key}));
  EXPECT_LE(ttl.integer(), 60000);
}

TEST_F(LoginLimiterTest, CounterWithoutExpiryIsHealed) {
  const std::string key = LoginLimiter::AccountKey("alice");
  ASSERT_OK(pool_->Command({"SET", key, "2"}).status());  // e.g. left by an older version
  Fail(*limiter_, "alice", "", 1);
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, pool_->Command({"PTTL", key}));
  EXPECT_GT(ttl.integer(), 0);
  ASSERT_OK_AND_ASSIGN(RedisReply count, pool_->Command({"INCRBY", key, "0"}));
  EXPECT_EQ(count.integer(), 3);
}

TEST_F(LoginLimiterTest, UnlocksWhenTheWindowEnds) {
  LoginLimitPolicy policy;
  policy.window = absl::Seconds(1);  // long enough for a loaded test machine
  LoginLimiter limiter(redis_.get(), policy);
  Fail(limiter, "alice", "ipv4:10.0.0.1:1", 5);
  EXPECT_THAT(limiter.CheckAllowed("alice", ""), StatusIs(absl::StatusCode::kResourceExhausted,
                                                          "too many failed logins for this "
                                                          "account; try again in 1 minute"));
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_THAT(limiter.CheckAllowed("alice", "ipv4:10.0.0.1:1"), IsOk());
}

TEST_F(LoginLimiterTest, RedisDownIsUnavailable) {
  redis_->set_down(true);
  EXPECT_THAT(limiter_->CheckAllowed("alice", "ipv4:10.0.0.1:1"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(limiter_->RecordFailure("alice", "ipv4:10.0.0.1:1"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(limiter_->RecordSuccess("alice"), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace smp
