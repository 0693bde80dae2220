#include "common/auth/auth_flags.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "common/redis/redis_pool.h"
#include "common/redis/sentinel_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(AuthFlagsTest, Defaults) {
  absl::FlagSaver saver;
  RedisOptions redis = RedisOptionsFromFlags();
  EXPECT_EQ(redis.host, "127.0.0.1");
  EXPECT_EQ(redis.port, 6379);
  EXPECT_EQ(redis.user, "smp");
  EXPECT_EQ(redis.password, "");
  SessionPolicy policy = SessionPolicyFromFlags();
  EXPECT_EQ(policy.idle_timeout, absl::Hours(8));
  EXPECT_EQ(policy.max_lifetime, absl::Hours(24));
  EXPECT_EQ(policy.refresh_granularity, absl::Minutes(1));
  AuthCacheOptions cache = AuthCacheOptionsFromFlags();
  EXPECT_TRUE(cache.enabled);
  EXPECT_EQ(cache.ttl, absl::Milliseconds(500));
}

TEST(AuthFlagsTest, SetValues) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_redis, "[::1]:7000");
  const std::string password_file = ::testing::TempDir() + "/auth-flags-redis-password";
  {
    std::ofstream out(password_file);
    out << "pw\n";
  }
  chmod(password_file.c_str(), 0600);
  absl::SetFlag(&FLAGS_redis_user, "svc");
  absl::SetFlag(&FLAGS_redis_password_file, password_file);
  absl::SetFlag(&FLAGS_session_idle_timeout, absl::Seconds(30));
  absl::SetFlag(&FLAGS_auth_cache_ttl, absl::ZeroDuration());
  RedisOptions redis = RedisOptionsFromFlags();
  EXPECT_EQ(redis.host, "::1");
  EXPECT_EQ(redis.port, 7000);
  EXPECT_EQ(redis.user, "svc");
  EXPECT_EQ(redis.password, "pw");
  SessionPolicy policy = SessionPolicyFromFlags();
  EXPECT_EQ(policy.idle_timeout, absl::Seconds(30));
  EXPECT_EQ(policy.refresh_granularity, absl::Seconds(3));
  EXPECT_FALSE(AuthCacheOptionsFromFlags().enabled);
}

TEST(AuthFlagsTest, SentinelFlags) {
  absl::FlagSaver saver;
  // Without sentinels: a pool on --redis, and no WAIT.
  EXPECT_EQ(SessionPolicyFromFlags().replicas_to_ack, 0);
  EXPECT_NE(dynamic_cast<RedisPool*>(RedisClientFromFlags().get()), nullptr);

  absl::SetFlag(&FLAGS_redis_sentinels, "10.0.0.1:26380,sentinel-b");
  absl::SetFlag(&FLAGS_redis_master_name, "clinics");
  absl::SetFlag(&FLAGS_redis_sentinel_address_map, "10.0.0.5:6379=127.0.0.1:16379");
  absl::SetFlag(&FLAGS_redis_wait_timeout, absl::Milliseconds(250));
  SentinelOptions options = SentinelOptionsFromFlags();
  ASSERT_EQ(options.sentinels.size(), 2u);
  EXPECT_EQ(options.sentinels[0].port, 26380);
  EXPECT_EQ(options.sentinels[1].host, "sentinel-b");
  EXPECT_EQ(options.sentinels[1].port, 26379);
  EXPECT_EQ(options.master_name, "clinics");
  EXPECT_EQ(options.address_map.at("10.0.0.5:6379"), "127.0.0.1:16379");
  EXPECT_EQ(options.redis.user, "smp");
  EXPECT_EQ(options.sentinel_password, "");
  EXPECT_NE(dynamic_cast<SentinelRedisClient*>(RedisClientFromFlags().get()), nullptr);
  SessionPolicy policy = SessionPolicyFromFlags();
  EXPECT_EQ(policy.replicas_to_ack, 1);
  EXPECT_EQ(policy.replica_ack_timeout, absl::Milliseconds(250));
}

TEST(AuthFlagsDeathTest, BadSentinelFlagsAbortWithTheFlagName) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_redis_sentinels, "a:1,,b:2");
  EXPECT_DEATH(SentinelOptionsFromFlags(), "invalid --redis_sentinels: .*empty element");
  absl::SetFlag(&FLAGS_redis_sentinels, "a:1");
  absl::SetFlag(&FLAGS_redis_sentinel_address_map, "nonsense");
  EXPECT_DEATH(SentinelOptionsFromFlags(), "invalid --redis_sentinel_address_map");
  absl::SetFlag(&FLAGS_redis_wait_replicas, -1);
  EXPECT_DEATH(SessionPolicyFromFlags(), "invalid --redis_wait_replicas");
  absl::SetFlag(&FLAGS_redis_sentinel_address_map, "");
  absl::SetFlag(&FLAGS_redis_sentinel_password_file, ::testing::TempDir() + "/no-such-file");
  EXPECT_EXIT(SentinelOptionsFromFlags(), ::testing::ExitedWithCode(1),
              "--redis_sentinel_password_file");
}

TEST(AuthFlagsDeathTest, BadValuesAbortWithTheFlagName) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_redis, "redis:notaport");
  EXPECT_DEATH(RedisOptionsFromFlags(), "invalid --redis: .*port must be a number");
  absl::SetFlag(&FLAGS_session_max_lifetime, absl::ZeroDuration());
  EXPECT_DEATH(SessionPolicyFromFlags(), "invalid --session_max_lifetime: must be positive");
  absl::SetFlag(&FLAGS_auth_cache_ttl, absl::Seconds(-1));
  EXPECT_DEATH(AuthCacheOptionsFromFlags(), "invalid --auth_cache_ttl");
}

TEST(AuthFlagsDeathTest, MissingSecretsEndTheProcessNamingTheFlag) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  absl::FlagSaver saver;
  EXPECT_EXIT(SessionMacFromFlags(), ::testing::ExitedWithCode(1),
              "--session_mac_key_file is required");
  absl::SetFlag(&FLAGS_redis_password_file, ::testing::TempDir() + "/auth-flags-no-such-file");
  EXPECT_EXIT(RedisOptionsFromFlags(), ::testing::ExitedWithCode(1), "--redis_password_file");
}

}  // namespace
}  // namespace smp
