#include "services/identity/sessions.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/redis/testing/fault_injecting_redis_client.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "services/identity/identity_reasons.h"
#include "services/identity/identity_test_env.h"
#include "services/identity/revocations.h"

namespace smp::identity {
namespace {

using common::v1::ROLE_ADMIN;
using common::v1::ROLE_FRONT_DESK;
using ::smp::identity::testing::IdentityTestEnv;
using ::smp::identity::testing::kTestNow;
using ::smp::testing::CallAs;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPassword[] = "a long password 1";
constexpr char kSetupCode[] = "the-setup-code";
constexpr char kPeer[] = "ipv4:10.0.0.7:5000";

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_.Start());
    IdentityDeps deps = env_.Deps(kSetupCode);
    deps.on_bootstrapped = [this] { ++bootstrapped_; };
    sessions_ = std::make_unique<Sessions>(std::move(deps));
    austin_ = env_.AddClinic("Austin").id();
  }

  static Call Public(const std::string& method) { return CallAs(Principal(), kTestNow, method); }
  // The Call of a request made with `session` (as the frame builds it).
  static Call As(const NewSession& session, const std::string& method) {
    return CallAs(ToPrincipal(session.record), kTestNow, method);
  }

  absl::StatusOr<v1::LoginResponse> Login(const std::string& username,
                                          const std::string& password) {
    v1::LoginRequest req;
    req.set_username(username);
    req.set_password(password);
    return sessions_->Login(CallAs(Principal(), env_.clock.Now(), "Login"), req, kPeer);
  }

  IdentityTestEnv env_;
  std::unique_ptr<Sessions> sessions_;
  std::string austin_;
  int bootstrapped_ = 0;
};

v1::BootstrapAdminRequest Boot(const std::string& code) {
  v1::BootstrapAdminRequest req;
  req.set_setup_code(code);
  req.set_username("Root");
  req.set_display_name("Chain Admin");
  req.set_password(kPassword);
  return req;
}

TEST_F(SessionsTest, BootstrapMakesTheFirstAdminOnce) {
  absl::StatusOr<v1::Staff> wrong = sessions_->BootstrapAdmin(Public("BootstrapAdmin"), Boot("x"));
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("setup_code")));
  EXPECT_EQ(ErrorReason(wrong.status()), identity_reason::kWrongSetupCode);
  v1::BootstrapAdminRequest weak = Boot(kSetupCode);
  weak.set_password("short");
  EXPECT_THAT(sessions_->BootstrapAdmin(Public("BootstrapAdmin"), weak),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("password")));

  v1::BootstrapAdminRequest req = Boot(kSetupCode);
  req.set_request_id("boot-1");
  ASSERT_OK_AND_ASSIGN(v1::Staff admin, sessions_->BootstrapAdmin(Public("BootstrapAdmin"), req));
  EXPECT_EQ(admin.username(), "root");
  ASSERT_EQ(admin.roles_size(), 1);
  EXPECT_EQ(admin.roles(0), ROLE_ADMIN);
  EXPECT_EQ(bootstrapped_, 1);
  // A retry with its request_id gets the same admin; without one, the rule answers.
  ASSERT_OK_AND_ASSIGN(v1::Staff again, sessions_->BootstrapAdmin(Public("BootstrapAdmin"), req));
  EXPECT_EQ(again.id(), admin.id());
  absl::StatusOr<v1::Staff> second =
      sessions_->BootstrapAdmin(Public("BootstrapAdmin"), Boot(kSetupCode));
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already has")));
  EXPECT_EQ(ErrorReason(second.status()), identity_reason::kAlreadyBootstrapped);
  EXPECT_OK(Login("root", kPassword));
}

