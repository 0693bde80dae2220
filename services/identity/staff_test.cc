#include "services/identity/staff.h"

#include <memory>
#include <set>
#include <string>

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
using common::v1::ROLE_AUDITOR;
using common::v1::ROLE_FRONT_DESK;
using common::v1::ROLE_TECHNICIAN;
using ::smp::identity::testing::IdentityTestEnv;
using ::smp::identity::testing::kTestNow;
using ::smp::testing::CallAs;
using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPassword[] = "a long password 1";

class StaffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_.Start());
    staff_ = std::make_unique<StaffAccounts>(env_.db.get(), env_.hasher.get(), env_.sessions.get(),
                                             env_.authenticator.get(), env_.clock);
    austin_ = env_.AddClinic("Austin").id();
    london_ = env_.AddClinic("London").id();
    root_ = env_.AddStaff("root", {ROLE_ADMIN}, {}, kPassword);
  }

  Call Admin(const std::string& method) {
    return CallAs(StaffOf({ROLE_ADMIN}, {}, root_.id()), kTestNow, method);
  }
  static Call Desk(const std::string& clinic, const std::string& method) {
    return CallAs(StaffOf({ROLE_FRONT_DESK}, {clinic}, "desk-1"), kTestNow, method);
  }

  static v1::CreateStaffRequest CreateRequest(const std::string& request_id,
                                              const std::string& username, common::v1::Role role,
                                              const std::string& clinic) {
    v1::CreateStaffRequest req;
    req.set_request_id(request_id);
    req.mutable_staff()->set_username(username);
    req.mutable_staff()->set_display_name(username);
    req.mutable_staff()->add_roles(role);
    if (!clinic.empty()) req.mutable_staff()->add_clinic_ids(clinic);
    req.set_initial_password(kPassword);
    return req;
  }

  v1::Staff MustCreate(const std::string& username, common::v1::Role role,
                       const std::string& clinic) {
    absl::StatusOr<v1::Staff> s = staff_->Create(
        Admin("CreateStaff"), CreateRequest("create-" + username, username, role, clinic));
    EXPECT_OK(s);
    return s.ok() ? *s : v1::Staff();
  }

  IdentityTestEnv env_;
  std::unique_ptr<StaffAccounts> staff_;
  std::string austin_, london_;
  v1::Staff root_;
};

TEST_F(StaffTest, CreateStoresANormalisedAccountWithItsPassword) {
  ASSERT_OK_AND_ASSIGN(v1::Staff created, staff_->Create(Admin("CreateStaff"),
                                                         CreateRequest("r-1", "Desk.Austin",
                                                                       ROLE_FRONT_DESK, austin_)));
  EXPECT_EQ(created.username(), "desk.austin");
  EXPECT_EQ(created.state(), v1::STAFF_STATE_ACTIVE);
  ASSERT_EQ(created.clinic_ids_size(), 1);
  EXPECT_EQ(created.clinic_ids(0), austin_);
  EXPECT_EQ(env_.ReadStaff(created.id()).SerializeAsString(), created.SerializeAsString());
  std::string hash = env_.Write<std::string>(
      [&](Transaction& txn) { return env_.store.GetPasswordHash(txn, created.id()); });
  EXPECT_THAT(env_.hasher->Verify(kPassword, hash), IsOkAndHolds(true));
}

