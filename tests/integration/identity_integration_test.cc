// The identity service as a real process, with a real redis-server, over real gRPC.

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/testing/test_database.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tests/integration/service_process.h"

namespace smp::identity {
namespace {

using ::smp::common::v1::ROLE_AUDITOR;
using ::smp::common::v1::ROLE_FRONT_DESK;
using ::smp::common::v1::ROLE_TECHNICIAN;
using ::smp::testing::RedisServer;
using ::smp::testing::ServiceProcess;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kSetupCode[] = "integration-setup-code";
constexpr char kAdminPassword[] = "admin password 1";

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

MATCHER_P2(GrpcIs, code, substring, "") {
  *result_listener << "status " << arg.error_code() << " \"" << arg.error_message() << "\"";
  return arg.error_code() == code && arg.error_message().find(substring) != std::string::npos;
}

// The ErrorInfo reason a gRPC status carries in its details, or "".
std::string ReasonOf(const grpc::Status& status) { return ErrorReason(FromGrpcStatus(status)); }

class IdentityIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Redis as stack.sh runs it: an ACL user with a password from a file, the default user off,
    // and the append-only file on (so a restart keeps sessions, as in production).
    const std::string secrets = smp::testing::MakeTempDir("secrets");
    redis_password_ = Base64UrlEncode(RandomBytes(24));
    redis_password_file_ = WriteSecret(secrets + "/redis.password", redis_password_ + "\n");
    mac_key_file_ = WriteSecret(secrets + "/session-mac.key", RandomBytes(32));
    ASSERT_OK_AND_ASSIGN(redis_,
                         RedisServer::StartNewWithAcl(
                             "smp", redis_password_,
                             {"--appendonly", "yes", "--dir", smp::testing::MakeTempDir("redis")}));
    data_dir_ = smp::testing::MakeTempDir("identity");
    ASSERT_FALSE(data_dir_.empty());
    ASSERT_OK_AND_ASSIGN(identity_, StartIdentity({}));
    stub_ = StubFor(*identity_);

    v1::BootstrapAdminRequest boot;
    boot.set_setup_code(kSetupCode);
    boot.set_username("root");
    boot.set_display_name("Chain Admin");
    boot.set_password(kAdminPassword);
    v1::Staff admin;
    ASSERT_TRUE(stub_->BootstrapAdmin(Ctx().get(), boot, &admin).ok());
    admin_token_ = LoginOk("root", kAdminPassword);
  }

  static std::string WriteSecret(const std::string& path, const std::string& content) {
    {
      std::ofstream out(path, std::ios::binary);
      out << content;
    }
    chmod(path.c_str(), 0600);
    return path;
  }

  // The flags every identity process of this test gets unless `extra` overrides them (later
  // flags win).
  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartIdentity(std::vector<std::string> extra) {
    std::vector<std::string> args = ArgsFor(data_dir_);
    args.push_back(smp::testing::SetupCodeFileFlag(kSetupCode));
    args.insert(args.end(), extra.begin(), extra.end());
    return ServiceProcess::Start(SMP_IDENTITY_BINARY, args);
  }

  // An identity on `data_dir` with this fixture's Redis and secrets (and the default setup-code
  // file, in `data_dir`).
  std::vector<std::string> ArgsFor(const std::string& data_dir) const {
    return {"--data_dir=" + data_dir, absl::StrCat("--redis=127.0.0.1:", redis_->port()),
            "--redis_user=smp", "--redis_password_file=" + redis_password_file_,
            "--session_mac_key_file=" + mac_key_file_};
  }

