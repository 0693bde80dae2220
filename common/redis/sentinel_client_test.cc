#include "common/redis/sentinel_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/redis/testing/sentinel_group.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::RedisServer;
using ::smp::testing::SentinelGroup;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kUser[] = "smp";
constexpr char kPassword[] = "sentinel test password";

TEST(ParseSentinelAddressesTest, ListOfHostPorts) {
  ASSERT_OK_AND_ASSIGN(std::vector<RedisOptions> sentinels,
                       ParseSentinelAddresses("10.0.0.1:26380, sentinel-b,[::1]:5000,[::2]"));
  ASSERT_THAT(sentinels, SizeIs(4));
  EXPECT_EQ(sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(sentinels[0].port, 26380);
  EXPECT_EQ(sentinels[1].host, "sentinel-b");
  EXPECT_EQ(sentinels[1].port, 26379);  // Sentinel's port, not Redis'
  EXPECT_EQ(sentinels[2].host, "::1");
  EXPECT_EQ(sentinels[2].port, 5000);
  EXPECT_EQ(sentinels[3].port, 26379);
}

TEST(ParseSentinelAddressesTest, RejectsEmptyAndBadElements) {
  EXPECT_THAT(ParseSentinelAddresses(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSentinelAddresses("a:1,,b:2"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty element")));
  EXPECT_THAT(ParseSentinelAddresses("a:1,b:99999"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("b:99999")));
}

TEST(ParseAddressMapTest, MapsReportedToDialled) {
  ASSERT_OK_AND_ASSIGN(auto map, ParseAddressMap("10.0.0.5:6379=127.0.0.1:16379,"
                                                 "10.0.0.6:6379=127.0.0.1:16380"));
  EXPECT_EQ(map.at("10.0.0.5:6379"), "127.0.0.1:16379");
  EXPECT_EQ(map.at("10.0.0.6:6379"), "127.0.0.1:16380");
  ASSERT_OK_AND_ASSIGN(auto empty, ParseAddressMap(""));
  EXPECT_TRUE(empty.empty());
  EXPECT_THAT(ParseAddressMap("10.0.0.5:6379"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reported=dial")));
  EXPECT_THAT(ParseAddressMap("10.0.0.5:6379=host:0"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

class SentinelClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(group_, SentinelGroup::StartNew(kUser, kPassword)); }

  std::string PortOf(const RedisServer& server) const {
    return absl::StrCat("127.0.0.1:", server.port());
  }

  std::unique_ptr<SentinelGroup> group_;
};

TEST_F(SentinelClientTest, FindsThePrimaryThroughTheSentinels) {
  SentinelRedisClient client(group_->ClientOptions());
  EXPECT_EQ(client.primary_address(), "");
  ASSERT_OK(client.Command({"SET", "smp:k", "v"}).status());
  EXPECT_EQ(client.primary_address(), PortOf(group_->primary()));
  ASSERT_OK_AND_ASSIGN(RedisReply value, client.Command({"GET", "smp:k"}));
  EXPECT_EQ(value.str(), "v");
  EXPECT_EQ(client.primary_changes(), 1);
}

TEST_F(SentinelClientTest, UnknownMasterNameIsUnavailableNamingIt) {
  SentinelOptions options = group_->ClientOptions();
  options.master_name = "nosuch";
  SentinelRedisClient client(options);
  EXPECT_THAT(client.Command({"PING"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("does not know master")));
}

TEST_F(SentinelClientTest, WrongSentinelPasswordIsUnavailableSayingWrongpass) {
  SentinelOptions options = group_->ClientOptions();
  options.sentinel_password = "not it";
  SentinelRedisClient client(options);
  EXPECT_THAT(client.Command({"PING"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("WRONGPASS")));
}

TEST_F(SentinelClientTest, NoSentinelAnsweringFailsClosedAndBacksOff) {
  for (int i = 0; i < group_->sentinel_count(); ++i) ASSERT_OK(group_->sentinel(i).Stop());
  SentinelOptions options = group_->ClientOptions();
  options.min_backoff = absl::Seconds(30);
  SentinelRedisClient client(options);
  EXPECT_THAT(client.Command({"GET", "smp:k"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no primary")));
  // Within the backoff the error comes back without another round of connects.
  const absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_THAT(client.Command({"GET", "smp:k"}), StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
}

// kill -9 of the primary: calls fail with UNAVAILABLE (never a stale answer from the replica
// while it is not the primary) until the sentinels promote the replica, then go there.
TEST_F(SentinelClientTest, FollowsAFailoverAfterThePrimaryIsKilled) {
  SentinelRedisClient client(group_->ClientOptions());
  ASSERT_OK(client.Command({"SET", "smp:before", "1"}).status());
  // Replicated before the crash, so it survives it.
  ASSERT_OK_AND_ASSIGN(
      ReplicatedReplies acked,
      RunTransactionAndWait(client, {{"SET", "smp:acked", "1"}}, 1, absl::Seconds(1)));
  EXPECT_EQ(acked.replicas_acked, 1);

  const absl::Time killed = absl::Now();
  ASSERT_OK(group_->primary().Kill());
  absl::Time resumed = absl::InfinitePast();
  int failures = 0;
  while (absl::Now() - killed < absl::Seconds(20)) {
    absl::StatusOr<RedisReply> reply = client.Command({"INCR", "smp:counter"});
    if (reply.ok()) {
      resumed = absl::Now();
      break;
    }
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable));
    ++failures;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_NE(resumed, absl::InfinitePast()) << "no write succeeded within 20 s of the kill";
  EXPECT_GT(failures, 0);
  EXPECT_EQ(client.primary_address(), PortOf(group_->replica()));
  EXPECT_EQ(client.primary_changes(), 2);
  // down-after 1 s + the sentinels' election and promotion (~1-2 s) + our backoff (<= 0.5 s).
  EXPECT_LT(resumed - killed, absl::Seconds(8)) << absl::FormatDuration(resumed - killed);
  ASSERT_OK_AND_ASSIGN(RedisReply kept, client.Command({"GET", "smp:acked"}));
  EXPECT_EQ(kept.str(), "1");
}

// A manual failover demotes the primary without killing it: a write the old primary refuses
// with READONLY is repeated once on the new primary, so the caller sees success.
TEST_F(SentinelClientTest, AReadonlyAnswerMovesTheCallToTheNewPrimary) {
  SentinelOptions options = group_->ClientOptions();
  options.recheck_interval = absl::Hours(1);  // only the READONLY answer can move it
  SentinelRedisClient client(options);
  ASSERT_OK(client.Command({"SET", "smp:k", "1"}).status());
  ASSERT_EQ(client.primary_address(), PortOf(group_->primary()));

  RedisPool sentinel_admin(group_->AdminOptions(group_->sentinel(0)));
  ASSERT_OK(sentinel_admin.Command({"SENTINEL", "FAILOVER", "smp"}).status());
  ASSERT_OK(group_->WaitForPrimary(group_->replica().port(), absl::Seconds(20)));
  RedisPool old_primary(group_->AdminOptions(group_->primary()));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (true) {
    absl::StatusOr<RedisReply> role = old_primary.Command({"ROLE"});
    if (role.ok() && role->is_array() && !role->elements().empty() &&
        role->elements()[0].str() == "slave") {
      break;
    }
    ASSERT_LT(absl::Now(), deadline) << "old primary not demoted";
    absl::SleepFor(absl::Milliseconds(20));
  }

  EXPECT_OK(client.Command({"SET", "smp:k", "2"}).status());
  EXPECT_EQ(client.primary_address(), PortOf(group_->replica()));
  RedisPool new_primary(group_->AdminOptions(group_->replica()));
  ASSERT_OK_AND_ASSIGN(RedisReply value, new_primary.Command({"GET", "smp:k"}));
  EXPECT_EQ(value.str(), "2");
}

// Reads succeed on a demoted primary (a replica serves reads), so only the periodic re-check
// moves a read-only caller to the new primary.
TEST_F(SentinelClientTest, PeriodicRecheckFollowsAManualFailover) {
  SentinelOptions options = group_->ClientOptions();
  options.recheck_interval = absl::Milliseconds(200);
  SentinelRedisClient client(options);
  ASSERT_OK(client.Command({"GET", "smp:k"}).status());
  ASSERT_EQ(client.primary_address(), PortOf(group_->primary()));

  RedisPool sentinel_admin(group_->AdminOptions(group_->sentinel(1)));
  ASSERT_OK(sentinel_admin.Command({"SENTINEL", "FAILOVER", "smp"}).status());
  ASSERT_OK(group_->WaitForPrimary(group_->replica().port(), absl::Seconds(20)));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (client.primary_address() != PortOf(group_->replica())) {
    ASSERT_LT(absl::Now(), deadline) << "still on " << client.primary_address();
    ASSERT_OK(client.Command({"GET", "smp:k"}).status());
    absl::SleepFor(absl::Milliseconds(20));
  }
}

TEST(RunTransactionAndWaitTest, WithoutReplicasWaitAnswersZeroAfterTheTimeout) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> server, RedisServer::StartNew());
  RedisPool pool(server->options());
  ASSERT_OK_AND_ASSIGN(
      ReplicatedReplies done,
      RunTransactionAndWait(pool, {{"SET", "a", "1"}, {"INCR", "n"}}, 1, absl::Milliseconds(20)));
  EXPECT_EQ(done.replicas_acked, 0);
  ASSERT_THAT(done.replies, SizeIs(2));
  EXPECT_EQ(done.replies[1].integer(), 1);
  // The transaction stands on the primary whatever WAIT said.
  ASSERT_OK_AND_ASSIGN(RedisReply value, pool.Command({"GET", "a"}));
  EXPECT_EQ(value.str(), "1");
  // No WAIT at all when no replica is asked for.
  ASSERT_OK_AND_ASSIGN(ReplicatedReplies plain,
                       RunTransactionAndWait(pool, {{"INCR", "n"}}, 0, absl::Seconds(5)));
  EXPECT_EQ(plain.replicas_acked, 0);
  EXPECT_EQ(plain.replies[0].integer(), 2);
}

}  // namespace
}  // namespace smp
