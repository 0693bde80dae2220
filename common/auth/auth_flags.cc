#include "common/auth/auth_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "common/auth/secret_file.h"
#include "common/server/log.h"

ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis server for login sessions and login rate limits, as host:port (IPv6 as "
          "[addr]:port). Every service of the suite must use the same Redis.");
ABSL_FLAG(std::string, redis_user, "smp",
          "Redis ACL user the service authenticates as (AUTH <user> <password>, on every "
          "connection) when --redis_password_file is set.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the password of --redis_user (one line; readable by its owner only, "
          "chmod 600). Empty: no AUTH is sent, for a Redis without access control.");
ABSL_FLAG(std::string, session_mac_key_file, "",
          "Required. File holding the key (32 or more random bytes, e.g. `head -c 32 "
          "/dev/urandom`; readable by its owner only) with which session records in Redis are "
          "signed and checked. Every service of the suite must have the same key.");
ABSL_FLAG(std::string, session_mac_previous_key_file, "",
          "During a rotation of the session MAC key: the previous key. Records it signed are still "
          "accepted; new ones are signed with --session_mac_key_file.");
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

// A secret that cannot be read is an operator's mistake, not a crash: one clear line, exit 1.
[[noreturn]] void DieBadSecret(absl::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  std::exit(1);
}

}  // namespace

RedisOptions RedisOptionsFromFlags() {
  absl::StatusOr<RedisOptions> options = ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!options.ok()) DieBadFlag("redis", std::string(options.status().message()));
  options->user = absl::GetFlag(FLAGS_redis_user);
  const std::string password_file = absl::GetFlag(FLAGS_redis_password_file);
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile("--redis_password_file", password_file, /*trim_trailing_newline=*/true);
    if (!password.ok()) DieBadSecret("cannot read the redis password", password.status());
    options->password = *std::move(password);
  }
  return *options;
}

SessionMac SessionMacFromFlags() {
  absl::StatusOr<SessionMac> mac =
      SessionMac::FromFiles(absl::GetFlag(FLAGS_session_mac_key_file),
                            absl::GetFlag(FLAGS_session_mac_previous_key_file));
  if (!mac.ok()) DieBadSecret("cannot read the session MAC key", mac.status());
  return *std::move(mac);
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
