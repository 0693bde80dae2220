#ifndef SMP_COMMON_AUTH_AUTH_FLAGS_H_
#define SMP_COMMON_AUTH_AUTH_FLAGS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_mac.h"
#include "common/auth/session_store.h"
#include "common/redis/redis_client.h"
#include "common/redis/sentinel_client.h"

// Command-line flags for Redis, sessions and the authentication cache, shared by every service
// (each is also settable as the environment variable SMP_<UPPER_NAME>, e.g. SMP_REDIS):
//   --redis                 host:port of Redis (default 127.0.0.1:6379)
//   --redis_user            Redis ACL user (default "smp")
//   --redis_password_file   file with that user's password, mode 0600 (default none: no AUTH)
//   --redis_sentinels       host:port,... of Redis Sentinels; when set, the primary they name
//                           is used instead of --redis (default none)
//   --redis_master_name     the name the sentinels monitor the primary under (default "smp")
//   --redis_sentinel_user, --redis_sentinel_password_file   AUTH to the sentinels (default
//                           user "smp", no password file: no AUTH)
//   --redis_sentinel_address_map  reported=dial,... addresses to dial instead of those the
//                           sentinels report (local TLS proxies); default none
//   --redis_wait_replicas, --redis_wait_timeout  with sentinels, logins and revocations wait
//                           for this many replicas for at most this long (default 1, 100ms)
//   --session_mac_key_file  the key (32+ random bytes, mode 0600) signing session records;
//                           required by every service
//   --session_mac_previous_key_file  the key before the last rotation; records it signed still
//                           verify (default none)
//   --session_idle_timeout  sliding idle timeout of login sessions (default 8h)
//   --session_max_lifetime  absolute lifetime of login sessions (default 24h)
//   --auth_cache_ttl        how long a checked token is trusted without asking Redis (500ms; 0 off)
// The flags are defined in auth_flags.cc, which a binary links by calling any function below.
ABSL_DECLARE_FLAG(std::string, redis);
ABSL_DECLARE_FLAG(std::string, redis_user);
ABSL_DECLARE_FLAG(std::string, redis_password_file);
ABSL_DECLARE_FLAG(std::string, redis_sentinels);
ABSL_DECLARE_FLAG(std::string, redis_master_name);
ABSL_DECLARE_FLAG(std::string, redis_sentinel_user);
ABSL_DECLARE_FLAG(std::string, redis_sentinel_password_file);
ABSL_DECLARE_FLAG(std::string, redis_sentinel_address_map);
ABSL_DECLARE_FLAG(int32_t, redis_wait_replicas);
ABSL_DECLARE_FLAG(absl::Duration, redis_wait_timeout);
ABSL_DECLARE_FLAG(std::string, session_mac_key_file);
ABSL_DECLARE_FLAG(std::string, session_mac_previous_key_file);
ABSL_DECLARE_FLAG(absl::Duration, session_idle_timeout);
ABSL_DECLARE_FLAG(absl::Duration, session_max_lifetime);
ABSL_DECLARE_FLAG(absl::Duration, auth_cache_ttl);

namespace smp {

// The flags as options. Each exits the process (abort, with a message naming the flag) on a bad
// value: configuration errors are found at start-up, not on the first request.
// --redis, --redis_user, --redis_password_file. A password file that cannot be read (missing,
// readable by group or others, empty) ends the process with a JSON log line naming the flag and
// the file, never the password (exit status 1).
RedisOptions RedisOptionsFromFlags();
// --redis_sentinels and the other sentinel flags, with RedisOptionsFromFlags() (credentials,
// timeouts) as the template of connections to the primary. Ends the process like the above on a
// bad value; only meaningful when --redis_sentinels is set.
SentinelOptions SentinelOptionsFromFlags();
// The client every service talks to Redis through: a SentinelRedisClient when --redis_sentinels
// is set, else a RedisPool on --redis.
std::unique_ptr<RedisClient> RedisClientFromFlags();
// --session_mac_key_file, --session_mac_previous_key_file (SessionMac::FromFiles); a missing
// flag or a bad file ends the process as above.
SessionMac SessionMacFromFlags();
// Positive timeouts; with --redis_sentinels, replicas_to_ack from --redis_wait_replicas (>= 0)
// and --redis_wait_timeout (> 0); without, no WAIT.
SessionPolicy SessionPolicyFromFlags();
AuthCacheOptions AuthCacheOptionsFromFlags();  // not negative; 0 disables the cache

}  // namespace smp

#endif  // SMP_COMMON_AUTH_AUTH_FLAGS_H_
