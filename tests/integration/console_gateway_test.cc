// The web console's gateway as a real process in front of real identity and scheduling processes
// (and a real redis-server): a browser's HTTP/JSON calls transcoded to the services, the session
// in the cookie, the services' refusals (missing permission, clinic scope) passed through
// unchanged, a change feed streamed as Server-Sent Events, and logout ending the session in every
// service.

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp {
namespace {

using ::smp::testing::CallContext;
using ::smp::testing::IdentityHarness;
using ::smp::testing::ServiceProcess;
using ::testing::HasSubstr;
using ::testing::Not;

// The console binary as a child process; only this child is ever signalled, by its PID.
class ConsoleProcess {
 public:
  static std::unique_ptr<ConsoleProcess> Start(const std::vector<std::string>& flags) {
    auto process = std::unique_ptr<ConsoleProcess>(new ConsoleProcess());
    const std::string ready = smp::testing::MakeTempDir("console-ready") + "/ready";
    std::vector<std::string> args = {SMP_CONSOLE_BINARY, "--listen=127.0.0.1:0",
                                     "--ready_file=" + ready, "--allow_insecure_http"};
    args.insert(args.end(), flags.begin(), flags.end());
    process->pid_ = ::fork();
    if (process->pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      std::ifstream in(ready);
      std::string line;
      while (std::getline(in, line)) {
        std::vector<std::string> kv = absl::StrSplit(line, '=');
        if (kv.size() == 2 && kv[0] == "http_port" && absl::SimpleAtoi(kv[1], &process->port_)) {
          return process;
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "the console did not become ready in 20 s";
    return nullptr;
  }
  ~ConsoleProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }

 private:
  ConsoleProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
};

// One browser: its own cookie jar (the session cookie) and CSRF token.
class Browser {
 public:
  explicit Browser(int port)
      : client_("127.0.0.1", port), origin_(absl::StrCat("http://127.0.0.1:", port)) {
    client_.set_read_timeout(30, 0);
  }

  httplib::Result LogIn(const std::string& username) {
    httplib::Result res =
        client_.Post("/api/login", {{"Origin", origin_}},
                     absl::StrCat(R"({"username":")", username, R"(","password":")",
                                  IdentityHarness::kPassword, R"("})"),
                     "application/json");
    if (res && res->status == 200) {
      const std::string set_cookie = res->get_header_value("Set-Cookie");
      cookie_ = set_cookie.substr(0, set_cookie.find(';'));
      const size_t at = res->body.find("\"csrfToken\":\"");
      csrf_ = res->body.substr(at + 13, res->body.find('"', at + 13) - at - 13);
    }
    return res;
  }

  httplib::Result Post(const std::string& path, const std::string& json) {
    return client_.Post(path, {{"Origin", origin_}, {"Cookie", cookie_}, {"X-CSRF-Token", csrf_}},
                        json, "application/json");
  }
  httplib::Result Call(const std::string& rpc, const std::string& json) {
    return Post("/api/" + rpc, json);
  }
  httplib::Result Get(const std::string& path) { return client_.Get(path, {{"Cookie", cookie_}}); }

  // The bearer token inside the cookie (what the browser's page never sees).
  std::string token() const { return cookie_.substr(cookie_.find('=') + 1); }

 private:
  httplib::Client client_;
  std::string origin_;
  std::string cookie_;
  std::string csrf_;
};

// A JSON string field's value in `json` (first occurrence), "" when absent.
std::string JsonField(const std::string& json, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\":\"");
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

constexpr char kI[] = "smp.identity.v1.IdentityService/";
constexpr char kS[] = "smp.scheduling.v1.SchedulingService/";
// The rest of a ListAppointments request after the clinic id: a week in December.
constexpr char kPeriod[] =
    R"(","period":{"startTime":"2026-12-07T00:00:00Z","endTime":"2026-12-14T00:00:00Z"}})";

class ConsoleGatewayTest : public ::testing::Test {
 protected:
  // Identity trusts the console (on this machine's loopback, as stack.sh runs it) to name the
  // browser's address.
  ConsoleGatewayTest() : identity_flags_({"--trusted_forwarders=127.0.0.1"}) {}
  explicit ConsoleGatewayTest(std::vector<std::string> identity_flags)
      : identity_flags_(std::move(identity_flags)) {}

