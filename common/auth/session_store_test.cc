#include "common/auth/session_store.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/server/metrics.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using common::v1::ROLE_ADMIN;
using common::v1::ROLE_FRONT_DESK;
using common::v1::ROLE_TECHNICIAN;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart =
    absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
    policy_.idle_timeout = absl::Hours(1);
    policy_.max_lifetime = absl::Hours(4);
    policy_.refresh_granularity = absl::ZeroDuration();
    store_ = std::make_unique<SessionStore>(pool_.get(), policy_, clock_);
  }

  NewSession MustCreate(const std::string& staff_id,
                        std::vector<common::v1::Role> roles = {ROLE_FRONT_DESK}) {
    absl::StatusOr<NewSession> session =
        store_->Create(staff_id, staff_id + "-name", roles, {"clinic-1"}, "ipv4:10.0.0.1:4000");
    EXPECT_THAT(session, IsOk());
    return session.ok() ? *std::move(session) : NewSession();
  }

  RedisReply Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisReply> reply = pool_->Command(argv);
    EXPECT_THAT(reply, IsOk());
    return reply.ok() ? *std::move(reply) : RedisReply();
  }
  bool Exists(const std::string& key) { return Redis({"EXISTS", key}).integer() == 1; }
  absl::Duration Pttl(const std::string& key) {
    return absl::Milliseconds(Redis({"PTTL", key}).integer());
  }
  static std::string KeyOf(const NewSession& session) {
    return SessionStore::SessionKey(Sha256Hex(session.token));
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  FakeClock clock_{kStart};
  SessionPolicy policy_;
  std::unique_ptr<SessionStore> store_;
};

TEST_F(SessionStoreTest, CreateThenLookup) {
  ASSERT_OK_AND_ASSIGN(NewSession session,
                       store_->Create("staff-1", "alice", {ROLE_FRONT_DESK, ROLE_TECHNICIAN},
                                      {"clinic-1", "clinic-2"}, "ipv4:10.0.0.1:4000"));
  EXPECT_EQ(session.token.size(), 43u);
  const SessionRecord& created = session.record;
  EXPECT_FALSE(created.session_id.empty());
  EXPECT_EQ(created.staff_id, "staff-1");
  EXPECT_EQ(created.username, "alice");
  EXPECT_THAT(created.roles, ElementsAre(ROLE_FRONT_DESK, ROLE_TECHNICIAN));
  EXPECT_THAT(created.clinic_ids, ElementsAre("clinic-1", "clinic-2"));
  EXPECT_EQ(created.create_time, kStart);
  EXPECT_EQ(created.expire_time, kStart + absl::Hours(1));
  EXPECT_EQ(created.absolute_expire_time, kStart + absl::Hours(4));
  EXPECT_EQ(created.client_address, "ipv4:10.0.0.1:4000");

  ASSERT_OK_AND_ASSIGN(SessionRecord found, store_->Lookup(session.token));
  EXPECT_EQ(found.session_id, created.session_id);
  EXPECT_EQ(found.staff_id, created.staff_id);
  EXPECT_EQ(found.username, created.username);
  EXPECT_EQ(found.roles, created.roles);
  EXPECT_EQ(found.clinic_ids, created.clinic_ids);
  EXPECT_EQ(found.create_time, created.create_time);
  EXPECT_EQ(found.expire_time, created.expire_time);
  EXPECT_EQ(found.absolute_expire_time, created.absolute_expire_time);
  EXPECT_EQ(found.client_address, created.client_address);
}

TEST_F(SessionStoreTest, SessionWithoutRolesOrClinics) {
  ASSERT_OK_AND_ASSIGN(NewSession session, store_->Create("staff-1", "", {}, {}, ""));
  ASSERT_OK_AND_ASSIGN(SessionRecord found, store_->Lookup(session.token));
  EXPECT_THAT(found.roles, IsEmpty());
  EXPECT_THAT(found.clinic_ids, IsEmpty());
}

