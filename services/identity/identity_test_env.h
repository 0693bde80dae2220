#ifndef SMP_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_

// Test-only: what the in-process tests of identity's operation units run against: a temporary
// database of the test backend (SMP_TEST_BACKEND: SQLite, or PostgreSQL) with identity's
// migrations, a real redis-server (sessions and login limits), a fixed clock, and a fast password
// hasher.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/login_limiter.h"
#include "common/auth/session_store.h"
#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/clock.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "services/identity/identity_migrations.h"
#include "services/identity/identity_store.h"
#include "services/identity/password_hasher.h"
#include "services/identity/sessions.h"

namespace smp::identity::testing {

inline const absl::Time kTestNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());

// Start() in SetUp (ASSERT_OK); every member is then ready.
class IdentityTestEnv {
 public:
  absl::Status Start() {
    ASSIGN_OR_RETURN(db, ::smp::testing::OpenNewTestDatabase());
    RETURN_IF_ERROR(ApplyMigrations(*db, IdentityMigrations(), kTestNow));
    ASSIGN_OR_RETURN(redis_server, ::smp::testing::RedisServer::StartNew());
    redis = std::make_unique<RedisPool>(redis_server->options());
    sessions = std::make_unique<SessionStore>(redis.get(), SessionPolicy{}, clock);
    authenticator = std::make_unique<Authenticator>(sessions.get(), AuthCacheOptions{}, clock);
    login_limiter = std::make_unique<LoginLimiter>(redis.get(), LoginLimitPolicy{}, clock);
    PasswordHasher::Params fast;
    fast.ops_limit = 1;
    fast.mem_limit = 8u << 10;  // libsodium's minimum
    hasher = std::make_unique<PasswordHasher>(fast);
    return absl::OkStatus();
  }

  IdentityDeps Deps(std::string setup_code = "") {
    return IdentityDeps{.db = db.get(),
                        .sessions = sessions.get(),
                        .authenticator = authenticator.get(),
                        .login_limiter = login_limiter.get(),
                        .hasher = hasher.get(),
                        .clock = &clock,
                        .setup_code = std::move(setup_code),
                        .on_bootstrapped = nullptr,
                        .trusted_forwarders = TrustedForwarders()};
  }

  // Writes straight through the store, as a setup step.
  v1::Clinic AddClinic(const std::string& name) {
    v1::Clinic c;
    c.set_name(name);
    c.set_time_zone("Europe/London");
    return Write<v1::Clinic>(
        [&](Transaction& txn) { return store.CreateClinic(txn, c, kTestNow); });
  }
  v1::Staff AddStaff(const std::string& username, std::vector<common::v1::Role> roles,
                     std::vector<std::string> clinics, const std::string& password) {
    v1::Staff s;
    s.set_username(username);
    s.set_display_name(username);
    for (common::v1::Role r : roles) s.add_roles(r);
    for (const std::string& c : clinics) s.add_clinic_ids(c);
    absl::StatusOr<std::string> hash = hasher->Hash(password);
    EXPECT_OK(hash);
    return Write<v1::Staff>(
        [&](Transaction& txn) { return store.CreateStaff(txn, s, hash.value_or(""), kTestNow); });
  }
  v1::Staff ReadStaff(const std::string& id) {
    return Write<v1::Staff>([&](Transaction& txn) { return store.GetStaff(txn, id); });
  }
  // The Principal of a session of `staff` (as the frame would build it).
  NewSession MustLogIn(const v1::Staff& staff) {
    std::vector<common::v1::Role> roles;
    for (int r : staff.roles()) roles.push_back(static_cast<common::v1::Role>(r));
    absl::StatusOr<NewSession> s =
        sessions->Create(staff.id(), staff.username(), roles,
                         {staff.clinic_ids().begin(), staff.clinic_ids().end()}, "ipv4:10.0.0.9:1");
    EXPECT_OK(s);
    return s.ok() ? *s : NewSession();
  }
  bool Live(const NewSession& session) { return sessions->GetById(session.record.session_id).ok(); }

  template <typename T>
  T Write(const std::function<absl::StatusOr<T>(Transaction&)>& fn) {
    T out;
    absl::Status status = db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, fn(txn));
      return absl::OkStatus();
    });
    EXPECT_OK(status);
    return out;
  }

  FakeClock clock{kTestNow};
  std::unique_ptr<Database> db;
  std::unique_ptr<::smp::testing::RedisServer> redis_server;
  std::unique_ptr<RedisPool> redis;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<LoginLimiter> login_limiter;
  std::unique_ptr<PasswordHasher> hasher;
  IdentityStore store;
};

}  // namespace smp::identity::testing

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_TEST_ENV_H_
