#include "services/console/web_session.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/error_details.h"
#include "common/util/crypto.h"

namespace smp::console {

std::string CookieValue(absl::string_view cookie_header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    if (part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return "";
}

bool IsPlausibleBearerToken(absl::string_view token) {
  if (token.empty() || token.size() > 128) return false;
  for (char c : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string SessionSetCookie(absl::string_view token, absl::Duration max_age) {
  return absl::StrCat(kSessionCookieName, "=", token,
                      "; Path=/; Max-Age=", absl::ToInt64Seconds(max_age),
                      "; HttpOnly; Secure; SameSite=Strict");
}

std::string ClearedSessionSetCookie() {
  return absl::StrCat(kSessionCookieName,
                      "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
}

CsrfGuard::CsrfGuard(std::string key) : key_(std::move(key)) {
  if (key_.size() < 32) std::abort();
}

CsrfGuard CsrfGuard::WithRandomKey() { return CsrfGuard(RandomBytes(32)); }

std::string CsrfGuard::TokenFor(absl::string_view session_token) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  constexpr absl::string_view kContext = "smp-console-csrf-v1:";
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(kContext.data()),
                                kContext.size());
  crypto_auth_hmacsha256_update(
      &state, reinterpret_cast<const unsigned char*>(session_token.data()), session_token.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

bool CsrfGuard::Verify(absl::string_view session_token, absl::string_view presented) const {
  if (session_token.empty() || presented.empty()) return false;
  return ConstantTimeEquals(TokenFor(session_token), presented);
}

absl::Status CheckPost(const CsrfGuard& guard, const PostRequest& request) {
  absl::string_view media = request.content_type;
  media = absl::StripAsciiWhitespace(media.substr(0, media.find(';')));
  if (!absl::EqualsIgnoreCase(media, "application/json")) {
    return absl::InvalidArgumentError(
        "Content-Type: a POST to the console's API must be application/json");
  }
  if (!request.origin.empty()) {
    const std::string own = absl::StrCat(request.tls ? "https://" : "http://", request.host);
    if (!absl::EqualsIgnoreCase(request.origin, own)) {
      return WithErrorInfo(
          absl::PermissionDeniedError(absl::StrCat("a request from ", request.origin,
                                                   " was refused: the console accepts requests "
                                                   "only from its own pages (",
                                                   own, ")")),
          kReasonCrossOrigin);
    }
  }
  if (!request.session_token.empty() && !guard.Verify(request.session_token, request.csrf_token)) {
    return WithErrorInfo(
        absl::PermissionDeniedError(
            "the page's security token (X-CSRF-Token) is missing or does not belong to this "
            "session; reload the page"),
        kReasonCsrfTokenInvalid);
  }
  return absl::OkStatus();
}

}  // namespace smp::console
