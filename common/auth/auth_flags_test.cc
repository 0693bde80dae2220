#include "common/auth/auth_flags.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
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