TEST_F(SessionsTest, LoginGivesASessionAndRefusesWithReasons) {
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  ASSERT_OK_AND_ASSIGN(v1::LoginResponse login, Login("Desk.Austin", kPassword));
  EXPECT_EQ(login.access_token().size(), 43u);
  EXPECT_EQ(login.staff().id(), desk.id());
  EXPECT_EQ(login.session().client_address(), kPeer);
  ASSERT_OK_AND_ASSIGN(SessionRecord record, env_.sessions->Lookup(login.access_token()));
  EXPECT_EQ(record.session_id, login.session().id());
  EXPECT_EQ(record.clinic_ids, std::vector<std::string>{austin_});

  EXPECT_THAT(Login("", kPassword),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("username")));
  absl::StatusOr<v1::LoginResponse> wrong = Login("desk.austin", "not the password");
  absl::StatusOr<v1::LoginResponse> nobody = Login("nobody", "not the password");
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kUnauthenticated, "wrong username or password"));
  EXPECT_EQ(wrong.status(), nobody.status());
  EXPECT_EQ(ErrorReason(nobody.status()), identity_reason::kWrongCredentials);

  env_.Write<v1::Staff>([&](Transaction& txn) {
    return env_.store.SetStaffState(txn, desk.id(), v1::STAFF_STATE_DISABLED, kTestNow);
  });
  absl::StatusOr<v1::LoginResponse> disabled = Login("desk.austin", kPassword);
  EXPECT_THAT(disabled, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("disabled")));
  EXPECT_EQ(ErrorReason(disabled.status()), identity_reason::kAccountDisabled);
}

TEST_F(SessionsTest, RepeatedFailuresDelayTheAccountInsteadOfLockingIt) {
  env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(Login("desk.austin", "not the password"),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  absl::StatusOr<v1::LoginResponse> delayed = Login("desk.austin", kPassword);
  EXPECT_THAT(delayed,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("too many failed logins for this account; wait 1 second")));
  EXPECT_EQ(ErrorReason(delayed.status()), identity_reason::kTooManyFailedLogins);
  // Before: locked for 15 minutes. Now the owner gets in once the short delay has passed.
  env_.clock.Advance(absl::Seconds(1));
  EXPECT_OK(Login("desk.austin", kPassword));
}

