#include "common/auth/auth_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"

ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis server for login sessions and login rate limits, as host:port (IPv6 as "
          "[addr]:port). Every service of the suite must use the same Redis.");
ABSL_FLAG(std::string, redis_password, "",
          "Password sent with AUTH to the --redis server; empty sends none. Prefer the "
          "SMP_REDIS_PASSWORD environment variable: command lines are visible to other users.");
ABSL_FLAG(absl::Duration, session_idle_timeout, absl::Hours(8),
          "A login session ends when unused for this long (sliding; e.g. 30m, 8h). Used by the "
          "service that creates sessions (identity).");
ABSL_FLAG(absl::Duration, session_max_lifetime, absl::Hours(24),
          "A login session ends this long after login however often it is used (e.g. 24h).");
ABSL_FLAG(absl::Duration, auth_cache_ttl, absl::Milliseconds(500),
          "How long a service trusts a checked bearer token without asking Redis again. Bounds "
          "how long a revoked token still works in other processes; keep it under 1s. 0 disables "
          "the cache (every request reads Redis).");

namespace smp {
namespace {

[[noreturn]] void DieBadFlag(const char* flag, const std::string& problem) {
  std::fprintf(stderr, "invalid --%s: %s\n", flag, problem.c_str());
  std::abort();
}

}  // namespace

RedisOptions RedisOptionsFromFlags() {
  absl::StatusOr<RedisOptions> options = ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!options.ok()) DieBadFlag("redis", std::string(options.status().message()));
  options->password = absl::GetFlag(FLAGS_redis_password);
  return *options;
}

SessionPolicy SessionPolicyFromFlags() {
  SessionPolicy policy;
  policy.idle_timeout = absl::GetFlag(FLAGS_session_idle_timeout);
  policy.max_lifetime = absl::GetFlag(FLAGS_session_max_lifetime);
  if (policy.idle_timeout <= absl::ZeroDuration()) {
    DieBadFlag("session_idle_timeout",
               "must be positive, got " + absl::FormatDuration(policy.idle_timeout));
  }
  if (policy.max_lifetime <= absl::ZeroDuration()) {
    DieBadFlag("session_max_lifetime",
               "must be positive, got " + absl::FormatDuration(policy.max_lifetime));
  }
  // Short idle timeouts (tests, demos) need finer refreshes than the one-minute default.
  policy.refresh_granularity = std::min(policy.refresh_granularity, policy.idle_timeout / 10);
  return policy;
}

AuthCacheOptions AuthCacheOptionsFromFlags() {
  AuthCacheOptions options;
  options.ttl = absl::GetFlag(FLAGS_auth_cache_ttl);
  if (options.ttl < absl::ZeroDuration()) {
    DieBadFlag("auth_cache_ttl", "must not be negative, got " + absl::FormatDuration(options.ttl));
  }
  options.enabled = options.ttl > absl::ZeroDuration();
  return options;
}

}  // namespace smp
