#ifndef SMP_COMMON_AUTH_SESSION_AUTH_H_
#define SMP_COMMON_AUTH_SESSION_AUTH_H_

#include <memory>
#include <string>

#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/redis/redis_client.h"

namespace smp {

// What every service wires to check sessions: the Redis client (a pool on --redis, or the
// primary the sentinels of --redis_sentinels name), the session store on it and the caching
// authenticator in front, configured from the auth flags (--redis*, --session_*,
// --auth_cache_ttl). Build one in main() and pass its parts to the service.
//
// Start-up checks (each a JSON log line; the first two end the process with status 1): the
// session MAC key file is missing or unreadable; Redis refuses the credentials (wrong password,
// none sent, user lacking rights). Redis merely unreachable is a warning: sessions fail closed
// until it is back, and health does not depend on it.
class SessionAuth {
 public:
  SessionAuth();

  RedisClient& redis() { return *redis_; }
  SessionStore& sessions() { return sessions_; }
  Authenticator& authenticator() { return authenticator_; }

 private:
  std::unique_ptr<RedisClient> redis_;
  SessionStore sessions_;
  Authenticator authenticator_;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_SESSION_AUTH_H_