TEST_F(SessionsTest, GuessingAServiceAccountDoesNotDelayTheService) {
  env_.AddStaff("svc.scheduling", {common::v1::ROLE_SERVICE}, {}, kPassword);
  for (int i = 0; i < 12; ++i) {
    EXPECT_THAT(Login("svc.scheduling", "not the password"),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  // Before: locked for 15 minutes, stopping bookings of procedures and outbox delivery.
  EXPECT_OK(Login("svc.scheduling", kPassword));
}

// The aggregated rows of login_failures, as "kind subject failures".
std::vector<std::string> FailureRows(IdentityTestEnv& env) {
  std::vector<LoginFailureRow> rows = env.Write<std::vector<LoginFailureRow>>(
      [&](Transaction& txn) { return env.store.ListLoginFailures(txn, absl::InfinitePast()); });
  std::vector<std::string> out;
  for (const LoginFailureRow& row : rows) {
    out.push_back(absl::StrCat(row.kind, " ", row.subject, " ", row.failures));
  }
  return out;
}

TEST_F(SessionsTest, FailedLoginRowsArePurgedByTheirWindow) {
  EXPECT_THAT(Login("nobody.here", "x"), StatusIs(absl::StatusCode::kUnauthenticated));
  env_.clock.Advance(absl::Hours(2));
  EXPECT_THAT(Login("nobody.here", "y"), StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_EQ(FailureRows(env_).size(), 4u);  // two windows, each an account and an address row
  // A cutoff an hour ago removes the first window's rows only.
  const int64_t purged = env_.Write<int64_t>([&](Transaction& txn) {
    return env_.store.PurgeLoginFailures(txn, env_.clock.Now() - absl::Hours(1));
  });
  EXPECT_EQ(purged, 2);
  EXPECT_EQ(FailureRows(env_).size(), 2u);
}

TEST_F(SessionsTest, FailedLoginsAreAuditedOneRowPerSubjectAndHour) {
  env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  EXPECT_THAT(Login("desk.austin", "wrong 1"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Login("desk.austin", "wrong 2"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Login("my password typed as a name", "x"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_OK(Login("desk.austin", kPassword));  // successes are not failures
  EXPECT_THAT(FailureRows(env_),
              ::testing::UnorderedElementsAre("account desk.austin 2", "unknown_account * 1",
                                              "address 10.0.0.7 3"));
  // An hour later the counts start again in new rows.
  env_.clock.Advance(absl::Hours(1));
  EXPECT_THAT(Login("desk.austin", "wrong 3"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(FailureRows(env_).size(), 5u);
}

TEST_F(SessionsTest, WhoAmIAndLogout) {
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  NewSession session = env_.MustLogIn(desk);
  ASSERT_OK_AND_ASSIGN(v1::WhoAmIResponse me, sessions_->WhoAmI(As(session, "WhoAmI")));
  EXPECT_EQ(me.staff().id(), desk.id());
  EXPECT_EQ(me.session().id(), session.record.session_id);
  EXPECT_GT(me.permissions_size(), 1);

  ASSERT_OK(sessions_->Logout(As(session, "Logout"), session.token));
  EXPECT_FALSE(env_.Live(session));
  absl::StatusOr<v1::WhoAmIResponse> ended = sessions_->WhoAmI(As(session, "WhoAmI"));
  EXPECT_THAT(ended, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(ErrorReason(ended.status()), identity_reason::kSessionEnded);
  EXPECT_OK(sessions_->Logout(As(session, "Logout"), session.token));  // already gone is fine
}

TEST_F(SessionsTest, ListPagesNewestFirstAndOthersNeedSessionsManage) {
  v1::Staff root = env_.AddStaff("root", {ROLE_ADMIN}, {}, kPassword);
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  std::vector<std::string> ids;  // oldest first
  for (int i = 0; i < 5; ++i) {
    ids.push_back(env_.MustLogIn(desk).record.session_id);
    env_.clock.Advance(absl::Seconds(1));
  }
  NewSession own = env_.MustLogIn(desk);
  ids.push_back(own.record.session_id);

  std::vector<std::string> seen;
  v1::ListSessionsRequest req;
  req.set_page_size(4);
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListSessionsResponse page,
                         sessions_->List(As(own, "ListSessions"), req));
    for (const v1::Session& s : page.sessions()) seen.push_back(s.id());
    req.set_page_token(page.next_page_token());
    ++pages;
  } while (!req.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));

  v1::ListSessionsRequest of_root;
  of_root.set_staff_id(root.id());
  absl::StatusOr<v1::ListSessionsResponse> refused =
      sessions_->List(As(own, "ListSessions"), of_root);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("SESSIONS_MANAGE")));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kMissingPermission);
  v1::ListSessionsRequest of_desk;
  of_desk.set_staff_id(desk.id());
  ASSERT_OK_AND_ASSIGN(v1::ListSessionsResponse by_admin,
                       sessions_->List(As(env_.MustLogIn(root), "ListSessions"), of_desk));
  EXPECT_EQ(by_admin.sessions_size(), 6);
  of_desk.set_page_size(-1);
  EXPECT_THAT(sessions_->List(As(own, "ListSessions"), of_desk),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(SessionsTest, RevokeEndsOneSessionAndIsIdempotent) {
  v1::Staff root = env_.AddStaff("root", {ROLE_ADMIN}, {}, kPassword);
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  NewSession admin = env_.MustLogIn(root);
  NewSession admin_other = env_.MustLogIn(root);
  NewSession desk_session = env_.MustLogIn(desk);

  v1::RevokeSessionRequest req;
  req.set_request_id("revoke-1");
  req.set_session_id(admin_other.record.session_id);
  absl::StatusOr<v1::RevokeSessionResponse> refused =
      sessions_->Revoke(As(desk_session, "RevokeSession"), req);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kMissingPermission);
  EXPECT_TRUE(env_.Live(admin_other));

  ASSERT_OK(sessions_->Revoke(As(admin, "RevokeSession"), req));
  EXPECT_FALSE(env_.Live(admin_other));
  EXPECT_TRUE(env_.Live(admin));
  EXPECT_OK(sessions_->Revoke(As(admin, "RevokeSession"), req));  // a replay
  req.set_request_id("revoke-2");
  EXPECT_THAT(sessions_->Revoke(As(admin, "RevokeSession"), req),
              StatusIs(absl::StatusCode::kNotFound));
  req.set_request_id("revoke-3");
  req.set_session_id("not a session");
  EXPECT_THAT(sessions_->Revoke(As(admin, "RevokeSession"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session_id")));

  // Its own session needs no permission; the request_id is optional for now.
  v1::RevokeSessionRequest own;
  own.set_session_id(desk_session.record.session_id);
  ASSERT_OK(sessions_->Revoke(As(desk_session, "RevokeSession"), own));
  EXPECT_FALSE(env_.Live(desk_session));
}

TEST_F(SessionsTest, ChangePasswordNeedsTheCurrentOneAndEndsOtherSessions) {
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  NewSession mine = env_.MustLogIn(desk);
  NewSession other = env_.MustLogIn(desk);
  v1::ChangePasswordRequest req;
  req.set_request_id("change-1");
  req.set_current_password("not my password");
  req.set_new_password("a brand new password");
  absl::StatusOr<v1::ChangePasswordResponse> wrong =
      sessions_->ChangePassword(As(mine, "ChangePassword"), req, kPeer);
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("current_password")));
  EXPECT_EQ(ErrorReason(wrong.status()), identity_reason::kWrongPassword);
  EXPECT_TRUE(env_.Live(other));

  req.set_current_password(kPassword);
  req.set_new_password(kPassword);
  EXPECT_THAT(sessions_->ChangePassword(As(mine, "ChangePassword"), req, kPeer),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
  req.set_new_password("a brand new password");
  req.clear_request_id();
  EXPECT_THAT(sessions_->ChangePassword(As(mine, "ChangePassword"), req, kPeer),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));

  req.set_request_id("change-2");
  ASSERT_OK(sessions_->ChangePassword(As(mine, "ChangePassword"), req, kPeer));
  EXPECT_TRUE(env_.Live(mine));
  EXPECT_FALSE(env_.Live(other));
  EXPECT_THAT(Login("desk.austin", kPassword), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_OK(Login("desk.austin", "a brand new password"));
  // A retry of the change that went through answers OK, although the current password moved on.
  EXPECT_OK(sessions_->ChangePassword(As(mine, "ChangePassword"), req, kPeer));
  std::string hash = env_.Write<std::string>(
      [&](Transaction& txn) { return env_.store.GetPasswordHash(txn, desk.id()); });
  EXPECT_THAT(env_.hasher->Verify("a brand new password", hash),
              ::smp::testing::IsOkAndHolds(true));
}

// Before: with Redis failing after the new password was saved, ChangePassword answered UNAVAILABLE
// and the other sessions (perhaps a thief's) stayed valid unless the owner retried.
TEST_F(SessionsTest, ChangePasswordSavesTheRevocationWhenRedisCannotEndTheOtherSessions) {
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  NewSession mine = env_.MustLogIn(desk);
  NewSession other = env_.MustLogIn(desk);
  ::smp::testing::FaultInjectingRedisClient redis(env_.redis.get());
  SessionStore flaky_sessions(&redis, SessionPolicy{}, env_.clock);
  Authenticator authenticator(&flaky_sessions, AuthCacheOptions{}, env_.clock);
  IdentityDeps deps = env_.Deps();
  deps.sessions = &flaky_sessions;
  deps.authenticator = &authenticator;
  Sessions flaky(std::move(deps));
  Revocations revocations(env_.db.get(), &flaky_sessions, &authenticator, env_.clock);

  v1::ChangePasswordRequest req;
  req.set_request_id("change-1");
  req.set_current_password(kPassword);
  req.set_new_password("a brand new password");
  redis.set_down(true);
  ASSERT_OK_AND_ASSIGN(v1::ChangePasswordResponse changed,
                       flaky.ChangePassword(As(mine, "ChangePassword"), req, kPeer));
  EXPECT_TRUE(changed.session_revocation_pending());
  EXPECT_THAT(revocations.FinishAll(), StatusIs(absl::StatusCode::kUnavailable));

  redis.set_down(false);
  EXPECT_TRUE(env_.Live(other));  // nothing has happened in Redis yet
  ASSERT_OK(revocations.FinishAll());
  EXPECT_FALSE(env_.Live(other));
  EXPECT_TRUE(env_.Live(mine));  // the session that changed the password stays
  EXPECT_OK(Login("desk.austin", "a brand new password"));
}

// A pending ChangePassword spares its session only if nothing else pending ends every session.
TEST_F(SessionsTest, APendingDisableEndsTheSessionAPendingPasswordChangeWouldSpare) {
  v1::Staff desk = env_.AddStaff("desk.austin", {ROLE_FRONT_DESK}, {austin_}, kPassword);
  NewSession mine = env_.MustLogIn(desk);
  Revocations revocations(env_.db.get(), env_.sessions.get(), env_.authenticator.get(), env_.clock);
  env_.Write<bool>([&](Transaction& txn) -> absl::StatusOr<bool> {
    RETURN_IF_ERROR(
        revocations.Record(txn, desk.id(), "change_password", kTestNow, mine.record.session_id));
    RETURN_IF_ERROR(revocations.Record(txn, desk.id(), "disable_staff", kTestNow));
    return true;
  });
  ASSERT_OK(revocations.FinishAll());
  EXPECT_FALSE(env_.Live(mine));
}

}  // namespace
}  // namespace smp::identity