  static std::unique_ptr<v1::IdentityService::Stub> StubFor(const ServiceProcess& process) {
    return v1::IdentityService::NewStub(
        grpc::CreateChannel(process.address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Login(const std::string& username, const std::string& password,
                     v1::LoginResponse* out) {
    v1::LoginRequest req;
    req.set_username(username);
    req.set_password(password);
    return stub_->Login(Ctx().get(), req, out);
  }

  std::string LoginOk(const std::string& username, const std::string& password) {
    v1::LoginResponse out;
    grpc::Status status = Login(username, password, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out.access_token();
  }

  grpc::Status WhoAmI(v1::IdentityService::Stub& stub, const std::string& token,
                      v1::WhoAmIResponse* out = nullptr) {
    v1::WhoAmIResponse ignored;
    return stub.WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), out ? out : &ignored);
  }

  grpc::Status CreateClinic(const std::string& token, const std::string& request_id,
                            const v1::Clinic& clinic, v1::Clinic* out) {
    v1::CreateClinicRequest req;
    req.set_request_id(request_id);
    *req.mutable_clinic() = clinic;
    return stub_->CreateClinic(Ctx(token).get(), req, out);
  }

  static v1::Clinic ClinicNamed(const std::string& name, const std::string& tz) {
    v1::Clinic c;
    c.set_name(name);
    c.set_time_zone(tz);
    return c;
  }

  v1::Clinic MakeClinic(const std::string& name, const std::string& tz) {
    v1::Clinic out;
    grpc::Status s = CreateClinic(admin_token_, "create-" + name, ClinicNamed(name, tz), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Staff MakeStaff(const std::string& username, common::v1::Role role,
                      const std::vector<std::string>& clinics,
                      const std::string& password = "staff password 1") {
    v1::CreateStaffRequest req;
    req.set_request_id("staff-" + username);
    req.mutable_staff()->set_username(username);
    req.mutable_staff()->set_display_name(username);
    req.mutable_staff()->add_roles(role);
    for (const auto& c : clinics) req.mutable_staff()->add_clinic_ids(c);
    req.set_initial_password(password);
    v1::Staff out;
    grpc::Status s = stub_->CreateStaff(Ctx(admin_token_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  int CountClinics() {
    v1::ListClinicsRequest req;
    req.set_page_size(500);
    v1::ListClinicsResponse out;
    EXPECT_TRUE(stub_->ListClinics(Ctx(admin_token_).get(), req, &out).ok());
    return out.clinics_size();
  }

  // Polls until `token` is refused by `stub` or `limit` passes; returns how long that took.
  absl::Duration TimeUntilRefused(v1::IdentityService::Stub& stub, const std::string& token,
                                  absl::Duration limit) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < limit) {
      if (WhoAmI(stub, token).error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        return absl::Now() - start;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::InfiniteDuration();
  }

  // A client of this test's Redis with the services' credentials, to play the attacker who can
  // write to Redis.
  RedisPool& Redis() {
    if (pool_ == nullptr) pool_ = std::make_unique<RedisPool>(redis_->options());
    return *pool_;
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisPool> pool_;
  std::string redis_password_;
  std::string redis_password_file_;
  std::string mac_key_file_;
  std::string data_dir_;
  std::unique_ptr<ServiceProcess> identity_;
  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::string admin_token_;
};

TEST_F(IdentityIntegrationTest, LoginWhoAmILogoutAcrossProcesses) {
  // A second identity process on the same database and Redis: a replica behind a load balancer.
  ASSERT_OK_AND_ASSIGN(auto replica, StartIdentity({}));
  auto replica_stub = StubFor(*replica);

  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(*stub_, admin_token_, &me).ok());
  EXPECT_EQ(me.staff().username(), "root");
  EXPECT_FALSE(me.session().id().empty());
  EXPECT_GT(me.permissions_size(), 5);
  ASSERT_TRUE(WhoAmI(*replica_stub, admin_token_).ok());  // warms the replica's cache

  v1::LogoutResponse out;
  ASSERT_TRUE(stub_->Logout(Ctx(admin_token_).get(), v1::LogoutRequest(), &out).ok());
  EXPECT_THAT(WhoAmI(*stub_, admin_token_), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_LT(TimeUntilRefused(*replica_stub, admin_token_, absl::Seconds(2)), absl::Seconds(1));
}

TEST_F(IdentityIntegrationTest, MissingOrBadTokenIsUnauthenticated) {
  EXPECT_THAT(WhoAmI(*stub_, ""), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_THAT(WhoAmI(*stub_, "not-a-real-token"), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  v1::Clinic out;
  EXPECT_THAT(CreateClinic("", "r1", ClinicNamed("X", "UTC"), &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_EQ(CountClinics(), 0);
}

TEST_F(IdentityIntegrationTest, WrongPasswordAndUnknownUserLookAlike) {
  v1::LoginResponse out;
  EXPECT_THAT(Login("root", "wrong password!", &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password"));
  grpc::Status unknown = Login("nobody", "wrong password!", &out);
  EXPECT_THAT(unknown, GrpcIs(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password"));
  EXPECT_EQ(ReasonOf(unknown), "WRONG_CREDENTIALS");
  EXPECT_TRUE(out.access_token().empty());
  EXPECT_THAT(Login("", "x", &out), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "username"));
}

TEST_F(IdentityIntegrationTest, AnAuditorListsFailedLoginsAndAFrontDeskCannot) {
  const std::string clinic = MakeClinic("Austin", "America/Chicago").id();
  MakeStaff("auditor.one", common::v1::ROLE_AUDITOR, {});
  MakeStaff("desk.austin", common::v1::ROLE_FRONT_DESK, {clinic});
  const std::string auditor = LoginOk("auditor.one", "staff password 1");
  const std::string desk = LoginOk("desk.austin", "staff password 1");
  v1::LoginResponse out;
  EXPECT_THAT(Login("desk.austin", "wrong password!", &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_THAT(Login("desk.austin", "wrong password?", &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));

  v1::ListLoginFailuresRequest req;
  v1::ListLoginFailuresResponse listed;
  ASSERT_TRUE(stub_->ListLoginFailures(Ctx(auditor).get(), req, &listed).ok());
  bool found = false;
  for (const v1::LoginFailure& f : listed.login_failures()) {
    if (f.kind() == v1::LOGIN_FAILURE_KIND_ACCOUNT && f.subject() == "desk.austin") {
      EXPECT_EQ(f.failures(), 2);
      found = true;
    }
  }
  EXPECT_TRUE(found) << listed.DebugString();
  EXPECT_THAT(stub_->ListLoginFailures(Ctx(desk).get(), req, &listed),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
}

TEST_F(IdentityIntegrationTest, RepeatedFailuresAreDelayedNotLockedOut) {
  v1::LoginResponse out;
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(Login("root", "wrong password!", &out),
                GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  }
  // Now even the right password waits a moment ...
  grpc::Status delayed = Login("root", kAdminPassword, &out);
  EXPECT_THAT(delayed, GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "too many failed logins for this account; wait 1 second"));
  EXPECT_EQ(ReasonOf(delayed), "TOO_MANY_FAILED_LOGINS");
  EXPECT_TRUE(out.access_token().empty());
  // ... but no 15 minutes: the owner is in once it has passed.
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_FALSE(LoginOk("root", kAdminPassword).empty());
}

TEST_F(IdentityIntegrationTest, RedisRefusesClientsWithoutThePassword) {
  RedisOptions anonymous = redis_->options();
  anonymous.user.clear();
  anonymous.password.clear();
  RedisPool pool(anonymous);
  EXPECT_THAT(pool.Command({"KEYS", "smp:session:*"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NOAUTH")));
  EXPECT_THAT(pool.Command({"HSET", "smp:session:x", "roles", "1"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NOAUTH")));
}

TEST_F(IdentityIntegrationTest, ServiceWithoutTheRightSecretsDoesNotStart) {
  const std::string dir = smp::testing::MakeTempDir("bad-secrets");
  // A wrong Redis password: the process ends at start (and logs WRONGPASS, not the password).
  EXPECT_THAT(StartIdentity({"--redis_password_file=" +
                             WriteSecret(dir + "/wrong.password", "not the password\n")}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exited during start-up")));
  // No session MAC key, or one that others can read.
  EXPECT_THAT(StartIdentity({"--session_mac_key_file="}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exited during start-up")));
  const std::string readable = WriteSecret(dir + "/readable.key", RandomBytes(32));
  chmod(readable.c_str(), 0644);
  EXPECT_THAT(StartIdentity({"--session_mac_key_file=" + readable}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exited during start-up")));
}

// Writes a session record into Redis under `token`'s key, as an attacker with Redis access can.
void WriteRecord(RedisPool& redis, const std::string& token,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::string> hset = {"HSET", "smp:session:" + Sha256Hex(token)};
  for (const auto& [name, value] : fields) {
    hset.push_back(name);
    hset.push_back(value);
  }
  ASSERT_OK(redis.Command(hset).status());
  ASSERT_OK(redis.Command({"PEXPIRE", hset[1], "3600000"}).status());
}

TEST_F(IdentityIntegrationTest, ForgedAdminSessionIsRefused) {
  const std::string token = NewBearerToken();  // the attacker's choice
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const std::string later = absl::StrCat(now + 3600000000);
  WriteRecord(Redis(), token,
              {{"v", "2"},
               {"session_id", NewId()},
               {"staff_id", NewId()},
               {"username", "root"},
               {"roles", "1"},  // ROLE_ADMIN
               {"clinic_ids", ""},
               {"create_time", absl::StrCat(now)},
               {"expire_time", later},
               {"absolute_expire_time", later},
               {"client_address", "ipv4:127.0.0.1:1"},
               {"mac", std::string(64, 'a')}});
  EXPECT_THAT(WhoAmI(*stub_, token), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  v1::Clinic out;
  EXPECT_THAT(CreateClinic(token, "forged-1", ClinicNamed("Evil", "UTC"), &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_EQ(CountClinics(), 0);
}

TEST_F(IdentityIntegrationTest, FrontDeskRecordCopiedAndEditedIntoAnAdminIsRefused) {
  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  const std::string desk_token = LoginOk("desk.austin", "staff password 1");
  ASSERT_OK_AND_ASSIGN(RedisReply genuine,
                       Redis().Command({"HGETALL", "smp:session:" + Sha256Hex(desk_token)}));
  ASSERT_FALSE(genuine.elements().empty());
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 0; i + 1 < genuine.elements().size(); i += 2) {
    const std::string& name = genuine.elements()[i].str();
    fields.emplace_back(name, name == "roles" ? "1" : genuine.elements()[i + 1].str());
  }
  // The copy, with admin roles, under a token of the attacker's choosing.
  const std::string token = NewBearerToken();
  WriteRecord(Redis(), token, fields);
  EXPECT_THAT(WhoAmI(*stub_, token), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  v1::Clinic out;
  EXPECT_THAT(CreateClinic(token, "copied-1", ClinicNamed("Evil", "UTC"), &out),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  // The copy unchanged under another token is refused as well (the MAC covers the token hash).
  const std::string plain_copy = NewBearerToken();
  std::vector<std::pair<std::string, std::string>> unchanged;
  for (size_t i = 0; i + 1 < genuine.elements().size(); i += 2) {
    unchanged.emplace_back(genuine.elements()[i].str(), genuine.elements()[i + 1].str());
  }
  WriteRecord(Redis(), plain_copy, unchanged);
  EXPECT_THAT(WhoAmI(*stub_, plain_copy), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));

  // The desk's own record edited in place: its own token stops working.
  ASSERT_TRUE(WhoAmI(*stub_, desk_token).ok());
  ASSERT_OK(
      Redis().Command({"HSET", "smp:session:" + Sha256Hex(desk_token), "roles", "1"}).status());
  EXPECT_LT(TimeUntilRefused(*stub_, desk_token, absl::Seconds(3)), absl::Seconds(2));
  EXPECT_EQ(CountClinics(), 1);
}

// Before: DisableStaff answered UNAVAILABLE and the token stayed valid until an admin retried.
TEST_F(IdentityIntegrationTest, DisableWhileRedisIsDownIsFinishedWhenRedisIsBack) {
  // The admin's session must pass while Redis is down: a long cache here, and a quick retry.
  ASSERT_OK_AND_ASSIGN(
      auto identity, StartIdentity({"--auth_cache_ttl=30s", "--revocation_retry_interval=200ms"}));
  auto stub = StubFor(*identity);
  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  v1::Staff desk = MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  const std::string desk_token = LoginOk("desk.austin", "staff password 1");
  ASSERT_TRUE(WhoAmI(*stub, admin_token_).ok());  // cached by `identity`

  ASSERT_OK(redis_->Stop());
  v1::DisableStaffRequest req;
  req.set_request_id("disable-while-down");
  req.set_id(desk.id());
  req.set_reason("left the company");
  v1::Staff disabled;
  grpc::Status status = stub->DisableStaff(Ctx(admin_token_).get(), req, &disabled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(disabled.state(), v1::STAFF_STATE_DISABLED);
  EXPECT_TRUE(disabled.session_revocation_pending());

  ASSERT_OK(redis_->Start());  // the append-only file brings the sessions back ...
  ASSERT_OK_AND_ASSIGN(RedisReply kept,
                       Redis().Command({"EXISTS", "smp:session:" + Sha256Hex(admin_token_)}));
  ASSERT_EQ(kept.integer(), 1);  // ... so the desk's is not gone merely by the restart
  // No retry by anyone: identity finishes the revocation by itself.
  EXPECT_LT(TimeUntilRefused(*stub_, desk_token, absl::Seconds(15)), absl::Seconds(15));
  ASSERT_OK_AND_ASSIGN(RedisReply left,
                       Redis().Command({"EXISTS", "smp:session:" + Sha256Hex(desk_token)}));
  EXPECT_EQ(left.integer(), 0);
}

TEST_F(IdentityIntegrationTest, ExpiredSessionIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto short_lived,
                       StartIdentity({"--session_idle_timeout=1s", "--auth_cache_ttl=0"}));
  auto stub = StubFor(*short_lived);
  v1::LoginRequest req;
  req.set_username("root");
  req.set_password(kAdminPassword);
  v1::LoginResponse login;
  ASSERT_TRUE(stub->Login(Ctx().get(), req, &login).ok());
  ASSERT_TRUE(WhoAmI(*stub, login.access_token()).ok());
  absl::SleepFor(absl::Milliseconds(1200));
  EXPECT_THAT(WhoAmI(*stub, login.access_token()), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
}

TEST_F(IdentityIntegrationTest, DisablingAnAccountRevokesItsSessionsAtOnce) {
  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  v1::Staff desk = MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  std::string token = LoginOk("desk.austin", "staff password 1");
  ASSERT_TRUE(WhoAmI(*stub_, token).ok());

  v1::DisableStaffRequest req;
  req.set_request_id("disable-1");
  req.set_id(desk.id());
  req.set_reason("left the company");
  v1::Staff disabled;
  ASSERT_TRUE(stub_->DisableStaff(Ctx(admin_token_).get(), req, &disabled).ok());
  EXPECT_EQ(disabled.state(), v1::STAFF_STATE_DISABLED);
  EXPECT_LT(TimeUntilRefused(*stub_, token, absl::Seconds(2)), absl::Seconds(1));
  v1::LoginResponse out;
  grpc::Status refused = Login("desk.austin", "staff password 1", &out);
  EXPECT_THAT(refused, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "disabled"));
  EXPECT_EQ(ReasonOf(refused), "ACCOUNT_DISABLED");
}

TEST_F(IdentityIntegrationTest, RedisDownFailsClosedAndRecovers) {
  ASSERT_TRUE(WhoAmI(*stub_, admin_token_).ok());
  ASSERT_OK(redis_->Stop());
  absl::SleepFor(absl::Milliseconds(600));  // past the in-process cache's 500 ms
  EXPECT_THAT(WhoAmI(*stub_, admin_token_), GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
  v1::LoginResponse out;
  EXPECT_THAT(Login("root", kAdminPassword, &out), GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
  ASSERT_OK(redis_->Start());
  // Back: the pool reconnects (and authenticates again); a new login works.
  std::string token = LoginOk("root", kAdminPassword);
  EXPECT_TRUE(WhoAmI(*stub_, token).ok());
}

TEST_F(IdentityIntegrationTest, BadInputIsRefusedByFieldAndStoresNothing) {
  v1::Clinic out;
  struct Case {
    v1::Clinic clinic;
    std::string field;
  };
  std::vector<Case> cases = {
      {ClinicNamed("", "UTC"), "clinic.name"},
      {ClinicNamed(std::string(201, 'x'), "UTC"), "clinic.name"},
      {ClinicNamed("Mars", "Mars/Olympus"), "clinic.time_zone"},
      {ClinicNamed("Nowhere", ""), "clinic.time_zone"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(CreateClinic(admin_token_, "bad-" + c.field, c.clinic, &out),
                GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, c.field));
  }
  EXPECT_THAT(CreateClinic(admin_token_, "", ClinicNamed("Ok", "UTC"), &out),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "request_id"));
  EXPECT_EQ(CountClinics(), 0);

  v1::CreateStaffRequest staff;
  staff.set_request_id("bad-staff");
  staff.mutable_staff()->set_username("new.person");
  staff.mutable_staff()->set_display_name("New Person");
  staff.mutable_staff()->add_roles(static_cast<common::v1::Role>(42));
  staff.set_initial_password("long enough password");
  v1::Staff created;
  EXPECT_THAT(stub_->CreateStaff(Ctx(admin_token_).get(), staff, &created),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "staff.roles[0]: unknown role 42"));
  staff.mutable_staff()->set_roles(0, ROLE_AUDITOR);
  staff.mutable_staff()->set_username("");
  EXPECT_THAT(stub_->CreateStaff(Ctx(admin_token_).get(), staff, &created),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "staff.username"));
  staff.mutable_staff()->set_username("new.person");
  staff.set_initial_password("short");
  EXPECT_THAT(stub_->CreateStaff(Ctx(admin_token_).get(), staff, &created),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "initial_password"));
  v1::ListStaffResponse listed;
  ASSERT_TRUE(stub_->ListStaff(Ctx(admin_token_).get(), v1::ListStaffRequest(), &listed).ok());
  EXPECT_EQ(listed.staff_size(), 1);  // only the admin

  v1::ListClinicsRequest negative;
  negative.set_page_size(-1);
  v1::ListClinicsResponse page;
  EXPECT_THAT(stub_->ListClinics(Ctx(admin_token_).get(), negative, &page),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "page_size"));
}

TEST_F(IdentityIntegrationTest, FrontDeskSeesOnlyItsOwnClinic) {
  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  v1::Clinic b = MakeClinic("London", "Europe/London");
  MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  v1::Staff tech_b = MakeStaff("tech.london", ROLE_TECHNICIAN, {b.id()});
  std::string desk = LoginOk("desk.austin", "staff password 1");

  v1::GetClinicRequest get;
  get.set_id(a.id());
  v1::Clinic clinic;
  EXPECT_TRUE(stub_->GetClinic(Ctx(desk).get(), get, &clinic).ok());
  get.set_id(b.id());
  grpc::Status outside = stub_->GetClinic(Ctx(desk).get(), get, &clinic);
  EXPECT_THAT(outside, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"));
  EXPECT_EQ(ReasonOf(outside), reason::kOutsideClinicScope);

  v1::ListClinicsResponse listed;
  ASSERT_TRUE(stub_->ListClinics(Ctx(desk).get(), v1::ListClinicsRequest(), &listed).ok());
  ASSERT_EQ(listed.clinics_size(), 1);
  EXPECT_EQ(listed.clinics(0).id(), a.id());

  v1::GetStaffRequest get_staff;
  get_staff.set_id(tech_b.id());
  v1::Staff staff;
  grpc::Status other_staff = stub_->GetStaff(Ctx(desk).get(), get_staff, &staff);
  EXPECT_THAT(other_staff, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_EQ(ReasonOf(other_staff), reason::kOutsideClinicScope);
  v1::ListStaffRequest list_b;
  list_b.set_clinic_id(b.id());
  v1::ListStaffResponse staff_b;
  EXPECT_THAT(stub_->ListStaff(Ctx(desk).get(), list_b, &staff_b),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));

  v1::Clinic created;
  grpc::Status rogue = CreateClinic(desk, "desk-create", ClinicNamed("Rogue", "UTC"), &created);
  EXPECT_THAT(rogue, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_CLINICS_WRITE"));
  EXPECT_EQ(ReasonOf(rogue), reason::kMissingPermission);
  EXPECT_EQ(CountClinics(), 2);
}

TEST_F(IdentityIntegrationTest, ReplayedCreateReturnsTheSameClinic) {
  v1::Clinic first, second, third;
  ASSERT_TRUE(
      CreateClinic(admin_token_, "req-42", ClinicNamed("Miami", "America/New_York"), &first).ok());
  ASSERT_TRUE(
      CreateClinic(admin_token_, "req-42", ClinicNamed("Miami", "America/New_York"), &second).ok());
  EXPECT_EQ(first.id(), second.id());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  grpc::Status reused =
      CreateClinic(admin_token_, "req-42", ClinicNamed("Tampa", "America/New_York"), &third);
  EXPECT_THAT(reused, GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "different request"));
  EXPECT_EQ(ReasonOf(reused), reason::kRequestIdReused);
  EXPECT_EQ(CountClinics(), 1);
}

TEST_F(IdentityIntegrationTest, StaleEtagIsAborted) {
  v1::Clinic c = MakeClinic("Denver", "America/Denver");
  v1::UpdateClinicRequest req;
  req.set_request_id("rename-1");
  *req.mutable_clinic() = c;
  req.mutable_clinic()->set_name("Denver Central");
  req.mutable_update_mask()->add_paths("name");
  v1::Clinic updated;
  ASSERT_TRUE(stub_->UpdateClinic(Ctx(admin_token_).get(), req, &updated).ok());
  EXPECT_EQ(updated.name(), "Denver Central");
  EXPECT_NE(updated.etag(), c.etag());
  req.set_request_id("rename-2");  // same stale etag, new request
  req.mutable_clinic()->set_name("Denver North");
  grpc::Status stale = stub_->UpdateClinic(Ctx(admin_token_).get(), req, &updated);
  EXPECT_THAT(stale, GrpcIs(grpc::StatusCode::ABORTED, "current etag"));
  EXPECT_EQ(ReasonOf(stale), reason::kStaleEtag);
  EXPECT_EQ(ErrorMetadata(FromGrpcStatus(stale), "current_etag"), updated.etag());
}

// Octal permission bits of `path` (not following a link), or -1.
int ModeOf(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST_F(IdentityIntegrationTest, FilesArePrivateWhateverTheUmaskAndAnOpenDatabaseIsRefused) {
  // A fresh service started under the most permissive umask, on an empty system.
  const std::string dir = smp::testing::MakeTempDir("umask") + "/data/identity";
  const mode_t old_umask = ::umask(0);
  absl::StatusOr<std::unique_ptr<ServiceProcess>> fresh =
      ServiceProcess::Start(SMP_IDENTITY_BINARY, ArgsFor(dir));
  ::umask(old_umask);
  ASSERT_OK(fresh.status());
  // On PostgreSQL the database is the server's (no file here); the data dir still holds the
  // setup code and is refused when others can enter it.
  const bool sqlite = smp::testing::BackendFromEnvironment() == smp::testing::Backend::kSqlite;
  EXPECT_EQ(ModeOf(dir), 0700);
  if (sqlite) {
    EXPECT_EQ(ModeOf(dir + "/identity.sqlite"), 0600);
    EXPECT_EQ(ModeOf(dir + "/identity.sqlite-wal"), 0600);
    EXPECT_EQ(ModeOf(dir + "/identity.sqlite-shm"), 0600);
  } else {
    EXPECT_EQ(ModeOf(dir + "/identity.sqlite"), -1);
  }
  EXPECT_EQ(ModeOf(dir + "/identity-setup-code"), 0600);
  EXPECT_EQ((*fresh)->Stop(), 0);

  absl::StatusOr<std::unique_ptr<ServiceProcess>> refused;
  if (sqlite) {
    // A database others can read (an older install, a careless copy): the service refuses to
    // start (the log names the file and `chmod 600`), and starts again once it is fixed.
    ASSERT_EQ(::chmod((dir + "/identity.sqlite").c_str(), 0644), 0);
    refused = ServiceProcess::Start(SMP_IDENTITY_BINARY, ArgsFor(dir));
    EXPECT_THAT(refused,
                StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exited during start-up")));
    ASSERT_EQ(::chmod((dir + "/identity.sqlite").c_str(), 0600), 0);
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  refused = ServiceProcess::Start(SMP_IDENTITY_BINARY, ArgsFor(dir));
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exited during start-up")));
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  ASSERT_OK(ServiceProcess::Start(SMP_IDENTITY_BINARY, ArgsFor(dir)).status());
}

TEST_F(IdentityIntegrationTest, BootstrapWorksOnlyOnce) {
  v1::BootstrapAdminRequest boot;
  boot.set_setup_code(kSetupCode);
  boot.set_username("second.root");
  boot.set_display_name("Second");
  boot.set_password("another password");
  v1::Staff out;
  grpc::Status again = stub_->BootstrapAdmin(Ctx().get(), boot, &out);
  EXPECT_THAT(again, GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "already has staff"));
  EXPECT_EQ(ReasonOf(again), "ALREADY_BOOTSTRAPPED");
}

TEST_F(IdentityIntegrationTest, SessionsCanBeListedAndRevoked) {
  std::string second = LoginOk("root", kAdminPassword);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(*stub_, second, &me).ok());
  v1::ListSessionsResponse sessions;
  ASSERT_TRUE(
      stub_->ListSessions(Ctx(admin_token_).get(), v1::ListSessionsRequest(), &sessions).ok());
  ASSERT_EQ(sessions.sessions_size(), 2);
  EXPECT_EQ(sessions.sessions(0).id(), me.session().id());  // newest first

  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  std::string desk = LoginOk("desk.austin", "staff password 1");
  v1::ListSessionsRequest others;
  others.set_staff_id(me.staff().id());
  grpc::Status not_theirs = stub_->ListSessions(Ctx(desk).get(), others, &sessions);
  EXPECT_THAT(not_theirs, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "SESSIONS_MANAGE"));
  EXPECT_EQ(ReasonOf(not_theirs), reason::kMissingPermission);
  v1::RevokeSessionRequest revoke;
  revoke.set_request_id("revoke-by-desk");
  revoke.set_session_id(me.session().id());
  v1::RevokeSessionResponse revoked;
  EXPECT_THAT(stub_->RevokeSession(Ctx(desk).get(), revoke, &revoked),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  revoke.set_request_id("revoke-1");
  ASSERT_TRUE(stub_->RevokeSession(Ctx(admin_token_).get(), revoke, &revoked).ok());
  EXPECT_THAT(WhoAmI(*stub_, second), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_TRUE(WhoAmI(*stub_, admin_token_).ok());
  // A retry of the same request answers as the first time; a new request finds nothing to revoke.
  EXPECT_TRUE(stub_->RevokeSession(Ctx(admin_token_).get(), revoke, &revoked).ok());
  revoke.set_request_id("revoke-2");
  EXPECT_THAT(stub_->RevokeSession(Ctx(admin_token_).get(), revoke, &revoked),
              GrpcIs(grpc::StatusCode::NOT_FOUND, ""));

  // Sessions page, newest first.
  LoginOk("root", kAdminPassword);
  v1::ListSessionsRequest paged;
  paged.set_page_size(1);
  v1::ListSessionsResponse first_page;
  ASSERT_TRUE(stub_->ListSessions(Ctx(admin_token_).get(), paged, &first_page).ok());
  ASSERT_EQ(first_page.sessions_size(), 1);
  EXPECT_FALSE(first_page.next_page_token().empty());
  paged.set_page_token(first_page.next_page_token());
  v1::ListSessionsResponse second_page;
  ASSERT_TRUE(stub_->ListSessions(Ctx(admin_token_).get(), paged, &second_page).ok());
  ASSERT_EQ(second_page.sessions_size(), 1);
  EXPECT_NE(second_page.sessions(0).id(), first_page.sessions(0).id());
  EXPECT_TRUE(second_page.next_page_token().empty());
}

TEST_F(IdentityIntegrationTest, ChangingRolesRevokesSessionsAndTakesEffect) {
  v1::Clinic a = MakeClinic("Austin", "America/Chicago");
  v1::Staff desk = MakeStaff("desk.austin", ROLE_FRONT_DESK, {a.id()});
  std::string token = LoginOk("desk.austin", "staff password 1");
  v1::UpdateStaffRequest req;
  req.set_request_id("promote-1");
  *req.mutable_staff() = desk;
  req.mutable_staff()->set_roles(0, ROLE_TECHNICIAN);
  req.mutable_update_mask()->add_paths("roles");
  v1::Staff updated;
  ASSERT_TRUE(stub_->UpdateStaff(Ctx(admin_token_).get(), req, &updated).ok());
  EXPECT_EQ(updated.roles(0), ROLE_TECHNICIAN);
  EXPECT_THAT(WhoAmI(*stub_, token), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(*stub_, LoginOk("desk.austin", "staff password 1"), &me).ok());
  EXPECT_EQ(me.staff().roles(0), ROLE_TECHNICIAN);

  // The last active admin can neither be disabled nor demoted.
  v1::DisableStaffRequest disable;
  disable.set_request_id("disable-root");
  v1::WhoAmIResponse root;
  ASSERT_TRUE(WhoAmI(*stub_, admin_token_, &root).ok());
  disable.set_id(root.staff().id());
  disable.set_reason("testing");
  v1::Staff out;
  grpc::Status last = stub_->DisableStaff(Ctx(admin_token_).get(), disable, &out);
  EXPECT_THAT(last, GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "at least one active admin"));
  EXPECT_EQ(ReasonOf(last), "LAST_ADMIN");
  EXPECT_TRUE(WhoAmI(*stub_, admin_token_).ok());
}

TEST_F(IdentityIntegrationTest, ChangePasswordNeedsTheCurrentOneAndEndsOtherSessions) {
  std::string other = LoginOk("root", kAdminPassword);
  v1::ChangePasswordRequest req;
  req.set_request_id("change-1");
  req.set_current_password("not my password");
  req.set_new_password("a brand new password");
  v1::ChangePasswordResponse out;
  grpc::Status wrong = stub_->ChangePassword(Ctx(admin_token_).get(), req, &out);
  EXPECT_THAT(wrong, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "current_password"));
  EXPECT_EQ(ReasonOf(wrong), "WRONG_PASSWORD");
  req.set_request_id("change-2");
  req.set_current_password(kAdminPassword);
  ASSERT_TRUE(stub_->ChangePassword(Ctx(admin_token_).get(), req, &out).ok());
  EXPECT_TRUE(WhoAmI(*stub_, admin_token_).ok());
  EXPECT_THAT(WhoAmI(*stub_, other), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  v1::LoginResponse login;
  EXPECT_THAT(Login("root", kAdminPassword, &login), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_FALSE(LoginOk("root", "a brand new password").empty());
}

}  // namespace
}  // namespace smp::identity