  void SetUp() override {
    ASSERT_OK(harness_.Start(identity_flags_));
    clinic_a_ = harness_.MakeClinic("NewYork", "America/New_York");
    clinic_b_ = harness_.MakeClinic("London", "Europe/London");
    tech_ = harness_.MakeStaff("tech.a", common::v1::ROLE_TECHNICIAN, clinic_a_);
    harness_.MakeStaff("desk.a", common::v1::ROLE_FRONT_DESK, clinic_a_);
    harness_.MakeStaff("desk.a2", common::v1::ROLE_FRONT_DESK, clinic_a_);
    harness_.MakeStaff("auditor", common::v1::ROLE_AUDITOR);
    ASSERT_OK_AND_ASSIGN(scheduling_,
                         ServiceProcess::Start(SMP_SCHEDULING_BINARY,
                                               {"--data_dir=" + smp::testing::MakeTempDir("sched"),
                                                harness_.RedisFlag()}));
    console_ = ConsoleProcess::Start({"--identity_address=" + harness_.identity().address(),
                                      "--scheduling_address=" + scheduling_->address(),
                                      "--stream_timeout=4s"});
    ASSERT_NE(console_, nullptr);
  }

  // A Login straight to identity, as a forwarder would send it for the browser at `address`.
  grpc::Status LoginFrom(const std::string& address, const std::string& username,
                         const std::string& password) {
    identity::v1::LoginRequest req;
    req.set_username(username);
    req.set_password(password);
    identity::v1::LoginResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx = CallContext();
    ctx->AddMetadata("x-smp-client-address", address);
    return harness_.stub().Login(ctx.get(), req, &resp);
  }

  const std::vector<std::string> identity_flags_;
  IdentityHarness harness_;
  std::string clinic_a_, clinic_b_, tech_;
  std::unique_ptr<ServiceProcess> scheduling_;
  std::unique_ptr<ConsoleProcess> console_;
};