TEST_F(SessionStoreTest, KeysAndRedisTtls) {
  NewSession session = MustCreate("staff-1");
  const std::string key = KeyOf(session);
  const std::string id_key = SessionStore::SessionIdKey(session.record.session_id);
  const std::string staff_key = SessionStore::StaffSessionsKey("staff-1");
  EXPECT_EQ(Redis({"GET", id_key}).str(), Sha256Hex(session.token));
  EXPECT_EQ(Redis({"SISMEMBER", staff_key, session.record.session_id}).integer(), 1);
  // TTLs equal the time to expiry (less the few ms this test takes).
  EXPECT_GT(Pttl(key), absl::Minutes(59));
  EXPECT_LE(Pttl(key), absl::Hours(1));
  EXPECT_GT(Pttl(id_key), absl::Minutes(59));
  EXPECT_LE(Pttl(id_key), absl::Hours(1));
  EXPECT_GT(Pttl(staff_key), absl::Hours(3) + absl::Minutes(59));
}

TEST_F(SessionStoreTest, NeverStoresTheRawToken) {
  std::vector<NewSession> sessions = {MustCreate("staff-1"), MustCreate("staff-1"),
                                      MustCreate("staff-2")};
  clock_.Advance(absl::Minutes(5));
  for (const NewSession& session : sessions) ASSERT_OK(store_->Lookup(session.token).status());
  ASSERT_OK(store_->ListForStaff("staff-1").status());

  std::vector<std::string> secrets;
  for (const NewSession& session : sessions) {
    secrets.push_back(session.token);
    std::string raw;
    ASSERT_TRUE(Base64UrlDecode(session.token, &raw));
    secrets.push_back(raw);
  }
  RedisReply keys = Redis({"KEYS", "*"});
  ASSERT_FALSE(keys.elements().empty());
  int values_seen = 0;
  for (const RedisReply& key : keys.elements()) {
    std::vector<std::string> texts = {key.str()};
    const std::string type = Redis({"TYPE", key.str()}).str();
    RedisReply value;
    if (type == "hash") {
      value = Redis({"HGETALL", key.str()});
    } else if (type == "set") {
      value = Redis({"SMEMBERS", key.str()});
    } else {
      ASSERT_EQ(type, "string") << key.str();
      value = RedisReply::Array({Redis({"GET", key.str()})});
    }
    for (const RedisReply& element : value.elements()) texts.push_back(element.str());
    for (const std::string& text : texts) {
      ++values_seen;
      for (const std::string& secret : secrets) {
        EXPECT_FALSE(absl::StrContains(text, secret)) << "key " << key.str() << " holds a token";
      }
    }
  }
  EXPECT_GT(values_seen, 20);
}

