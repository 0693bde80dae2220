#include "common/auth/login_limiter.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

TEST(AddressBucketTest, Ipv6ByItsSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(AddressBucket("ipv4:10.1.2.3:1"), "10.1.2.3");
  EXPECT_EQ(AddressBucket("ipv6:[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBucket("ipv6:%5B2001:db8:1:2::7%5D:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBucket("ipv6:[2001:db8:1:3::7]:443"), "2001:db8:1:3::/64");
  EXPECT_EQ(AddressBucket("ipv6:[::1]:1"), "::/64");
  EXPECT_EQ(AddressBucket("ipv6:[::ffff:192.0.2.7]:1"), "192.0.2.7");
  EXPECT_EQ(AddressBucket("ipv6:[fe80::1%25eth0]:1"), "fe80::/64");
  EXPECT_EQ(AddressBucket("unix:/run/smp.sock"), "unix:/run/smp.sock");
}

TEST(LoginDelayTest, FreeThenDoublingThenCapped) {
  LoginLimitPolicy policy;
  EXPECT_EQ(LoginDelay(policy, 0), absl::ZeroDuration());
  EXPECT_EQ(LoginDelay(policy, 4), absl::ZeroDuration());
  EXPECT_EQ(LoginDelay(policy, 5), absl::Seconds(1));
  EXPECT_EQ(LoginDelay(policy, 6), absl::Seconds(2));
  EXPECT_EQ(LoginDelay(policy, 10), absl::Seconds(32));
  EXPECT_EQ(LoginDelay(policy, 11), absl::Seconds(60));
  EXPECT_EQ(LoginDelay(policy, 1000000), absl::Seconds(60));
}

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

class LoginLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
    redis_ = std::make_unique<FaultInjectingRedisClient>(pool_.get());
    limiter_ = std::make_unique<LoginLimiter>(redis_.get(), LoginLimitPolicy(), clock_);
  }

  void Fail(LoginLimiter& limiter, const std::string& user, const std::string& address, int n,
            AccountLimit limit = AccountLimit::kApply) {
    for (int i = 0; i < n; ++i) ASSERT_OK(limiter.RecordFailure(user, address, limit));
  }

  FakeClock clock_{kStart};
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<FaultInjectingRedisClient> redis_;
  std::unique_ptr<LoginLimiter> limiter_;
};

TEST_F(LoginLimiterTest, AccountGetsGrowingDelaysNotALockout) {
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1000", 4);
  EXPECT_THAT(limiter_->CheckAllowed("alice", "ipv4:10.0.0.1:1000"), IsOk());
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1001", 1);
  // The 5th failure: the next attempt waits 1 s, from any address.
  EXPECT_THAT(limiter_->CheckAllowed("alice", "ipv4:10.0.0.9:1000"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "too many failed logins for this account; wait 1 second before trying "
                       "again"));
  // Usernames are compared case-insensitively; other accounts are unaffected.
  EXPECT_THAT(limiter_->CheckAllowed("ALICE", ""), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(limiter_->CheckAllowed("bob", "ipv4:10.0.0.1:1000"), IsOk());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(limiter_->CheckAllowed("alice", "ipv4:10.0.0.9:1000"), IsOk());

  // Each further failure doubles the wait: 2 s, 4 s, ... capped at 60 s. Never 15 minutes.
  Fail(*limiter_, "alice", "ipv4:10.0.0.9:1000", 1);
  EXPECT_THAT(
      limiter_->CheckAllowed("alice", ""),
      StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("wait 2 seconds")));
  Fail(*limiter_, "alice", "", 20);
  EXPECT_THAT(
      limiter_->CheckAllowed("alice", ""),
      StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("wait 60 seconds")));
  clock_.Advance(absl::Seconds(59));
  EXPECT_THAT(limiter_->CheckAllowed("alice", ""), StatusIs(absl::StatusCode::kResourceExhausted));
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(limiter_->CheckAllowed("alice", ""), IsOk());
}

TEST_F(LoginLimiterTest, ServiceAccountsAreExemptFromTheAccountLimitButNotTheAddressLimit) {
  // Anyone can guess svc.scheduling's name; their failures must not delay the service itself.
  Fail(*limiter_, "svc.scheduling", "ipv4:10.6.6.6:1", 15, AccountLimit::kExempt);
  EXPECT_THAT(limiter_->CheckAllowed("svc.scheduling", "ipv4:10.0.0.2:1", AccountLimit::kExempt),
              IsOk());
  // The guessing address is still held after its 20th failure.
  Fail(*limiter_, "svc.scheduling", "ipv4:10.6.6.6:1", 5, AccountLimit::kExempt);
  EXPECT_THAT(limiter_->CheckAllowed("svc.scheduling", "ipv4:10.6.6.6:2", AccountLimit::kExempt),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("this address")));
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

TEST_F(LoginLimiterTest, Ipv6AddressesAreLimitedPerSlash64) {
  // One client walking through the addresses of its own /64 is still one client.
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(limiter_->RecordFailure("user" + std::to_string(i),
                                      absl::StrCat("ipv6:[2001:db8:7:7::", i + 1, "]:443")));
  }
  EXPECT_THAT(limiter_->CheckAllowed("fresh-user", "ipv6:[2001:db8:7:7:ffff::1]:443"),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("this address")));
  EXPECT_THAT(limiter_->CheckAllowed("fresh-user", "ipv6:[2001:db8:7:8::1]:443"), IsOk());
}

TEST_F(LoginLimiterTest, SuccessClearsAccountButNotAddress) {
  LoginLimitPolicy policy;
  policy.free_failures_per_account = 3;
  policy.max_failures_per_address = 3;
  LoginLimiter limiter(redis_.get(), policy, clock_);
  Fail(limiter, "alice", "ipv4:10.0.0.1:1", 2);
  ASSERT_OK(limiter.RecordSuccess("Alice"));
  Fail(limiter, "alice", "ipv4:10.0.0.2:1", 2);
  EXPECT_THAT(limiter.CheckAllowed("alice", "ipv4:10.0.0.2:1"), IsOk());
  Fail(limiter, "carol", "ipv4:10.0.0.1:1", 1);
  EXPECT_THAT(limiter.CheckAllowed("dave", "ipv4:10.0.0.1:1"),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(LoginLimiterTest, AccountCountIsForgottenAfterQuietMemory) {
  Fail(*limiter_, "alice", "", 1);
  const std::string key = LoginLimiter::AccountKey("alice");
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, pool_->Command({"PTTL", key}));
  EXPECT_GT(ttl.integer(), absl::ToInt64Milliseconds(absl::Minutes(14)));
  ASSERT_OK(pool_->Command({"PEXPIRE", key, "60000"}).status());
  Fail(*limiter_, "alice", "", 1);
  // Each failure restarts the memory: an account under steady attack stays delayed.
  ASSERT_OK_AND_ASSIGN(RedisReply slid, pool_->Command({"PTTL", key}));
  EXPECT_GT(slid.integer(), absl::ToInt64Milliseconds(absl::Minutes(14)));
}

TEST_F(LoginLimiterTest, AddressWindowIsFixedFromFirstFailure) {
  Fail(*limiter_, "alice", "ipv4:10.0.0.1:1", 1);
  const std::string key = LoginLimiter::AddressKey("ipv4:10.0.0.1:1");
  ASSERT_OK(pool_->Command({"PEXPIRE", key, "60000"}).status());
  Fail(*limiter_, "bob", "ipv4:10.0.0.1:1", 1);
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, pool_->Command({"PTTL", key}));
  EXPECT_LE(ttl.integer(), 60000);
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
