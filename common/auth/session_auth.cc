#include "common/auth/session_auth.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "common/auth/auth_flags.h"
#include "common/util/clock.h"

namespace smp {

SessionAuth::SessionAuth()
    : redis_(RedisOptionsFromFlags()),
      sessions_(&redis_, SessionPolicyFromFlags(), Clock::Real()),
      authenticator_(&sessions_, AuthCacheOptionsFromFlags(), Clock::Real()) {}

std::string ReadBearerTokenFile(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return std::string(absl::StripAsciiWhitespace(token));
}

}  // namespace smp