TEST_F(SessionStoreTest, UnknownOrEmptyTokenIsUnauthenticated) {
  MustCreate("staff-1");
  EXPECT_THAT(store_->Lookup(NewBearerToken()), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(""), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(SessionStoreTest, ExpiresAfterIdleTimeout) {
  NewSession session = MustCreate("staff-1");
  clock_.Advance(absl::Hours(1) - absl::Microseconds(1));
  NewSession other = MustCreate("staff-2");  // created later: still live below
  EXPECT_THAT(store_->GetById(session.record.session_id), IsOk());
  clock_.Advance(absl::Microseconds(1));
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->GetById(session.record.session_id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Lookup(other.token), IsOk());
}

TEST_F(SessionStoreTest, LookupSlidesExpiryCappedByMaxLifetime) {
  NewSession session = MustCreate("staff-1");
  const std::string key = KeyOf(session);
  // Used every 50 minutes: lives past the idle timeout until the absolute lifetime.
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(absl::Minutes(50));
    ASSERT_OK_AND_ASSIGN(SessionRecord record, store_->Lookup(session.token));
    EXPECT_EQ(record.expire_time, clock_.Now() + absl::Hours(1)) << "use " << i;
    // The Redis TTLs slid with it.
    EXPECT_GT(Pttl(key), absl::Minutes(59));
    EXPECT_GT(Pttl(SessionStore::SessionIdKey(record.session_id)), absl::Minutes(59));
  }
  clock_.Advance(absl::Minutes(50));  // 3h20m after login: sliding would pass the 4h cap
  ASSERT_OK_AND_ASSIGN(SessionRecord capped, store_->Lookup(session.token));
  EXPECT_EQ(capped.expire_time, kStart + absl::Hours(4));
  EXPECT_EQ(capped.expire_time, capped.absolute_expire_time);
  EXPECT_LE(Pttl(key), absl::Minutes(40));
  EXPECT_GT(Pttl(key), absl::Minutes(39));

  clock_.Set(kStart + absl::Hours(4) - absl::Microseconds(1));
  EXPECT_THAT(store_->Lookup(session.token), IsOk());
  clock_.Set(kStart + absl::Hours(4));
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(SessionStoreTest, RefreshIsThrottledByGranularity) {
  policy_.refresh_granularity = absl::Minutes(1);
  SessionStore store(pool_.get(), policy_, clock_);
  ASSERT_OK_AND_ASSIGN(NewSession session, store.Create("staff-1", "a", {}, {}, ""));
  const std::string stored_expiry = Redis({"HGET", KeyOf(session), "expire_time"}).str();

  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(SessionRecord not_slid, store.Lookup(session.token));
  EXPECT_EQ(not_slid.expire_time, session.record.expire_time);
  EXPECT_EQ(Redis({"HGET", KeyOf(session), "expire_time"}).str(), stored_expiry);

  clock_.Advance(absl::Seconds(31));
  ASSERT_OK_AND_ASSIGN(SessionRecord slid, store.Lookup(session.token));
  EXPECT_EQ(slid.expire_time, clock_.Now() + absl::Hours(1));
  EXPECT_NE(Redis({"HGET", KeyOf(session), "expire_time"}).str(), stored_expiry);
}

TEST_F(SessionStoreTest, RedisTtlRemovesExpiredSessions) {
  // Real clock and a short idle timeout: Redis itself drops the keys.
  SessionPolicy short_policy;
  short_policy.idle_timeout = absl::Seconds(1);  // long enough for a loaded test machine
  short_policy.max_lifetime = absl::Seconds(2);
  SessionStore store(pool_.get(), short_policy, Clock::Real());
  ASSERT_OK_AND_ASSIGN(NewSession session, store.Create("staff-1", "a", {}, {}, ""));
  const std::string id_key = SessionStore::SessionIdKey(session.record.session_id);
  ASSERT_TRUE(Exists(KeyOf(session)));
  ASSERT_TRUE(Exists(id_key));
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_FALSE(Exists(KeyOf(session)));
  EXPECT_FALSE(Exists(id_key));
  EXPECT_THAT(store.Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(std::vector<SessionRecord> listed, store.ListForStaff("staff-1"));
  EXPECT_THAT(listed, IsEmpty());
}

TEST_F(SessionStoreTest, GetByIdDoesNotSlide) {
  NewSession session = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(30));
  ASSERT_OK_AND_ASSIGN(SessionRecord record, store_->GetById(session.record.session_id));
  EXPECT_EQ(record.staff_id, "staff-1");
  EXPECT_EQ(record.expire_time, kStart + absl::Hours(1));
  EXPECT_EQ(Redis({"HGET", KeyOf(session), "expire_time"}).str(),
            absl::StrCat(absl::ToUnixMicros(kStart + absl::Hours(1))));
  EXPECT_THAT(store_->GetById("no-such-session"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetById(""), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SessionStoreTest, RevokeById) {
  NewSession session = MustCreate("staff-1");
  NewSession other = MustCreate("staff-1");
  ASSERT_OK(store_->RevokeById(session.record.session_id));
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->GetById(session.record.session_id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->RevokeById(session.record.session_id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(Exists(KeyOf(session)));
  EXPECT_FALSE(Exists(SessionStore::SessionIdKey(session.record.session_id)));
  EXPECT_EQ(
      Redis({"SISMEMBER", SessionStore::StaffSessionsKey("staff-1"), session.record.session_id})
          .integer(),
      0);
  EXPECT_THAT(store_->Lookup(other.token), IsOk());
}

TEST_F(SessionStoreTest, RevokeToken) {
  NewSession session = MustCreate("staff-1");
  ASSERT_OK(store_->RevokeToken(session.token));
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(Exists(SessionStore::SessionIdKey(session.record.session_id)));
  ASSERT_OK_AND_ASSIGN(std::vector<SessionRecord> listed, store_->ListForStaff("staff-1"));
  EXPECT_THAT(listed, IsEmpty());
  // Already gone, unknown or empty: still OK.
  EXPECT_THAT(store_->RevokeToken(session.token), IsOk());
  EXPECT_THAT(store_->RevokeToken(NewBearerToken()), IsOk());
  EXPECT_THAT(store_->RevokeToken(""), IsOk());
}

TEST_F(SessionStoreTest, RevokeAllForStaffExceptOne) {
  NewSession first = MustCreate("staff-1");
  NewSession kept = MustCreate("staff-1");
  NewSession third = MustCreate("staff-1");
  NewSession someone_else = MustCreate("staff-2");
  ASSERT_OK(store_->RevokeAllForStaff("staff-1", kept.record.session_id));
  EXPECT_THAT(store_->Lookup(first.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(third.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(kept.token), IsOk());
  EXPECT_THAT(store_->Lookup(someone_else.token), IsOk());
  ASSERT_OK_AND_ASSIGN(std::vector<SessionRecord> listed, store_->ListForStaff("staff-1"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].session_id, kept.record.session_id);

  ASSERT_OK(store_->RevokeAllForStaff("staff-1"));
  EXPECT_THAT(store_->Lookup(kept.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(someone_else.token), IsOk());
  EXPECT_THAT(store_->RevokeAllForStaff("nobody"), IsOk());
}

TEST_F(SessionStoreTest, ListForStaffNewestFirstAndPrunesDeadMembers) {
  NewSession oldest = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(1));
  NewSession gone = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(1));
  NewSession middle = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(1));
  NewSession newest = MustCreate("staff-1");
  MustCreate("staff-2");
  // As if Redis' TTL had removed one session's keys.
  Redis({"DEL", KeyOf(gone), SessionStore::SessionIdKey(gone.record.session_id)});

  ASSERT_OK_AND_ASSIGN(std::vector<SessionRecord> listed, store_->ListForStaff("staff-1"));
  std::vector<std::string> ids;
  for (const SessionRecord& record : listed) ids.push_back(record.session_id);
  EXPECT_THAT(ids, ElementsAre(newest.record.session_id, middle.record.session_id,
                               oldest.record.session_id));
  EXPECT_EQ(Redis({"SISMEMBER", SessionStore::StaffSessionsKey("staff-1"), gone.record.session_id})
                .integer(),
            0);
  EXPECT_EQ(Redis({"SCARD", SessionStore::StaffSessionsKey("staff-1")}).integer(), 3);

  // Expired by the clock: not listed (Redis' TTL will drop the keys).
  clock_.Set(oldest.record.expire_time);
  ASSERT_OK_AND_ASSIGN(listed, store_->ListForStaff("staff-1"));
  EXPECT_EQ(listed.size(), 2u);
  ASSERT_OK_AND_ASSIGN(listed, store_->ListForStaff("nobody"));
  EXPECT_THAT(listed, IsEmpty());
}

TEST_F(SessionStoreTest, CreateValidatesInput) {
  EXPECT_THAT(store_->Create("", "a", {}, {}, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Create("s", "a", {common::v1::ROLE_UNSPECIFIED}, {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Create("s", "a", {static_cast<common::v1::Role>(42)}, {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Create("s", "a", {}, {"a,b"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Create("s", "a", {}, {""}, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Redis({"DBSIZE"}).integer(), 0);
}

// The value of smp_session_mac_failures_total in this process's registry (0 before the first).
double MacFailures() {
  const std::string text = Metrics().RenderPrometheus();
  const std::string prefix = "\nsmp_session_mac_failures_total ";
  size_t at = text.find(prefix);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + prefix.size()));
}

// Writes a whole session record as an attacker with Redis access would: every field a service
// writes, with the values the attacker chose, and a MAC field of the attacker's making.
void WriteRecord(RedisPool& pool, const std::string& token_hash,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::string> hset = {"HSET", SessionStore::SessionKey(token_hash)};
  for (const auto& [name, value] : fields) {
    hset.push_back(name);
    hset.push_back(value);
  }
  ASSERT_OK(pool.Command(hset).status());
}

TEST_F(SessionStoreTest, ForgedAdminRecordIsRefusedLoggedAndCounted) {
  // An admin session under a token of the attacker's choosing, well-formed in every field.
  const std::string token = NewBearerToken();
  const std::string now = absl::StrCat(absl::ToUnixMicros(kStart));
  const std::string later = absl::StrCat(absl::ToUnixMicros(kStart + absl::Hours(1)));
  std::vector<std::pair<std::string, std::string>> forged = {
      {"v", "2"},
      {"session_id", "01JFORGEDSESSION0000000000"},
      {"staff_id", "01JFORGEDSTAFF000000000000"},
      {"username", "mallory"},
      {"roles", absl::StrCat(static_cast<int>(ROLE_ADMIN))},
      {"clinic_ids", ""},
      {"create_time", now},
      {"expire_time", later},
      {"absolute_expire_time", later},
      {"client_address", "ipv4:10.6.6.6:1"}};
  WriteRecord(*pool_, Sha256Hex(token), forged);  // no MAC at all
  const double before = MacFailures();
  EXPECT_THAT(store_->Lookup(token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(MacFailures(), before + 1);

  // With a MAC made under a key the services do not hold.
  SessionMac::Fields fields(forged.begin(), forged.end());
  ASSERT_OK_AND_ASSIGN(SessionMac attacker, SessionMac::Create(std::string(32, 'k')));
  Redis({"HSET", KeyOf(NewSession{token, {}}), "mac", attacker.Sign(Sha256Hex(token), fields)});
  EXPECT_THAT(store_->Lookup(token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(MacFailures(), before + 2);
  // Nor does the forged record turn up by id.
  Redis({"SET", SessionStore::SessionIdKey("01JFORGEDSESSION0000000000"), Sha256Hex(token)});
  EXPECT_THAT(store_->GetById("01JFORGEDSESSION0000000000"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SessionStoreTest, GenuineRecordCopiedUnderAnotherTokenIsRefused) {
  NewSession desk = MustCreate("staff-1");
  RedisReply genuine = Redis({"HGETALL", KeyOf(desk)});
  std::vector<std::pair<std::string, std::string>> copied;
  for (size_t i = 0; i + 1 < genuine.elements().size(); i += 2) {
    copied.emplace_back(genuine.elements()[i].str(), genuine.elements()[i + 1].str());
  }
  const std::string token = NewBearerToken();
  WriteRecord(*pool_, Sha256Hex(token), copied);
  EXPECT_THAT(store_->Lookup(token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(desk.token), IsOk());  // the original is untouched
}

TEST_F(SessionStoreTest, EditedRecordIsRefused) {
  const double before = MacFailures();
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"roles", absl::StrCat(static_cast<int>(ROLE_ADMIN))},
           {"clinic_ids", "clinic-1,clinic-2"},
           {"staff_id", "someone-else"},
           {"absolute_expire_time", absl::StrCat(absl::ToUnixMicros(kStart + absl::Hours(99)))},
           {"extra", "field"}}) {
    NewSession desk = MustCreate("staff-1");
    Redis({"HSET", KeyOf(desk), field, value});
    EXPECT_THAT(store_->Lookup(desk.token), StatusIs(absl::StatusCode::kUnauthenticated)) << field;
    EXPECT_THAT(store_->GetById(desk.record.session_id), StatusIs(absl::StatusCode::kNotFound))
        << field;
  }
  EXPECT_EQ(MacFailures(), before + 10);
  // ListForStaff skips them all.
  ASSERT_OK_AND_ASSIGN(std::vector<SessionRecord> listed, store_->ListForStaff("staff-1"));
  EXPECT_THAT(listed, IsEmpty());
}

TEST_F(SessionStoreTest, SlidingReSignsTheRecord) {
  NewSession session = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(30));
  ASSERT_OK_AND_ASSIGN(SessionRecord slid, store_->Lookup(session.token));
  EXPECT_EQ(slid.expire_time, kStart + absl::Minutes(90));
  // The stored expiry moved and the record still verifies, in another store with the same key.
  SessionStore other(pool_.get(), policy_, clock_);
  ASSERT_OK_AND_ASSIGN(SessionRecord again, other.Lookup(session.token));
  EXPECT_EQ(again.expire_time, kStart + absl::Minutes(90));
}

TEST_F(SessionStoreTest, KeyRotationAcceptsThePreviousKeyAndSignsWithTheNew) {
  ASSERT_OK_AND_ASSIGN(SessionMac old_key, SessionMac::Create(std::string(32, 'o')));
  ASSERT_OK_AND_ASSIGN(SessionMac new_key, SessionMac::Create(std::string(40, 'n')));
  ASSERT_OK_AND_ASSIGN(SessionMac rotating,
                       SessionMac::Create(std::string(40, 'n'), std::string(32, 'o')));
  SessionStore before(pool_.get(), policy_, clock_, old_key);
  SessionStore during(pool_.get(), policy_, clock_, rotating);
  SessionStore after(pool_.get(), policy_, clock_, new_key);

  ASSERT_OK_AND_ASSIGN(NewSession old_session,
                       before.Create("staff-1", "a", {ROLE_FRONT_DESK}, {"c"}, ""));
  EXPECT_THAT(after.Lookup(old_session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(during.Lookup(old_session.token), IsOk());

  ASSERT_OK_AND_ASSIGN(NewSession new_session,
                       during.Create("staff-1", "a", {ROLE_FRONT_DESK}, {"c"}, ""));
  EXPECT_THAT(after.Lookup(new_session.token), IsOk());
  EXPECT_THAT(before.Lookup(new_session.token), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(SessionStoreTest, RevokeAllForStaffCanSpareSessionsMadeAfterAChange) {
  NewSession old_session = MustCreate("staff-1");
  clock_.Advance(absl::Minutes(1));
  const absl::Time change = clock_.Now();
  clock_.Advance(absl::Minutes(1));
  NewSession new_session = MustCreate("staff-1");
  ASSERT_OK(store_->RevokeAllForStaff("staff-1", "", change));
  EXPECT_THAT(store_->Lookup(old_session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->Lookup(new_session.token), IsOk());
}

// Deletes a session's hash right after Lookup has read it: a revocation racing the refresh.
class RevokeAfterReadClient final : public RedisClient {
 public:
  explicit RevokeAfterReadClient(RedisClient* target) : target_(target) {}
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override {
    absl::StatusOr<RedisReply> reply = target_->Command(argv);
    if (argv[0] == "HGETALL") {
      absl::Status deleted = target_->Command({"DEL", argv[1]}).status();
      if (!deleted.ok()) return deleted;
    }
    return reply;
  }
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override {
    return target_->Pipeline(commands);
  }

 private:
  RedisClient* target_;
};

TEST_F(SessionStoreTest, RefreshDoesNotResurrectARevokedSession) {
  NewSession session = MustCreate("staff-1");
  RevokeAfterReadClient racing(pool_.get());
  SessionStore store(&racing, policy_, clock_);
  clock_.Advance(absl::Minutes(5));
  EXPECT_THAT(store.Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(Exists(KeyOf(session)));
}

TEST_F(SessionStoreTest, RedisDownIsUnavailableAndRecovers) {
  NewSession session = MustCreate("staff-1");
  ASSERT_OK(server_->Stop());
  const absl::StatusCode kUnavailable = absl::StatusCode::kUnavailable;
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(kUnavailable));
  EXPECT_THAT(store_->Create("staff-1", "a", {}, {}, ""), StatusIs(kUnavailable));
  EXPECT_THAT(store_->GetById(session.record.session_id), StatusIs(kUnavailable));
  EXPECT_THAT(store_->RevokeById(session.record.session_id), StatusIs(kUnavailable));
  EXPECT_THAT(store_->RevokeToken(session.token), StatusIs(kUnavailable));
  EXPECT_THAT(store_->ListForStaff("staff-1"), StatusIs(kUnavailable));
  EXPECT_THAT(store_->RevokeAllForStaff("staff-1"), StatusIs(kUnavailable));

  ASSERT_OK(server_->Start());
  // Same pool: it reconnects. The restarted Redis has no data, so the old session is gone.
  EXPECT_THAT(store_->Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));
  NewSession fresh = MustCreate("staff-1");
  EXPECT_THAT(store_->Lookup(fresh.token), IsOk());
}

}  // namespace
}  // namespace smp

namespace smp {
namespace {

// Records the last pipeline passed through, to see what a session write sends.
class RecordingRedisClient final : public RedisClient {
 public:
  explicit RecordingRedisClient(RedisClient* target) : target_(target) {}
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override {
    return target_->Command(argv);
  }
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override {
    last_pipeline_ = commands;
    return target_->Pipeline(commands);
  }
  const std::vector<std::vector<std::string>>& last_pipeline() const { return last_pipeline_; }

 private:
  RedisClient* const target_;
  std::vector<std::vector<std::string>> last_pipeline_;
};

// With replicas to wait for (Sentinel deployments), logins and revocations end with WAIT on the
// connection that wrote them; a Redis without replicas answers 0 and the write still stands.
TEST_F(SessionStoreTest, LoginsAndRevocationsWaitForReplicasWhenAsked) {
  RecordingRedisClient recording(pool_.get());
  SessionPolicy policy = policy_;
  policy.replicas_to_ack = 1;
  policy.replica_ack_timeout = absl::Milliseconds(30);
  SessionStore store(&recording, policy, clock_);
  const std::vector<std::string> wait = {"WAIT", "1", "30"};

  ASSERT_OK_AND_ASSIGN(NewSession session, store.Create("staff-w", "w", {ROLE_FRONT_DESK},
                                                        {"clinic-1"}, "ipv4:10.0.0.1:4000"));
  ASSERT_FALSE(recording.last_pipeline().empty());
  EXPECT_EQ(recording.last_pipeline().back(), wait);
  EXPECT_OK(store.Lookup(session.token).status());  // unconfirmed, but on the primary

  ASSERT_OK(store.RevokeToken(session.token));
  EXPECT_EQ(recording.last_pipeline().back(), wait);
  EXPECT_THAT(store.Lookup(session.token), StatusIs(absl::StatusCode::kUnauthenticated));

  ASSERT_OK(store.Create("staff-w", "w", {ROLE_FRONT_DESK}, {"clinic-1"}, "a").status());
  ASSERT_OK(store.RevokeAllForStaff("staff-w"));
  EXPECT_EQ(recording.last_pipeline().back(), wait);
  EXPECT_THAT(Metrics().RenderPrometheus(),
              ::testing::HasSubstr("smp_session_writes_unreplicated_total"));

  // Plain Redis (the default policy): no WAIT.
  SessionStore plain(&recording, policy_, clock_);
  ASSERT_OK(plain.Create("staff-p", "p", {ROLE_FRONT_DESK}, {"clinic-1"}, "a").status());
  EXPECT_EQ(recording.last_pipeline().back()[0], "EXEC");
}

}  // namespace
}  // namespace smp
