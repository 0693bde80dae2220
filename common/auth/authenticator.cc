#include "common/auth/authenticator.h"

#include <grpcpp/server_context.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/auth/service_certificate.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

constexpr size_t kMaxTokenLength = 512;

bool IsToken68Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

}  // namespace

Principal ToPrincipal(const SessionRecord& record) {
  Principal principal;
  principal.staff_id = record.staff_id;
  principal.session_id = record.session_id;
  principal.username = record.username;
  principal.roles = record.roles;
  principal.clinic_ids = record.clinic_ids;
  principal.authenticated = true;
  return principal;
}

Authenticator::Authenticator(SessionStore* store, AuthCacheOptions options, const Clock& clock)
    : options_(options), store_(store), clock_(clock) {}

absl::StatusOr<std::string> Authenticator::ParseBearerToken(absl::string_view authorization) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing authorization metadata; expected \"authorization: Bearer <token>\"");
  }
  size_t space = authorization.find(' ');
  absl::string_view scheme = authorization.substr(0, space);
  if (!absl::EqualsIgnoreCase(scheme, "Bearer")) {
    return absl::UnauthenticatedError("authorization scheme must be Bearer");
  }
  absl::string_view token =
      space == absl::string_view::npos ? absl::string_view() : authorization.substr(space);
  while (absl::ConsumePrefix(&token, " ")) {
  }
  if (token.empty()) return absl::UnauthenticatedError("authorization: Bearer token is empty");
  size_t chars = 0;
  while (chars < token.size() && IsToken68Char(token[chars])) ++chars;
  size_t padding = chars;
  while (padding < token.size() && token[padding] == '=') ++padding;
  if (chars == 0 || padding != token.size() || token.size() > kMaxTokenLength) {
    return absl::UnauthenticatedError("authorization: Bearer token is malformed");
  }
  return std::string(token);
}

absl::StatusOr<std::string> Authenticator::BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first == last) return ParseBearerToken("");
  if (std::next(first) != last) {
    return absl::UnauthenticatedError("more than one authorization metadata entry");
  }
  return ParseBearerToken(absl::string_view(first->second.data(), first->second.size()));
}

absl::StatusOr<Principal> Authenticator::Authenticate(const grpc::ServerContextBase& context) {
  // No token over mutual TLS from a service's verified certificate: that service.
  if (context.client_metadata().count("authorization") == 0) {
    if (std::optional<std::string> service = ServiceOfPeer(context.auth_context().get())) {
      return ServicePrincipal(*service);
    }
  }
  ASSIGN_OR_RETURN(std::string token, BearerToken(context));
  return AuthenticateToken(token);
}

absl::StatusOr<Principal> Authenticator::AuthenticateHeader(absl::string_view authorization) {
  ASSIGN_OR_RETURN(std::string token, ParseBearerToken(authorization));
  return AuthenticateToken(token);
}

absl::StatusOr<Principal> Authenticator::AuthenticateToken(absl::string_view token) {
  if (token.empty()) return ParseBearerToken("").status();
  const bool caching = options_.enabled && options_.ttl > absl::ZeroDuration();
  if (caching) {
    const absl::Time now = clock_.Now();
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      if (now < it->second.expires) return it->second.principal;
      cache_.erase(it);
    }
  }

  // Errors (including UNAVAILABLE) pass through: never fall back to a stale entry.
  ASSIGN_OR_RETURN(SessionRecord record, store_->Lookup(token));
  Principal principal = ToPrincipal(record);
  if (caching && options_.max_entries > 0) {
    const absl::Time now = clock_.Now();
    const absl::Time expires = std::min(now + options_.ttl, record.expire_time);
    absl::MutexLock lock(&mu_);
    if (cache_.size() >= options_.max_entries) {
      absl::erase_if(cache_, [now](const auto& item) { return item.second.expires <= now; });
      if (cache_.size() >= options_.max_entries) cache_.clear();
    }
    cache_.insert_or_assign(std::string(token), Entry{principal, expires});
  }
  return principal;
}

void Authenticator::Forget(absl::string_view token) {
  absl::MutexLock lock(&mu_);
  cache_.erase(token);
}

void Authenticator::ForgetSession(absl::string_view session_id) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(cache_, [session_id](const auto& item) {
    return item.second.principal.session_id == session_id;
  });
}

void Authenticator::ForgetStaff(absl::string_view staff_id) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(
      cache_, [staff_id](const auto& item) { return item.second.principal.staff_id == staff_id; });
}

size_t Authenticator::cached_entries() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

}  // namespace smp