TEST_F(ConsoleGatewayTest, ServiceRefusalsComeThroughUnchanged) {
  Browser desk(console_->port());
  ASSERT_EQ(desk.LogIn("desk.a")->status, 200);

  // A front desk lacks CLINICS_WRITE: identity's own PERMISSION_DENIED, with its reason.
  httplib::Result create =
      desk.Call(absl::StrCat(kI, "CreateClinic"),
                R"({"requestId":"c1","clinic":{"name":"Rogue","timeZone":"Europe/Paris"}})");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->status, 403);
  EXPECT_THAT(create->body, HasSubstr(R"("status":"PERMISSION_DENIED")"));
  EXPECT_THAT(create->body, HasSubstr(R"("reason":"MISSING_PERMISSION")"));

  // Another clinic's calendar: scheduling's clinic-scope refusal.
  httplib::Result other = desk.Call(absl::StrCat(kS, "ListAppointments"),
                                    absl::StrCat(R"({"clinicId":")", clinic_b_, kPeriod));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_THAT(other->body, HasSubstr(R"("reason":"OUTSIDE_CLINIC_SCOPE")"));

  // Lists are the service's, filtered to the desk's clinic.
  httplib::Result clinics = desk.Call(absl::StrCat(kI, "ListClinics"), "{}");
  ASSERT_TRUE(clinics);
  EXPECT_EQ(clinics->status, 200);
  EXPECT_THAT(clinics->body, HasSubstr(clinic_a_));
  EXPECT_THAT(clinics->body, Not(HasSubstr(clinic_b_)));

  // A bad value is the service's INVALID_ARGUMENT with the field violation.
  httplib::Result bad = desk.Call(absl::StrCat(kS, "CreatePatient"),
                                  R"({"requestId":"p0","patient":{"givenName":""}})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("fieldViolations"));

  // The auditor reads every clinic but changes nothing.
  Browser auditor(console_->port());
  ASSERT_EQ(auditor.LogIn("auditor")->status, 200);
  EXPECT_EQ(auditor
                .Call(absl::StrCat(kS, "ListAppointments"),
                      absl::StrCat(R"({"clinicId":")", clinic_b_, kPeriod))
                ->status,
            200);
  httplib::Result write = auditor.Call(absl::StrCat(kS, "CreatePatient"),
                                       R"({"requestId":"p1","patient":{"givenName":"A",)"
                                       R"("familyName":"B"}})");
  ASSERT_TRUE(write);
  EXPECT_EQ(write->status, 403);
  EXPECT_THAT(write->body, HasSubstr("PERMISSION_DENIED"));
}

TEST_F(ConsoleGatewayTest, ABookingReachesAnotherDesksChangeFeedAsServerSentEvents) {
  Browser admin(console_->port()), desk(console_->port()), desk2(console_->port());
  ASSERT_EQ(admin.LogIn("root")->status, 200);
  ASSERT_EQ(desk.LogIn("desk.a")->status, 200);
  ASSERT_EQ(desk2.LogIn("desk.a2")->status, 200);
  // The clinic set up through the console as an admin would: opening hours, a chair, shifts.
  std::string hours;
  for (const char* day :
       {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}) {
    absl::StrAppend(&hours, hours.empty() ? "" : ",", R"({"day":")", day,
                    R"(","startTime":{"hours":8},"endTime":{"hours":20}})");
  }
  httplib::Result schedule =
      admin.Call(absl::StrCat(kS, "UpdateClinicSchedule"),
                 absl::StrCat(R"({"requestId":"s1","schedule":{"clinicId":")", clinic_a_,
                              R"(","timeZone":"America/New_York","openingHours":[)", hours, "]}}"));
  ASSERT_EQ(schedule->status, 200) << schedule->body;
  httplib::Result chair = admin.Call(absl::StrCat(kS, "CreateChair"),
                                     absl::StrCat(R"({"requestId":"ch1","chair":{"clinicId":")",
                                                  clinic_a_, R"(","name":"Chair 1"}})"));
  ASSERT_EQ(chair->status, 200) << chair->body;
  httplib::Result shifts =
      admin.Call(absl::StrCat(kS, "SetWorkingHours"),
                 absl::StrCat(R"({"requestId":"h1","workingHours":{"practitionerId":")", tech_,
                              R"(","clinicId":")", clinic_a_, R"(","intervals":[)", hours, "]}}"));
  ASSERT_EQ(shifts->status, 200) << shifts->body;
  httplib::Result patient = desk.Call(
      absl::StrCat(kS, "CreatePatient"),
      absl::StrCat(R"({"requestId":"p1","patient":{"givenName":"Sam","familyName":"Rivera",)",
                   R"("phone":"+12125550142","preferredClinicId":")", clinic_a_, R"("}})"));
  ASSERT_EQ(patient->status, 200) << patient->body;

  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + 8;
  httplib::Result slots = desk.Call(
      absl::StrCat(kS, "FindAvailability"),
      absl::StrCat(R"({"clinicId":")", clinic_a_, R"(","type":"CONSULTATION","period":)",
                   R"({"startDate":{"year":)", day.year(), R"(,"month":)", day.month(),
                   R"(,"day":)", day.day(), R"(},"endDate":{"year":)", day.year(), R"(,"month":)",
                   day.month(), R"(,"day":)", day.day(), R"(}},"maxSlots":1})"));
  ASSERT_EQ(slots->status, 200) << slots->body;
  const std::string start = JsonField(slots->body, "startTime");
  ASSERT_FALSE(start.empty()) << slots->body;

  // desk.a2 watches the clinic's feed (the stream ends at the console's --stream_timeout, 4 s)
  // while desk.a books.
  int watched_status = 0;
  std::string watched_body, watched_type;
  std::thread watcher([&] {
    httplib::Result watched = desk2.Call(absl::StrCat(kS, "WatchChanges"),
                                         absl::StrCat(R"({"clinicId":")", clinic_a_, R"("})"));
    if (!watched) return;
    watched_status = watched->status;
    watched_body = watched->body;
    watched_type = watched->get_header_value("Content-Type");
  });
  absl::SleepFor(absl::Milliseconds(500));
  httplib::Result booked =
      desk.Call(absl::StrCat(kS, "BookAppointment"),
                absl::StrCat(R"({"requestId":"b1","clinicId":")", clinic_a_, R"(","patientId":")",
                             JsonField(patient->body, "id"), R"(","practitionerId":")", tech_,
                             R"(","chairId":")", JsonField(chair->body, "id"),
                             R"(","type":"CONSULTATION","startTime":")", start, R"("})"));
  ASSERT_EQ(booked->status, 200) << booked->body;
  watcher.join();
  EXPECT_EQ(watched_status, 200);
  EXPECT_THAT(watched_type, HasSubstr("text/event-stream"));
  EXPECT_THAT(watched_body, HasSubstr("event: message\ndata: "));
  EXPECT_THAT(watched_body, HasSubstr(JsonField(booked->body, "id")));
  // The stream's deadline is the console's: the service's DEADLINE_EXCEEDED as the last event.
  EXPECT_THAT(watched_body, HasSubstr("event: error\ndata: {\"error\":{\"code\":504"));

  // The other clinic's feed is refused by scheduling, as an error event or status.
  httplib::Result other = desk.Call(absl::StrCat(kS, "WatchChanges"),
                                    absl::StrCat(R"({"clinicId":")", clinic_b_, R"("})"));
  ASSERT_TRUE(other);
  EXPECT_THAT(other->body, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(other->body, HasSubstr("OUTSIDE_CLINIC_SCOPE"));
}

