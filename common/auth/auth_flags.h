#ifndef SMP_COMMON_AUTH_AUTH_FLAGS_H_
#define SMP_COMMON_AUTH_AUTH_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_mac.h"
#include "common/auth/session_store.h"
#include "common/redis/redis_client.h"

// Command-line flags for Redis, sessions and the authentication cache, shared by every service
// (each is also settable as the environment variable SMP_<UPPER_NAME>, e.g. SMP_REDIS):
//   --redis                 host:port of Redis (default 127.0.0.1:6379)
//   --redis_user            Redis ACL user (default "smp")
//   --redis_password_file   file with that user's password, mode 0600 (default none: no AUTH)
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
// --session_mac_key_file, --session_mac_previous_key_file (SessionMac::FromFiles); a missing
// flag or a bad file ends the process as above.
SessionMac SessionMacFromFlags();
SessionPolicy SessionPolicyFromFlags();        // positive timeouts
AuthCacheOptions AuthCacheOptionsFromFlags();  // not negative; 0 disables the cache

}  // namespace smp

#endif  // SMP_COMMON_AUTH_AUTH_FLAGS_H_
