#include "common/auth/auth_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/auth/secret_file.h"
#include "common/redis/redis_pool.h"
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
ABSL_FLAG(std::string, redis_sentinels, "",
          "Redis Sentinels as host:port,host:port,... (a bare host means port 26379). When set, "
          "the service uses the primary the sentinels name for --redis_master_name (checked "
          "with ROLE, so the Redis user needs +role) instead of --redis, and follows failovers.");
ABSL_FLAG(std::string, redis_master_name, "smp",
          "With --redis_sentinels: the name the sentinels monitor the Redis primary under.");
ABSL_FLAG(std::string, redis_sentinel_user, "smp",
          "With --redis_sentinels: the ACL user sent to the sentinels (AUTH <user> <password>) "
          "when --redis_sentinel_password_file is set.");
ABSL_FLAG(std::string, redis_sentinel_password_file, "",
          "With --redis_sentinels: file holding the password of --redis_sentinel_user on the "
          "sentinels (one line, chmod 600). Empty: no AUTH to the sentinels.");
ABSL_FLAG(std::string, redis_sentinel_address_map, "",
          "With --redis_sentinels: reported=dial,... (each host:port): dial `dial` when the "
          "sentinels name `reported`, e.g. the local TLS proxy in front of each Redis server.");
ABSL_FLAG(int32_t, redis_wait_replicas, 1,
          "With --redis_sentinels: logins and session revocations wait (Redis WAIT) until this "
          "many replicas have them, so a failover does not undo them; 0 does not wait.");
ABSL_FLAG(absl::Duration, redis_wait_timeout, absl::Milliseconds(100),
          "With --redis_sentinels: how long a login or revocation waits for "
          "--redis_wait_replicas; when it runs out the write stands on the primary and is "
          "logged as unconfirmed.");
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

SentinelOptions SentinelOptionsFromFlags() {
  SentinelOptions options;
  absl::StatusOr<std::vector<RedisOptions>> sentinels =
      ParseSentinelAddresses(absl::GetFlag(FLAGS_redis_sentinels));
  if (!sentinels.ok()) DieBadFlag("redis_sentinels", std::string(sentinels.status().message()));
  options.sentinels = *std::move(sentinels);
  options.master_name = absl::GetFlag(FLAGS_redis_master_name);
  if (options.master_name.empty()) DieBadFlag("redis_master_name", "must not be empty");
  absl::StatusOr<std::map<std::string, std::string>> address_map =
      ParseAddressMap(absl::GetFlag(FLAGS_redis_sentinel_address_map));
  if (!address_map.ok()) {
    DieBadFlag("redis_sentinel_address_map", std::string(address_map.status().message()));
  }
  options.address_map = *std::move(address_map);
  options.redis = RedisOptionsFromFlags();
  options.sentinel_user = absl::GetFlag(FLAGS_redis_sentinel_user);
  const std::string password_file = absl::GetFlag(FLAGS_redis_sentinel_password_file);
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile("--redis_sentinel_password_file", password_file,
                       /*trim_trailing_newline=*/true);
    if (!password.ok()) DieBadSecret("cannot read the redis sentinel password", password.status());
    options.sentinel_password = *std::move(password);
  }
  return options;
}

std::unique_ptr<RedisClient> RedisClientFromFlags() {
  if (absl::GetFlag(FLAGS_redis_sentinels).empty()) {
    return std::make_unique<RedisPool>(RedisOptionsFromFlags());
  }
  return std::make_unique<SentinelRedisClient>(SentinelOptionsFromFlags());
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
  if (!absl::GetFlag(FLAGS_redis_sentinels).empty()) {
    policy.replicas_to_ack = absl::GetFlag(FLAGS_redis_wait_replicas);
    policy.replica_ack_timeout = absl::GetFlag(FLAGS_redis_wait_timeout);
    if (policy.replicas_to_ack < 0) {
      DieBadFlag("redis_wait_replicas",
                 absl::StrCat("must not be negative, got ", policy.replicas_to_ack));
    }
    if (policy.replica_ack_timeout <= absl::ZeroDuration()) {
      DieBadFlag("redis_wait_timeout",
                 "must be positive, got " + absl::FormatDuration(policy.replica_ack_timeout));
    }
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
