#include "common/auth/authenticator.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/fault_injecting_redis_client.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::FaultInjectingRedisClient;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart =
    absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());

TEST(ParseBearerTokenTest, AcceptsBearerToken68) {
  EXPECT_THAT(Authenticator::ParseBearerToken("Bearer abc-_.~+/9"),
              ::testing::Eq(absl::StatusOr<std::string>("abc-_.~+/9")));
  EXPECT_EQ(*Authenticator::ParseBearerToken("bearer abc=="), "abc==");
  EXPECT_EQ(*Authenticator::ParseBearerToken("BEARER   abc"), "abc");
  const std::string token = NewBearerToken();
  EXPECT_EQ(*Authenticator::ParseBearerToken("Bearer " + token), token);
}

TEST(ParseBearerTokenTest, RejectsEverythingElse) {
  const absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;
  EXPECT_THAT(Authenticator::ParseBearerToken(""),
              StatusIs(kUnauthenticated, HasSubstr("missing authorization")));
  EXPECT_THAT(Authenticator::ParseBearerToken("Basic dXNlcjpwYXNz"),
              StatusIs(kUnauthenticated, HasSubstr("must be Bearer")));
  EXPECT_THAT(Authenticator::ParseBearerToken("garbage"),
              StatusIs(kUnauthenticated, HasSubstr("must be Bearer")));
  EXPECT_THAT(Authenticator::ParseBearerToken("Bearerabc"), StatusIs(kUnauthenticated));
  EXPECT_THAT(Authenticator::ParseBearerToken("Bearer"),
              StatusIs(kUnauthenticated, HasSubstr("empty")));
  EXPECT_THAT(Authenticator::ParseBearerToken("Bearer   "),
              StatusIs(kUnauthenticated, HasSubstr("empty")));
  for (const std::string& bad : std::vector<std::string>{
           "Bearer a b", "Bearer ab=c", "Bearer ===", "Bearer a\tb", "Bearer tok\xc3\xa9",
           "Bearer abc ", std::string("Bearer ab\0c", 11), "Bearer " + std::string(513, 'a')}) {
    EXPECT_THAT(Authenticator::ParseBearerToken(bad),
                StatusIs(kUnauthenticated, HasSubstr("malformed")))
        << bad;
  }
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
    redis_ = std::make_unique<FaultInjectingRedisClient>(pool_.get());
    SessionPolicy policy;
    policy.idle_timeout = absl::Hours(1);
    policy.max_lifetime = absl::Hours(4);
    store_ = std::make_unique<SessionStore>(redis_.get(), policy, clock_);
    authenticator_ = std::make_unique<Authenticator>(store_.get(), AuthCacheOptions(), clock_);
  }

  NewSession MustCreate(const std::string& staff_id = "staff-1") {
    absl::StatusOr<NewSession> session = store_->Create(
        staff_id, "alice", {common::v1::ROLE_FRONT_DESK}, {"clinic-1"}, "ipv4:10.0.0.1:1");
    EXPECT_THAT(session, IsOk());
    return session.ok() ? *std::move(session) : NewSession();
  }

  static std::string Header(const NewSession& session) { return "Bearer " + session.token; }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<FaultInjectingRedisClient> redis_;
  FakeClock clock_{kStart};
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<Authenticator> authenticator_;
};

TEST_F(AuthenticatorTest, ValidTokenGivesPrincipal) {
  NewSession session = MustCreate();
  ASSERT_OK_AND_ASSIGN(Principal principal, authenticator_->AuthenticateHeader(Header(session)));
  EXPECT_TRUE(principal.authenticated);
  EXPECT_EQ(principal.staff_id, "staff-1");
  EXPECT_EQ(principal.session_id, session.record.session_id);
  EXPECT_EQ(principal.username, "alice");
  EXPECT_THAT(principal.roles, ElementsAre(common::v1::ROLE_FRONT_DESK));
  EXPECT_THAT(principal.clinic_ids, ElementsAre("clinic-1"));
}

TEST_F(AuthenticatorTest, MissingMalformedOrUnknownIsUnauthenticated) {
  MustCreate();
  const absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;
  EXPECT_THAT(authenticator_->AuthenticateHeader(""), StatusIs(kUnauthenticated));
  EXPECT_THAT(authenticator_->AuthenticateHeader("Basic x"), StatusIs(kUnauthenticated));
  EXPECT_THAT(authenticator_->AuthenticateHeader("Bearer !!garbage!!"), StatusIs(kUnauthenticated));
  EXPECT_THAT(authenticator_->AuthenticateHeader("Bearer " + NewBearerToken()),
              StatusIs(kUnauthenticated));
  EXPECT_THAT(authenticator_->AuthenticateToken(""), StatusIs(kUnauthenticated));
  EXPECT_EQ(authenticator_->cached_entries(), 0u);
}

