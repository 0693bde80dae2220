#ifndef SMP_COMMON_AUTH_AUTHENTICATOR_H_
#define SMP_COMMON_AUTH_AUTHENTICATOR_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/auth/session_store.h"
#include "common/util/clock.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace smp {

// The in-process cache of successful authentications in front of Redis.
struct AuthCacheOptions {
  // How long a successful authentication is reused without asking Redis. This bounds how long a
  // token revoked in another process can still pass here (and how long this process rides out a
  // Redis outage for tokens it has just seen). Keep it < 1 s. Zero disables the cache.
  absl::Duration ttl = absl::Milliseconds(500);
  // At most this many tokens are cached; when full, expired entries are dropped, and if that is
  // not enough the whole cache is cleared (cheap, and rare at sane sizes).
  size_t max_entries = 10000;
  bool enabled = true;
};

// The Principal of a live session.
Principal ToPrincipal(const SessionRecord& record);

// Turns the `authorization: Bearer <token>` request metadata into a Principal, by SessionStore
// lookup behind a short-lived, bounded, positive-only in-process cache. Fails closed. A call with
// no authorization metadata whose mutual-TLS client certificate names a service is that service
// (service_certificate.h).
//
//   UNAUTHENTICATED  header missing or malformed, not Bearer, or the token unknown, expired or
//                    revoked (Redis said so; such answers are never cached)
//   UNAVAILABLE      Redis cannot answer and the cache holds nothing valid for the token
//   INTERNAL         Redis answered unexpectedly (see SessionStore)
//
// A cached entry lives min(ttl, until the session's current expiry). Looking up a token in Redis
// also slides its session, so a token used only through cache hits is still slid every ttl.
// Thread-safe; Redis is never called under the cache lock.
class Authenticator {
 public:
  // `store` must outlive the authenticator.
  Authenticator(SessionStore* store, AuthCacheOptions options, const Clock& clock);

  // Authenticates the caller of an RPC from its client metadata.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context);

  // The same, given the value of the authorization header; empty means it was absent.
  absl::StatusOr<Principal> AuthenticateHeader(absl::string_view authorization);

  // The same, given the bare token (e.g. a token passed in a request body).
  absl::StatusOr<Principal> AuthenticateToken(absl::string_view token);

  // The token of the caller's "authorization: Bearer <token>" header, or UNAUTHENTICATED.
  static absl::StatusOr<std::string> BearerToken(const grpc::ServerContextBase& context);

  // The token in an authorization header value: scheme "Bearer" (any case), one or more spaces,
  // then a token68 (RFC 7235: [A-Za-z0-9-._~+/]+ then '='*, at most 512 characters).
  // UNAUTHENTICATED, saying what is wrong, otherwise (including for an empty value).
  static absl::StatusOr<std::string> ParseBearerToken(absl::string_view authorization);

  // Drops `token` from this process's cache (after Logout here; other processes' caches expire).
  void Forget(absl::string_view token);

  // Drop cached entries of one session (after RevokeById here) or of one staff member (after
  // RevokeAllForStaff here).
  void ForgetSession(absl::string_view session_id);
  void ForgetStaff(absl::string_view staff_id);

  size_t cached_entries() const;

 private:
  struct Entry {
    Principal principal;
    absl::Time expires;
  };

  const AuthCacheOptions options_;
  SessionStore* const store_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_AUTHENTICATOR_H_
