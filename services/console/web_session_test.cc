#include "services/console/web_session.h"

#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::console {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CookieValueTest, FindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("a=1; __Host-smp_session=tok; b=2", kSessionCookieName), "tok");
  EXPECT_EQ(CookieValue("__Host-smp_session=tok", kSessionCookieName), "tok");
  EXPECT_EQ(CookieValue("x__Host-smp_session=evil; other=1", kSessionCookieName), "");
  EXPECT_EQ(CookieValue("smp_session=plain", kSessionCookieName), "");
  EXPECT_EQ(CookieValue("", kSessionCookieName), "");
  EXPECT_EQ(CookieValue("garbage;;=;", kSessionCookieName), "");
}

TEST(BearerTokenTest, OnlyBase64UrlOfSaneLengthIsPassedOn) {
  EXPECT_TRUE(IsPlausibleBearerToken("abcDEF012-_"));
  EXPECT_FALSE(IsPlausibleBearerToken(""));
  EXPECT_FALSE(IsPlausibleBearerToken("tok\r\nx-evil: 1"));
  EXPECT_FALSE(IsPlausibleBearerToken("a b"));
  EXPECT_FALSE(IsPlausibleBearerToken(std::string(129, 'a')));
}

TEST(SessionCookieTest, IsHttpOnlySecureStrictAndHostBound) {
  const std::string cookie = SessionSetCookie("TOKEN", absl::Hours(24));
  EXPECT_THAT(cookie, HasSubstr("__Host-smp_session=TOKEN;"));
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; Secure"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, HasSubstr("; Max-Age=86400"));
  EXPECT_THAT(cookie, ::testing::Not(HasSubstr("Domain")));

  const std::string cleared = ClearedSessionSetCookie();
  EXPECT_THAT(cleared, HasSubstr("__Host-smp_session=;"));
  EXPECT_THAT(cleared, HasSubstr("Max-Age=0"));
}

TEST(CsrfGuardTest, TokenIsBoundToSessionAndKey) {
  CsrfGuard guard(std::string(32, 'k'));
  const std::string token = guard.TokenFor("session-a");
  EXPECT_TRUE(guard.Verify("session-a", token));
  EXPECT_FALSE(guard.Verify("session-b", token));
  EXPECT_FALSE(guard.Verify("session-a", ""));
  EXPECT_FALSE(guard.Verify("", guard.TokenFor("")));
  EXPECT_FALSE(guard.Verify("session-a", token + "x"));
  EXPECT_EQ(guard.TokenFor("session-a"), token);  // stateless: the same every time

  CsrfGuard other(std::string(32, 'z'));
  EXPECT_FALSE(other.Verify("session-a", token));
  EXPECT_NE(CsrfGuard::WithRandomKey().TokenFor("s"), CsrfGuard::WithRandomKey().TokenFor("s"));
}

class CheckPostTest : public ::testing::Test {
 protected:
  PostRequest Good() {
    PostRequest r;
    r.content_type = "application/json";
    r.origin = "http://127.0.0.1:8443";
    r.host = "127.0.0.1:8443";
    r.session_token = "session";
    r.csrf_token = guard_.TokenFor("session");
    return r;
  }
  CsrfGuard guard_{std::string(32, 'k')};
};

TEST_F(CheckPostTest, AcceptsTheConsolesOwnRequest) {
  EXPECT_OK(CheckPost(guard_, Good()));
  PostRequest charset = Good();
  charset.content_type = "application/json; charset=utf-8";
  EXPECT_OK(CheckPost(guard_, charset));
  PostRequest no_origin = Good();
  no_origin.origin = "";
  EXPECT_OK(CheckPost(guard_, no_origin));
  PostRequest tls = Good();
  tls.tls = true;
  tls.origin = "https://127.0.0.1:8443";
  EXPECT_OK(CheckPost(guard_, tls));
}

TEST_F(CheckPostTest, WithoutSessionNeedsNoCsrfToken) {
  PostRequest login = Good();
  login.session_token = "";
  login.csrf_token = "";
  EXPECT_OK(CheckPost(guard_, login));
}

TEST_F(CheckPostTest, RefusesAFormPost) {
  PostRequest form = Good();
  form.content_type = "application/x-www-form-urlencoded";
  EXPECT_THAT(CheckPost(guard_, form),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Content-Type")));
  form.content_type = "text/plain";
  EXPECT_THAT(CheckPost(guard_, form), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CheckPostTest, RefusesAnotherOrigin) {
  PostRequest cross = Good();
  cross.origin = "https://evil.example";
  absl::Status status = CheckPost(guard_, cross);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("evil.example")));
  EXPECT_EQ(ErrorReason(status), kReasonCrossOrigin);
  PostRequest scheme = Good();
  scheme.tls = true;  // http origin against an https console
  EXPECT_THAT(CheckPost(guard_, scheme), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(CheckPostTest, RefusesASessionWithoutItsCsrfToken) {
  PostRequest missing = Good();
  missing.csrf_token = "";
  absl::Status status = CheckPost(guard_, missing);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("X-CSRF-Token")));
  EXPECT_EQ(ErrorReason(status), kReasonCsrfTokenInvalid);
  PostRequest other = Good();
  other.csrf_token = guard_.TokenFor("another session");
  EXPECT_THAT(CheckPost(guard_, other), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace smp::console
