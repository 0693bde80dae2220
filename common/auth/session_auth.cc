#include "common/auth/session_auth.h"

#include "common/auth/auth_flags.h"
#include "common/util/clock.h"

namespace smp {

SessionAuth::SessionAuth()
    : redis_(RedisOptionsFromFlags()),
      sessions_(&redis_, SessionPolicyFromFlags(), Clock::Real()),
      authenticator_(&sessions_, AuthCacheOptionsFromFlags(), Clock::Real()) {}

}  // namespace smp