TEST_F(StaffTest, CreateRefusesBadFieldsTakenNamesAndUnknownClinics) {
  v1::CreateStaffRequest req = CreateRequest("r-1", "x", ROLE_FRONT_DESK, austin_);
  EXPECT_THAT(staff_->Create(Admin("CreateStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("staff.username")));
  req = CreateRequest("r-2", "new.person", ROLE_FRONT_DESK, austin_);
  req.set_initial_password("short");
  EXPECT_THAT(staff_->Create(Admin("CreateStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initial_password")));
  req = CreateRequest("", "new.person", ROLE_FRONT_DESK, austin_);
  EXPECT_THAT(staff_->Create(Admin("CreateStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  req = CreateRequest("r-3", "new.person", ROLE_FRONT_DESK, "");
  EXPECT_THAT(staff_->Create(Admin("CreateStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("staff.clinic_ids")));

  absl::StatusOr<v1::Staff> taken =
      staff_->Create(Admin("CreateStaff"), CreateRequest("r-4", "ROOT", ROLE_AUDITOR, ""));
  EXPECT_THAT(taken, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already taken")));
  EXPECT_EQ(ErrorReason(taken.status()), identity_reason::kUsernameTaken);
  EXPECT_EQ(ErrorMetadata(taken.status(), "username"), "root");

  const std::string nowhere = NewId();
  absl::StatusOr<v1::Staff> unknown = staff_->Create(
      Admin("CreateStaff"), CreateRequest("r-5", "new.person", ROLE_FRONT_DESK, nowhere));
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound, HasSubstr("staff.clinic_ids[0]")));
  EXPECT_EQ(ErrorReason(unknown.status()), identity_reason::kUnknownClinic);
  EXPECT_EQ(ErrorMetadata(unknown.status(), "clinic_id"), nowhere);

  ASSERT_OK_AND_ASSIGN(v1::ListStaffResponse all,
                       staff_->List(Admin("ListStaff"), v1::ListStaffRequest()));
  EXPECT_EQ(all.staff_size(), 1);  // only root
}

TEST_F(StaffTest, ReplayedCreateReturnsTheFirstAccount) {
  v1::CreateStaffRequest req = CreateRequest("r-9", "tech.a", ROLE_TECHNICIAN, austin_);
  ASSERT_OK_AND_ASSIGN(v1::Staff first, staff_->Create(Admin("CreateStaff"), req));
  ASSERT_OK_AND_ASSIGN(v1::Staff again, staff_->Create(Admin("CreateStaff"), req));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  req.mutable_staff()->set_username("tech.b");
  absl::StatusOr<v1::Staff> reused = staff_->Create(Admin("CreateStaff"), req);
  EXPECT_EQ(ErrorReason(reused.status()), reason::kRequestIdReused);
}

TEST_F(StaffTest, ClinicScopedCallersSeeOnlyTheirClinicsStaff) {
  v1::Staff desk_a = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  v1::Staff tech_b = MustCreate("tech.london", ROLE_TECHNICIAN, london_);

  v1::GetStaffRequest get;
  get.set_id(tech_b.id());
  absl::StatusOr<v1::Staff> other = staff_->Get(Desk(austin_, "GetStaff"), get);
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(other.status()), reason::kOutsideClinicScope);
  get.set_id(desk_a.id());
  ASSERT_OK_AND_ASSIGN(v1::Staff own, staff_->Get(Desk(austin_, "GetStaff"), get));
  EXPECT_EQ(own.username(), "desk.austin");

  ASSERT_OK_AND_ASSIGN(v1::ListStaffResponse listed,
                       staff_->List(Desk(austin_, "ListStaff"), v1::ListStaffRequest()));
  ASSERT_EQ(listed.staff_size(), 1);
  EXPECT_EQ(listed.staff(0).id(), desk_a.id());

  v1::ListStaffRequest of_london;
  of_london.set_clinic_id(london_);
  absl::StatusOr<v1::ListStaffResponse> refused =
      staff_->List(Desk(austin_, "ListStaff"), of_london);
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(v1::ListStaffResponse london_staff,
                       staff_->List(Admin("ListStaff"), of_london));
  ASSERT_EQ(london_staff.staff_size(), 1);
  EXPECT_EQ(london_staff.staff(0).id(), tech_b.id());

  // A clinic-scoped writer (no such role today; the scope check does not rely on that) cannot
  // grant another clinic nor touch its staff.
  const Call scoped_writer =
      CallAs(StaffOf({ROLE_FRONT_DESK}, {austin_}, "manager-1"), kTestNow, "CreateStaff");
  absl::StatusOr<v1::Staff> grant =
      staff_->Create(scoped_writer, CreateRequest("r-scope", "sneaky", ROLE_FRONT_DESK, london_));
  EXPECT_EQ(ErrorReason(grant.status()), reason::kOutsideClinicScope);
  v1::DisableStaffRequest disable;
  disable.set_request_id("d-scope");
  disable.set_id(tech_b.id());
  disable.set_reason("not mine");
  absl::StatusOr<v1::Staff> disabled = staff_->Disable(
      CallAs(StaffOf({ROLE_FRONT_DESK}, {austin_}, "manager-1"), kTestNow, "DisableStaff"),
      disable);
  EXPECT_EQ(ErrorReason(disabled.status()), reason::kOutsideClinicScope);
  EXPECT_EQ(env_.ReadStaff(tech_b.id()).state(), v1::STAFF_STATE_ACTIVE);
}

TEST_F(StaffTest, ListPagesThroughEveryAccount) {
  std::set<std::string> made = {root_.id()};
  for (int i = 0; i < 4; ++i) {
    made.insert(MustCreate("desk." + std::to_string(i), ROLE_FRONT_DESK, austin_).id());
  }
  std::set<std::string> seen;
  v1::ListStaffRequest req;
  req.set_page_size(2);
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListStaffResponse page, staff_->List(Admin("ListStaff"), req));
    for (const v1::Staff& s : page.staff()) EXPECT_TRUE(seen.insert(s.id()).second);
    req.set_page_token(page.next_page_token());
    ++pages;
  } while (!req.page_token().empty() && pages < 10);
  EXPECT_EQ(seen, made);
  EXPECT_EQ(pages, 3);
  // A token is bound to its filter.
  req.set_page_size(2);
  req.set_page_token("");
  ASSERT_OK_AND_ASSIGN(v1::ListStaffResponse first, staff_->List(Admin("ListStaff"), req));
  req.set_page_token(first.next_page_token());
  req.set_clinic_id(austin_);
  EXPECT_THAT(staff_->List(Admin("ListStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  req.set_clinic_id("bad id");
  EXPECT_THAT(staff_->List(Admin("ListStaff"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
}

TEST_F(StaffTest, UpdateOfGrantsRevokesSessionsAndAStaleEtagIsAborted) {
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession session = env_.MustLogIn(desk);
  ASSERT_TRUE(env_.Live(session));

  v1::UpdateStaffRequest req;
  req.set_request_id("promote-1");
  *req.mutable_staff() = desk;
  req.mutable_staff()->set_roles(0, ROLE_TECHNICIAN);
  req.mutable_update_mask()->add_paths("roles");
  ASSERT_OK_AND_ASSIGN(v1::Staff updated, staff_->Update(Admin("UpdateStaff"), req));
  EXPECT_EQ(updated.roles(0), ROLE_TECHNICIAN);
  EXPECT_EQ(updated.etag(), "v2");
  EXPECT_FALSE(env_.Live(session));
  ASSERT_OK_AND_ASSIGN(v1::Staff replayed, staff_->Update(Admin("UpdateStaff"), req));
  EXPECT_EQ(replayed.etag(), "v2");

  // A profile-only change keeps the sessions.
  NewSession again = env_.MustLogIn(updated);
  req.set_request_id("rename-1");
  *req.mutable_staff() = updated;
  req.mutable_staff()->set_display_name("Desk of Austin");
  req.mutable_update_mask()->Clear();
  req.mutable_update_mask()->add_paths("display_name");
  ASSERT_OK_AND_ASSIGN(v1::Staff renamed, staff_->Update(Admin("UpdateStaff"), req));
  EXPECT_EQ(renamed.display_name(), "Desk of Austin");
  EXPECT_TRUE(env_.Live(again));

  req.set_request_id("rename-2");  // the etag of `updated`, now stale
  absl::StatusOr<v1::Staff> stale = staff_->Update(Admin("UpdateStaff"), req);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);
  EXPECT_EQ(ErrorMetadata(stale.status(), "current_etag"), "v3");
}

TEST_F(StaffTest, TheLastActiveAdminCanNeitherBeDemotedNorDisabled) {
  v1::UpdateStaffRequest demote;
  demote.set_request_id("demote-root");
  *demote.mutable_staff() = root_;
  demote.mutable_staff()->set_roles(0, ROLE_AUDITOR);
  demote.mutable_update_mask()->add_paths("roles");
  absl::StatusOr<v1::Staff> demoted = staff_->Update(Admin("UpdateStaff"), demote);
  EXPECT_THAT(demoted, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("at least one active admin")));
  EXPECT_EQ(ErrorReason(demoted.status()), identity_reason::kLastAdmin);

  v1::DisableStaffRequest disable;
  disable.set_request_id("disable-root");
  disable.set_id(root_.id());
  disable.set_reason("testing");
  absl::StatusOr<v1::Staff> disabled = staff_->Disable(Admin("DisableStaff"), disable);
  EXPECT_EQ(ErrorReason(disabled.status()), identity_reason::kLastAdmin);
  v1::Staff stored = env_.ReadStaff(root_.id());
  EXPECT_EQ(stored.state(), v1::STAFF_STATE_ACTIVE);
  EXPECT_EQ(stored.roles(0), ROLE_ADMIN);

  // With a second admin, the first may go.
  MustCreate("second.admin", ROLE_ADMIN, "");
  disable.set_request_id("disable-root-2");
  ASSERT_OK_AND_ASSIGN(v1::Staff gone, staff_->Disable(Admin("DisableStaff"), disable));
  EXPECT_EQ(gone.state(), v1::STAFF_STATE_DISABLED);
}

TEST_F(StaffTest, DisableRevokesSessionsAndEnableRestores) {
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession session = env_.MustLogIn(desk);

  v1::DisableStaffRequest disable;
  disable.set_request_id("disable-1");
  disable.set_id(desk.id());
  EXPECT_THAT(staff_->Disable(Admin("DisableStaff"), disable),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  disable.set_reason("left the company");
  ASSERT_OK_AND_ASSIGN(v1::Staff disabled, staff_->Disable(Admin("DisableStaff"), disable));
  EXPECT_EQ(disabled.state(), v1::STAFF_STATE_DISABLED);
  EXPECT_FALSE(env_.Live(session));
  // A replay answers the first result (not "already disabled") and revokes again.
  NewSession sneaked = env_.MustLogIn(desk);
  ASSERT_OK_AND_ASSIGN(v1::Staff replayed, staff_->Disable(Admin("DisableStaff"), disable));
  EXPECT_EQ(replayed.etag(), disabled.etag());
  EXPECT_FALSE(env_.Live(sneaked));

  disable.set_request_id("disable-2");
  absl::StatusOr<v1::Staff> twice = staff_->Disable(Admin("DisableStaff"), disable);
  EXPECT_THAT(twice,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already disabled")));
  EXPECT_EQ(ErrorReason(twice.status()), identity_reason::kAlreadyInState);

  v1::EnableStaffRequest enable;
  enable.set_request_id("enable-1");
  enable.set_id(desk.id());
  ASSERT_OK_AND_ASSIGN(v1::Staff enabled, staff_->Enable(Admin("EnableStaff"), enable));
  EXPECT_EQ(enabled.state(), v1::STAFF_STATE_ACTIVE);
  enable.set_request_id("enable-2");
  EXPECT_EQ(ErrorReason(staff_->Enable(Admin("EnableStaff"), enable).status()),
            identity_reason::kAlreadyInState);
  enable.set_id(NewId());
  enable.set_request_id("enable-3");
  EXPECT_THAT(staff_->Enable(Admin("EnableStaff"), enable), StatusIs(absl::StatusCode::kNotFound));
}

// Units wired to a Redis that can fail on demand (sessions keep their data meanwhile).
struct FlakyRedis {
  explicit FlakyRedis(IdentityTestEnv& env)
      : redis(env.redis.get()),
        sessions(&redis, SessionPolicy{}, env.clock),
        authenticator(&sessions, AuthCacheOptions{}, env.clock),
        staff(env.db.get(), env.hasher.get(), &sessions, &authenticator, env.clock),
        revocations(env.db.get(), &sessions, &authenticator, env.clock) {}
  ::smp::testing::FaultInjectingRedisClient redis;
  SessionStore sessions;
  Authenticator authenticator;
  StaffAccounts staff;
  Revocations revocations;
};

int64_t PendingRows(IdentityTestEnv& env) {
  return env.Write<int64_t>(
      [&](Transaction& txn) { return env.store.CountPendingRevocations(txn); });
}

// Before: DisableStaff answered UNAVAILABLE and the sessions stayed valid unless the admin retried.
TEST_F(StaffTest, RevocationRedisCannotDoIsSavedAndFinishedWithoutARetry) {
  FlakyRedis flaky(env_);
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession session = env_.MustLogIn(desk);
  v1::DisableStaffRequest disable;
  disable.set_request_id("disable-1");
  disable.set_id(desk.id());
  disable.set_reason("left");

  flaky.redis.set_down(true);
  ASSERT_OK_AND_ASSIGN(v1::Staff disabled, flaky.staff.Disable(Admin("DisableStaff"), disable));
  EXPECT_EQ(disabled.state(), v1::STAFF_STATE_DISABLED);
  EXPECT_TRUE(disabled.session_revocation_pending());
  EXPECT_EQ(PendingRows(env_), 1);
  EXPECT_THAT(flaky.revocations.FinishAll(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("1 accounts'")));

  flaky.redis.set_down(false);
  EXPECT_TRUE(env_.Live(session));  // nothing has happened yet in Redis
  ASSERT_OK(flaky.revocations.FinishAll());
  EXPECT_FALSE(env_.Live(session));
  EXPECT_EQ(PendingRows(env_), 0);
  ASSERT_OK(flaky.revocations.FinishAll());  // nothing left: a no-op
}

TEST_F(StaffTest, ALateRevocationSparesSessionsMadeAfterIt) {
  FlakyRedis flaky(env_);
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession before = env_.MustLogIn(desk);
  v1::ResetStaffPasswordRequest reset;
  reset.set_request_id("reset-1");
  reset.set_id(desk.id());
  reset.set_new_password("a fresh long password");
  flaky.redis.set_down(true);
  ASSERT_OK_AND_ASSIGN(v1::Staff saved,
                       flaky.staff.ResetPassword(Admin("ResetStaffPassword"), reset));
  EXPECT_TRUE(saved.session_revocation_pending());
  flaky.redis.set_down(false);
  env_.clock.Advance(absl::Minutes(1));
  NewSession after = env_.MustLogIn(desk);  // the owner, with the new password
  ASSERT_OK(flaky.revocations.FinishAll());
  EXPECT_FALSE(env_.Live(before));
  EXPECT_TRUE(env_.Live(after));
}

TEST_F(StaffTest, RevocationThatWorksAtOnceLeavesNothingPending) {
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession session = env_.MustLogIn(desk);
  v1::DisableStaffRequest disable;
  disable.set_request_id("disable-1");
  disable.set_id(desk.id());
  disable.set_reason("left");
  ASSERT_OK_AND_ASSIGN(v1::Staff disabled, staff_->Disable(Admin("DisableStaff"), disable));
  EXPECT_FALSE(disabled.session_revocation_pending());
  EXPECT_FALSE(env_.Live(session));
  EXPECT_EQ(PendingRows(env_), 0);
}

TEST_F(StaffTest, ResetPasswordSetsANewOneAndRevokesSessions) {
  v1::Staff desk = MustCreate("desk.austin", ROLE_FRONT_DESK, austin_);
  NewSession session = env_.MustLogIn(desk);
  v1::ResetStaffPasswordRequest req;
  req.set_request_id("reset-1");
  req.set_id(desk.id());
  req.set_new_password("short");
  EXPECT_THAT(staff_->ResetPassword(Admin("ResetStaffPassword"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
  req.set_new_password("a fresh long password");
  ASSERT_OK_AND_ASSIGN(v1::Staff reset, staff_->ResetPassword(Admin("ResetStaffPassword"), req));
  EXPECT_EQ(reset.id(), desk.id());
  EXPECT_FALSE(env_.Live(session));
  std::string hash = env_.Write<std::string>(
      [&](Transaction& txn) { return env_.store.GetPasswordHash(txn, desk.id()); });
  EXPECT_THAT(env_.hasher->Verify("a fresh long password", hash), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(v1::Staff replayed, staff_->ResetPassword(Admin("ResetStaffPassword"), req));
  EXPECT_EQ(replayed.etag(), reset.etag());

  req.set_request_id("reset-2");
  req.set_id(NewId());
  EXPECT_THAT(staff_->ResetPassword(Admin("ResetStaffPassword"), req),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace smp::identity
