#ifndef SMP_SERVICES_CONSOLE_WEB_SESSION_H_
#define SMP_SERVICES_CONSOLE_WEB_SESSION_H_

// The browser side of a session, as the console gateway keeps it: the bearer token identity
// issued at Login lives only in an HttpOnly cookie (page scripts never see it), and every
// state-changing request proves it comes from the console's own pages with a CSRF token bound to
// that session. Pure functions and a small class with no I/O, so tests call them directly.
//
//  - Cookie: `__Host-smp_session=<token>; Path=/; Max-Age=<lifetime>; HttpOnly; Secure;
//    SameSite=Strict`. The __Host- prefix makes browsers refuse it without Secure, with a Domain
//    or another Path, so no sibling host can plant or shadow it. Browsers treat http://127.0.0.1
//    and http://localhost as secure, so the same cookie works in loopback development.
//  - CSRF: the token is HMAC-SHA256(gateway key, session token), base64url: bound to the session
//    (useless with another cookie), stateless (the gateway stores nothing) and unguessable without
//    the key. Pages get it from /api/login or /api/session and send it in `X-CSRF-Token` on every
//    POST; a POST that carries the cookie without the matching token is refused before any call.
//  - Every POST must be `Content-Type: application/json` (a cross-site form cannot send that
//    without a CORS preflight, which the gateway never grants) and, when the browser sends
//    `Origin`, come from the gateway's own origin. Login has no session yet, so these two are its
//    guard against cross-site login.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smp::console {

inline constexpr char kSessionCookieName[] = "__Host-smp_session";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";
// ErrorInfo reasons the gateway itself answers with (domain smp-suite).
inline constexpr char kReasonCsrfTokenInvalid[] = "CSRF_TOKEN_INVALID";
inline constexpr char kReasonCrossOrigin[] = "CROSS_ORIGIN_REQUEST";

// The value of cookie `name` in a `Cookie` request header ("a=1; b=2"); "" when absent.
std::string CookieValue(absl::string_view cookie_header, absl::string_view name);

// True when `token` can be a bearer token identity issued (1..128 characters of base64url), so
// that nothing else is ever put into an `authorization` header.
bool IsPlausibleBearerToken(absl::string_view token);

// The Set-Cookie value that holds `token` for `max_age`.
std::string SessionSetCookie(absl::string_view token, absl::Duration max_age);
// The Set-Cookie value that deletes the session cookie.
std::string ClearedSessionSetCookie();

// CSRF tokens bound to sessions.
class CsrfGuard {
 public:
  // `key`: 32 or more secret bytes (shorter keys are a programming error and abort).
  explicit CsrfGuard(std::string key);
  // A guard with a fresh random key (tokens of a restarted gateway no longer verify; pages then
  // fetch a new one from /api/session).
  static CsrfGuard WithRandomKey();

  // The token for the session whose bearer token is `session_token`.
  std::string TokenFor(absl::string_view session_token) const;
  // True when `presented` is TokenFor(session_token) (compared in constant time).
  bool Verify(absl::string_view session_token, absl::string_view presented) const;

 private:
  std::string key_;
};

// What a POST's checks look at.
struct PostRequest {
  std::string content_type;   // the Content-Type header
  std::string origin;         // the Origin header; "" when the browser sent none
  std::string host;           // the Host header
  bool tls = false;           // served over TLS (the origin's scheme is https)
  std::string session_token;  // from the session cookie; "" without one
  std::string csrf_token;     // the X-CSRF-Token header
};

// OK when a POST may be forwarded. INVALID_ARGUMENT when it is not JSON; PERMISSION_DENIED with
// reason CROSS_ORIGIN_REQUEST when Origin names another origin, or with CSRF_TOKEN_INVALID when it
// carries a session cookie without that session's CSRF token.
absl::Status CheckPost(const CsrfGuard& guard, const PostRequest& request);

}  // namespace smp::console

#endif  // SMP_SERVICES_CONSOLE_WEB_SESSION_H_
