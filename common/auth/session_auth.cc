#include "common/auth/session_auth.h"

#include <cstdlib>

#include "absl/flags/flag.h"
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
    : redis_(RedisClientFromFlags()),
      sessions_(redis_.get(), SessionPolicyFromFlags(), Clock::Real(), SessionMacFromFlags()),
      authenticator_(&sessions_, AuthCacheOptionsFromFlags(), Clock::Real()) {
  const RedisOptions options = RedisOptionsFromFlags();
  const std::string sentinels = absl::GetFlag(FLAGS_redis_sentinels);
  const std::string where = sentinels.empty()
                                ? absl::StrCat(options.host, ":", options.port)
                                : absl::StrCat("sentinels ", sentinels, " master ",
                                               absl::GetFlag(FLAGS_redis_master_name));
  if (options.password.empty()) {
    LogWarning("redis: no --redis_password_file; anyone who can reach Redis can read sessions",
               {{"redis", where}});
  }
  // Through the sentinels this also finds the primary and checks it with ROLE: a user without
  // +role is a credentials problem (NOPERM) and stops the service here.
  absl::Status ping = redis_->Command({"PING"}).status();
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
