#include "common/redis/redis_client.h"

#include "absl/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseRedisAddressTest, HostAndPort) {
  ASSERT_OK_AND_ASSIGN(RedisOptions options, ParseRedisAddress("127.0.0.1:6380"));
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 6380);
  EXPECT_TRUE(options.password.empty());
  EXPECT_EQ(options.max_idle_connections, RedisOptions().max_idle_connections);
}

TEST(ParseRedisAddressTest, HostNameAndBareHost) {
  ASSERT_OK_AND_ASSIGN(RedisOptions named, ParseRedisAddress("redis.internal:7000"));
  EXPECT_EQ(named.host, "redis.internal");
  EXPECT_EQ(named.port, 7000);
  ASSERT_OK_AND_ASSIGN(RedisOptions bare, ParseRedisAddress("localhost"));
  EXPECT_EQ(bare.host, "localhost");
  EXPECT_EQ(bare.port, 6379);
}

TEST(ParseRedisAddressTest, Ipv6) {
  ASSERT_OK_AND_ASSIGN(RedisOptions options, ParseRedisAddress("[::1]:6381"));
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 6381);
  ASSERT_OK_AND_ASSIGN(RedisOptions bare, ParseRedisAddress("[::1]"));
  EXPECT_EQ(bare.port, 6379);
}

TEST(ParseRedisAddressTest, RejectsBadInput) {
  for (absl::string_view bad : {"", ":6379", "host:", "host:0", "host:65536", "host:12x", "host:-1",
                                "::1:6379", "[::1", "[::1]x", "[]:6379", "[::1]:"}) {
    EXPECT_THAT(ParseRedisAddress(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << "input: \"" << bad << "\"";
  }
  EXPECT_THAT(ParseRedisAddress("host:99999"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..65535")));
}

TEST(RedisReplyTest, TypesAndAccessors) {
  EXPECT_TRUE(RedisReply().is_nil());
  EXPECT_TRUE(RedisReply::Integer(7).is_integer());
  EXPECT_EQ(RedisReply::Integer(7).integer(), 7);
  EXPECT_TRUE(RedisReply::String("x").is_string());
  EXPECT_FALSE(RedisReply::String("x").is_status());
  EXPECT_TRUE(RedisReply::Status("OK").is_string());
  EXPECT_TRUE(RedisReply::Status("OK").is_status());
  EXPECT_EQ(RedisReply::Status("OK").str(), "OK");
  EXPECT_TRUE(RedisReply::Error("ERR no").is_error());
  EXPECT_FALSE(RedisReply::Error("ERR no").is_string());
  RedisReply array =
      RedisReply::Array({RedisReply::String("a"), RedisReply(), RedisReply::Integer(3)});
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.elements().size(), 3u);
  EXPECT_EQ(array.elements()[0].str(), "a");
  EXPECT_EQ(array.DebugString(), "[\"a\", (nil), 3]");
  // Wrong-type accessors give zero values.
  EXPECT_EQ(RedisReply::String("x").integer(), 0);
  EXPECT_TRUE(RedisReply::Integer(1).elements().empty());
}

}  // namespace
}  // namespace smp