TEST_F(ConsoleGatewayTest, LogoutEndsTheSessionInEveryService) {
  Browser desk(console_->port());
  ASSERT_EQ(desk.LogIn("desk.a")->status, 200);
  httplib::Result session = desk.Get("/api/session");
  ASSERT_TRUE(session);
  EXPECT_EQ(session->status, 200);
  EXPECT_THAT(session->body, HasSubstr(R"("username":"desk.a")"));
  const std::string token = desk.token();

  httplib::Result out = desk.Post("/api/logout", "{}");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_THAT(out->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));

  // The token itself, used directly at scheduling, is dead too (after the services' 500 ms cache).
  auto stub = scheduling::v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
  absl::SleepFor(absl::Seconds(1));
  scheduling::v1::ListChairsRequest req;
  req.set_clinic_id(clinic_a_);
  scheduling::v1::ListChairsResponse resp;
  grpc::Status status = stub->ListChairs(CallContext(token).get(), req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_EQ(desk.Get("/api/session")->status, 401);
}

TEST_F(ConsoleGatewayTest, FailedLoginsCountAgainstTheBrowserNotTheConsole) {
  // The console names the browser's address; identity, trusting it, keeps it with the session.
  Browser desk(console_->port());
  httplib::Result in = desk.LogIn("desk.a");
  ASSERT_EQ(in->status, 200) << in->body;
  EXPECT_THAT(in->body, HasSubstr(R"("clientAddress":"127.0.0.1")"));

  // One browser (every test browser is 127.0.0.1) fails 20 logins through the console...
  Browser guesser(console_->port());
  for (int i = 0; i < 20; ++i) {
    httplib::Result wrong = guesser.LogIn(absl::StrCat("ghost", i));
    ASSERT_EQ(wrong->status, 401) << i << ": " << wrong->body;
  }
  // ...and is held, with identity's own message...
  httplib::Result held = guesser.LogIn("desk.a2");
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 429) << held->body;
  EXPECT_THAT(held->body, HasSubstr("too many failed logins from this address"));
  // ...while a browser elsewhere, named by the console (a trusted forwarder), logs in at once.
  grpc::Status other = LoginFrom("198.51.100.8", "desk.a2", IdentityHarness::kPassword);
  EXPECT_TRUE(other.ok()) << other.error_message();
  // And a named address is limited on its own: 20 failures from 198.51.100.9 hold only it.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(LoginFrom("198.51.100.9", absl::StrCat("nobody", i), "x").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(LoginFrom("198.51.100.9", "desk.a2", IdentityHarness::kPassword).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(LoginFrom("198.51.100.10", "desk.a2", IdentityHarness::kPassword).ok());
}

// Identity trusts another forwarder only: the header of this peer (the test process, and the
// console beside it) is ignored, so naming other addresses does not escape the limit.
class ConsoleUntrustedForwarderTest : public ConsoleGatewayTest {
 protected:
  ConsoleUntrustedForwarderTest() : ConsoleGatewayTest({"--trusted_forwarders=192.0.2.1"}) {}
};

TEST_F(ConsoleUntrustedForwarderTest, AnUntrustedPeersClientAddressIsIgnored) {
  Browser desk(console_->port());
  httplib::Result in = desk.LogIn("desk.a");
  ASSERT_EQ(in->status, 200) << in->body;
  EXPECT_THAT(in->body, HasSubstr(R"("clientAddress":"ipv4:127.0.0.1:)"));
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(
        LoginFrom(absl::StrCat("198.51.100.", i + 1), absl::StrCat("ghost", i), "x").error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  // All 20 counted against the real peer: a "new" address is held just the same.
  grpc::Status held = LoginFrom("203.0.113.50", "desk.a2", IdentityHarness::kPassword);
  EXPECT_EQ(held.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << held.error_message();
  EXPECT_THAT(held.error_message(), HasSubstr("from this address"));
}

}  // namespace
}  // namespace smp