TEST_F(AuthenticatorTest, CacheAnswersWithoutRedisWithinTtl) {
  NewSession session = MustCreate();
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status());
  const int64_t calls = redis_->calls();
  redis_->set_down(true);
  clock_.Advance(absl::Milliseconds(499));
  ASSERT_OK_AND_ASSIGN(Principal cached, authenticator_->AuthenticateHeader(Header(session)));
  EXPECT_EQ(cached.session_id, session.record.session_id);
  EXPECT_EQ(redis_->calls(), calls);
  EXPECT_EQ(redis_->failed_calls(), 0);
}

TEST_F(AuthenticatorTest, FailsClosedAfterTtlWhileRedisIsDown) {
  NewSession session = MustCreate();
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status());
  redis_->set_down(true);
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnavailable));
  // A token never seen is UNAVAILABLE too, not UNAUTHENTICATED: Redis could not say.
  EXPECT_THAT(authenticator_->AuthenticateHeader("Bearer " + NewBearerToken()),
              StatusIs(absl::StatusCode::kUnavailable));
  redis_->set_down(false);
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)), IsOk());
}

TEST_F(AuthenticatorTest, RealRedisOutageFailsClosedAndRecovers) {
  NewSession session = MustCreate();
  ASSERT_OK(server_->Stop());
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server_->Start());
  NewSession fresh = MustCreate();
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(fresh)), IsOk());
}

TEST_F(AuthenticatorTest, RevokedElsewhereIsRefusedOnceTheCacheEntryExpires) {
  NewSession session = MustCreate();
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status());
  // Revoked through another process's store: this process's cache does not know.
  ASSERT_OK(store_->RevokeToken(session.token));
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)), IsOk());  // the bounded window
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthenticatorTest, ForgetRefusesAtOnceInThisProcess) {
  NewSession session = MustCreate();
  NewSession other = MustCreate("staff-2");
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status());
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(other)).status());
  ASSERT_OK(store_->RevokeToken(session.token));
  authenticator_->Forget(session.token);
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(authenticator_->cached_entries(), 1u);

  ASSERT_OK(store_->RevokeAllForStaff("staff-2"));
  authenticator_->ForgetStaff("staff-2");
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(other)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthenticatorTest, ForgetSession) {
  NewSession session = MustCreate();
  ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status());
  ASSERT_OK(store_->RevokeById(session.record.session_id));
  authenticator_->ForgetSession(session.record.session_id);
  EXPECT_THAT(authenticator_->AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthenticatorTest, FailuresAreNotCached) {
  const std::string header = "Bearer " + NewBearerToken();
  EXPECT_THAT(authenticator_->AuthenticateHeader(header),
              StatusIs(absl::StatusCode::kUnauthenticated));
  redis_->set_down(true);
  // Asked Redis again rather than answering from a negative entry.
  EXPECT_THAT(authenticator_->AuthenticateHeader(header), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(AuthenticatorTest, CacheEntryNeverOutlivesTheSession) {
  AuthCacheOptions options;
  options.ttl = absl::Hours(10);  // absurd, to show the session's own expiry bounds it
  Authenticator authenticator(store_.get(), options, clock_);
  NewSession session = MustCreate();
  ASSERT_OK(authenticator.AuthenticateHeader(Header(session)).status());
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(authenticator.AuthenticateHeader(Header(session)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AuthenticatorTest, DisabledCacheAlwaysAsksRedis) {
  for (AuthCacheOptions options :
       {AuthCacheOptions{.enabled = false}, AuthCacheOptions{.ttl = absl::ZeroDuration()}}) {
    Authenticator authenticator(store_.get(), options, clock_);
    NewSession session = MustCreate();
    ASSERT_OK(authenticator.AuthenticateHeader(Header(session)).status());
    ASSERT_OK(store_->RevokeToken(session.token));
    EXPECT_THAT(authenticator.AuthenticateHeader(Header(session)),
                StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_EQ(authenticator.cached_entries(), 0u);
  }
}

TEST_F(AuthenticatorTest, CacheIsBounded) {
  AuthCacheOptions options;
  options.max_entries = 2;
  Authenticator authenticator(store_.get(), options, clock_);
  for (int i = 0; i < 5; ++i) {
    NewSession session = MustCreate();
    ASSERT_OK(authenticator.AuthenticateHeader(Header(session)).status());
    EXPECT_LE(authenticator.cached_entries(), 2u);
  }
  EXPECT_GE(authenticator.cached_entries(), 1u);
}

TEST_F(AuthenticatorTest, SessionStaysAliveWhileInUse) {
  NewSession session = MustCreate();
  // Used every 30 s for 2 hours: past the 1 h idle timeout, because each use slides it.
  for (int i = 0; i < 2 * 60 * 2; ++i) {
    clock_.Advance(absl::Seconds(30));
    ASSERT_OK(authenticator_->AuthenticateHeader(Header(session)).status()) << i;
  }
}

}  // namespace
}  // namespace smp
