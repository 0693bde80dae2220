#include "common/auth/session_auth.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/auth_flags.h"
#include "common/server/log.h"
#include "common/util/clock.h"

namespace smp {

namespace {

bool IsCredentialsProblem(const absl::Status& status) {
  for (absl::string_view code : {"WRONGPASS", "NOAUTH", "NOPERM"}) {
    if (absl::StrContains(status.message(), code)) return true;
  }
  return false;
}

}  // namespace

SessionAuth::SessionAuth()
    : redis_(RedisOptionsFromFlags()),
      sessions_(&redis_, SessionPolicyFromFlags(), Clock::Real(), SessionMacFromFlags()),
      authenticator_(&sessions_, AuthCacheOptionsFromFlags(), Clock::Real()) {
  if (redis_.options().password.empty()) {
    LogWarning("redis: no --redis_password_file; anyone who can reach Redis can read sessions",
               {{"redis", absl::StrCat(redis_.options().host, ":", redis_.options().port)}});
  }
  absl::Status ping = redis_.Command({"PING"}).status();
  if (IsCredentialsProblem(ping)) {
    LogError("redis refused this service's credentials", {{"error", ping.ToString()}});
    std::exit(1);
  }
  if (!ping.ok()) {
    LogWarning("redis is not reachable at start; authenticated calls fail until it is",
               {{"error", ping.ToString()}});
  }
}

}  // namespace smp
