// The gateway in-process over real HTTP, in front of fake identity and scheduling services on
// loopback gRPC: the cookie and CSRF rules, transcoding both ways, a service's structured refusal
// passed on, a server stream as Server-Sent Events, and the start-up refusals.

#include "services/console/gateway.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/console/stream_slots.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"

namespace smp::console {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
namespace iv1 = ::smp::identity::v1;
namespace sv1 = ::smp::scheduling::v1;

std::string BearerOf(grpc::ServerContext* ctx) {
  auto it = ctx->client_metadata().find("authorization");
  return it == ctx->client_metadata().end() ? ""
                                            : std::string(it->second.data(), it->second.size());
}

class FakeIdentity : public iv1::IdentityService::Service {
 public:
  grpc::Status Login(grpc::ServerContext*, const iv1::LoginRequest* req,
                     iv1::LoginResponse* resp) override {
    if (req->password() != "right") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
    }
    resp->set_access_token("tok-" + req->username());
    resp->mutable_staff()->set_username(req->username());
    return grpc::Status::OK;
  }
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const iv1::WhoAmIRequest*,
                      iv1::WhoAmIResponse* resp) override {
    const std::string bearer = BearerOf(ctx);
    if (bearer.rfind("Bearer tok-", 0) != 0 || Ended(bearer)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "session expired or revoked");
    }
    resp->mutable_staff()->set_username(bearer.substr(11));
    return grpc::Status::OK;
  }
  grpc::Status Logout(grpc::ServerContext* ctx, const iv1::LogoutRequest*,
                      iv1::LogoutResponse*) override {
    absl::MutexLock lock(&mu_);
    ended_.push_back(BearerOf(ctx));
    return grpc::Status::OK;
  }
  bool Ended(const std::string& bearer) {
    absl::MutexLock lock(&mu_);
    return std::find(ended_.begin(), ended_.end(), bearer) != ended_.end();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> ended_ ABSL_GUARDED_BY(mu_);
};

class FakeScheduling : public sv1::SchedulingService::Service {
 public:
  // Answers the bearer header it received as the appointment's notes; "used" is refused with a
  // structured status as the real services refuse.
  grpc::Status GetAppointment(grpc::ServerContext* ctx, const sv1::GetAppointmentRequest* req,
                              sv1::Appointment* resp) override {
    if (req->id() == "used") {
      return ToGrpcStatus(
          WithErrorInfo(absl::FailedPreconditionError("needle U-1 was already used"),
                        reason::kUnitAlreadyUsed, {{"serial", "U-1"}}));
    }
    if (BearerOf(ctx).empty()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no session");
    }
    resp->set_id(req->id());
    resp->set_notes(BearerOf(ctx));
    // The browser's address as the gateway forwards it, answered as the chair (a fake's shortcut).
    auto address = ctx->client_metadata().find(kClientAddressHeader);
    if (address != ctx->client_metadata().end()) {
      resp->set_chair_id(std::string(address->second.data(), address->second.size()));
    }
    resp->set_status(sv1::BOOKED);
    return grpc::Status::OK;
  }
  grpc::Status WatchChanges(grpc::ServerContext* ctx, const sv1::WatchChangesRequest* req,
                            grpc::ServerWriter<sv1::Change>* writer) override {
    if (req->clinic_id() == "hold") {  // a quiet feed, open until the call ends
      while (!ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(20));
      return grpc::Status(grpc::StatusCode::CANCELLED, "ended");
    }
    for (int i = 1; i <= 3; ++i) {
      sv1::Change change;
      change.set_sequence(req->since_sequence() + i);
      change.set_clinic_id(req->clinic_id());
      writer->Write(change);
    }
    if (req->clinic_id() == "broken") {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the feed broke");
    }
    return grpc::Status::OK;
  }
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&identity_);
    builder.RegisterService(&scheduling_);
    services_ = builder.BuildAndStart();
    ASSERT_NE(services_, nullptr);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    channels_ = {{"smp.identity.v1.IdentityService", channel},
                 {"smp.scheduling.v1.SchedulingService", channel}};
    const ServiceChannels& channels = channels_;
    GatewayOptions options;
    options.allow_insecure_http = true;
    options.web_root = SMP_CONSOLE_WEB_ROOT;
    options.max_body_bytes = 4096;
    ASSERT_OK_AND_ASSIGN(gateway_,
                         Gateway::Start(options, channels, CsrfGuard(std::string(32, 'k'))));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
    origin_ = absl::StrCat("http://127.0.0.1:", gateway_->port());
  }
  void TearDown() override {
    if (gateway_) gateway_->Stop();
    if (services_) services_->Shutdown();
  }

  // Logs in as `user`; returns the session cookie's value and sets csrf_.
  std::string LogIn(const std::string& user) {
    httplib::Result res = client_->Post(
        "/api/login", {{"Origin", origin_}},
        absl::StrCat(R"({"username":")", user, R"(","password":"right"})"), "application/json");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << res->body;
    const std::string set_cookie = res->get_header_value("Set-Cookie");
    const size_t eq = set_cookie.find('='), semi = set_cookie.find(';');
    const std::size_t at = res->body.find("\"csrfToken\":\"");
    if (at != std::string::npos)
      csrf_ = res->body.substr(at + 13, res->body.find('"', at + 13) - at - 13);
    return set_cookie.substr(eq + 1, semi - eq - 1);
  }

  httplib::Result Call(const std::string& rpc, const std::string& body, const std::string& cookie,
                       const std::string& csrf) {
    httplib::Headers headers = {{"Origin", origin_}};
    if (!cookie.empty()) headers.emplace("Cookie", "__Host-smp_session=" + cookie);
    if (!csrf.empty()) headers.emplace("X-CSRF-Token", csrf);
    return client_->Post("/api/" + rpc, headers, body, "application/json");
  }

  FakeIdentity identity_;
  FakeScheduling scheduling_;
  ServiceChannels channels_;
  std::unique_ptr<grpc::Server> services_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<httplib::Client> client_;
  std::string origin_;
  std::string csrf_;
};

TEST_F(GatewayTest, ServesTheConsoleWithAStrictContentSecurityPolicy) {
  httplib::Result res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/html"));
  const std::string csp = res->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("default-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  httplib::Result js = client_->Get("/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_THAT(js->get_header_value("Content-Type"), HasSubstr("javascript"));
}

TEST_F(GatewayTest, LoginSetsAnHttpOnlyCookieAndNeverShowsTheToken) {
  httplib::Result res =
      client_->Post("/api/login", {{"Origin", origin_}},
                    R"({"username":"desk","password":"right"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("__Host-smp_session=tok-desk;"));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("Secure"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(res->body, Not(HasSubstr("tok-desk")));
  EXPECT_THAT(res->body, HasSubstr(R"("username":"desk")"));
  EXPECT_THAT(res->body, HasSubstr("csrfToken"));
}

TEST_F(GatewayTest, WrongPasswordIsTheServicesRefusal) {
  httplib::Result res =
      client_->Post("/api/login", {{"Origin", origin_}},
                    R"({"username":"desk","password":"wrong"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("wrong username or password"));
  EXPECT_TRUE(res->get_header_value("Set-Cookie").empty());
}

TEST_F(GatewayTest, CallCarriesTheSessionAsBearerToken) {
  const std::string cookie = LogIn("desk");
  httplib::Result res =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"id":"A1"})", cookie, csrf_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr(R"("notes":"Bearer tok-desk")"));
  EXPECT_THAT(res->body, HasSubstr(R"("status":"BOOKED")"));
  // The browser's address goes along (identity counts failed logins by it).
  EXPECT_THAT(res->body, HasSubstr(R"("chairId":"127.0.0.1")"));
}

TEST_F(GatewayTest, PostWithTheCookieButWithoutCsrfTokenIsRefusedBeforeAnyCall) {
  const std::string cookie = LogIn("desk");
  httplib::Result res =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"id":"A1"})", cookie, "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(res->body, HasSubstr("CSRF_TOKEN_INVALID"));
  // Another session's token does not do either.
  const std::string other_csrf = csrf_;
  LogIn("tech");
  res = Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"id":"A1"})", cookie, csrf_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", "{}", cookie, other_csrf)->status,
      200);
}

TEST_F(GatewayTest, CrossOriginAndFormPostsAreRefused) {
  httplib::Result cross =
      client_->Post("/api/login", {{"Origin", "https://evil.example"}},
                    R"({"username":"desk","password":"right"})", "application/json");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->status, 403);
  EXPECT_THAT(cross->body, HasSubstr("CROSS_ORIGIN_REQUEST"));
  httplib::Result form =
      client_->Post("/api/login", {{"Origin", origin_}}, "username=desk&password=right",
                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 400);
  EXPECT_TRUE(form->get_header_value("Set-Cookie").empty());
}

TEST_F(GatewayTest, ServiceRefusalKeepsItsStatusMessageAndReason) {
  const std::string cookie = LogIn("tech");
  httplib::Result res =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"id":"used"})", cookie, csrf_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr(R"("status":"FAILED_PRECONDITION")"));
  EXPECT_THAT(res->body, HasSubstr("needle U-1 was already used"));
  EXPECT_THAT(res->body, HasSubstr(R"("reason":"UNIT_ALREADY_USED")"));
}

TEST_F(GatewayTest, WithoutSessionTheServiceDecides) {
  httplib::Result res =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"id":"A1"})", "", "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("no session"));
}

TEST_F(GatewayTest, BadRequestsAreClearErrors) {
  const std::string cookie = LogIn("desk");
  httplib::Result bad_json =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment", R"({"nope":1})", cookie, csrf_);
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_THAT(bad_json->body, HasSubstr("nope"));
  httplib::Result unknown =
      Call("smp.scheduling.v1.SchedulingService/Nothing", "{}", cookie, csrf_);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  httplib::Result too_big =
      Call("smp.scheduling.v1.SchedulingService/GetAppointment",
           absl::StrCat(R"({"id":")", std::string(8000, 'x'), "\"}"), cookie, csrf_);
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
}

TEST_F(GatewayTest, LoginAndLogoutAreNotOnTheGenericPath) {
  httplib::Result res = Call("smp.identity.v1.IdentityService/Login",
                             R"({"username":"desk","password":"right"})", "", "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, Not(HasSubstr("tok-desk")));
}

TEST_F(GatewayTest, LogoutEndsTheSessionAtIdentityAndClearsTheCookie) {
  const std::string cookie = LogIn("desk");
  httplib::Headers headers = {{"Cookie", "__Host-smp_session=" + cookie}};
  httplib::Result session = client_->Get("/api/session", headers);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->status, 200);
  EXPECT_THAT(session->body, HasSubstr(R"("username":"desk")"));
  EXPECT_THAT(session->body, HasSubstr(csrf_));

  // Logout is state-changing: it needs the CSRF token too.
  headers.emplace("Origin", origin_);
  httplib::Result refused = client_->Post("/api/logout", headers, "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  headers.emplace("X-CSRF-Token", csrf_);
  httplib::Result out = client_->Post("/api/logout", headers, "{}", "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_THAT(out->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));
  EXPECT_TRUE(identity_.Ended("Bearer tok-desk"));
  httplib::Result after =
      client_->Get("/api/session", {{"Cookie", "__Host-smp_session=" + cookie}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);
}

TEST_F(GatewayTest, ServerStreamIsServerSentEvents) {
  const std::string cookie = LogIn("desk");
  httplib::Result res = Call("smp.scheduling.v1.SchedulingService/WatchChanges",
                             R"({"clinicId":"C1","sinceSequence":"10"})", cookie, csrf_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/event-stream"));
  EXPECT_THAT(res->body, HasSubstr("event: message\ndata: {\"sequence\":\"11\""));
  EXPECT_THAT(res->body, HasSubstr("\"sequence\":\"13\""));
  EXPECT_THAT(res->body, HasSubstr("event: end\ndata: {}\n\n"));

  httplib::Result broken = Call("smp.scheduling.v1.SchedulingService/WatchChanges",
                                R"({"clinicId":"broken"})", cookie, csrf_);
  ASSERT_TRUE(broken);
  EXPECT_THAT(broken->body, HasSubstr("\"sequence\":\"3\""));
  EXPECT_THAT(broken->body, HasSubstr("event: error\ndata: {\"error\":{\"code\":503"));
  EXPECT_THAT(broken->body, HasSubstr("the feed broke"));
}

TEST_F(GatewayTest, EventStreamsAreCappedPerSessionAndInTotalWith503) {
  GatewayOptions options;
  options.allow_insecure_http = true;
  options.web_root = SMP_CONSOLE_WEB_ROOT;
  options.threads = 8;
  options.max_streams = 3;
  options.max_streams_per_session = 2;
  options.stream_timeout = absl::Seconds(3);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Gateway> gateway,
                       Gateway::Start(options, channels_, CsrfGuard(std::string(32, 'k'))));
  const std::string origin = absl::StrCat("http://127.0.0.1:", gateway->port());
  // The same key as the fixture's gateway, so its sessions' CSRF tokens hold here too.
  struct Session {
    std::string cookie, csrf;
  };
  auto log_in = [&](const std::string& user) {
    Session s;
    s.cookie = LogIn(user);
    s.csrf = csrf_;
    return s;
  };
  const Session a = log_in("deska"), b = log_in("deskb"), c = log_in("deskc");
  auto call = [&](const Session& s, const std::string& rpc, const std::string& body) {
    httplib::Client client("127.0.0.1", gateway->port());
    client.set_read_timeout(20, 0);
    return client.Post("/api/smp.scheduling.v1.SchedulingService/" + rpc,
                       {{"Origin", origin},
                        {"Cookie", "__Host-smp_session=" + s.cookie},
                        {"X-CSRF-Token", s.csrf}},
                       body, "application/json");
  };
  const std::string hold = R"({"clinicId":"hold"})";
  std::vector<std::thread> open;
  // The streams end at their deadline; joined on every way out of the test.
  struct JoinAll {
    std::vector<std::thread>& threads;
    ~JoinAll() {
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_all{open};
  for (const Session* s : {&a, &a, &b}) {
    open.emplace_back([&call, s, &hold] { call(*s, "WatchChanges", hold); });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (gateway->open_streams() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(gateway->open_streams(), 3);

  // A third stream of session a: its own limit, said plainly, at once.
  httplib::Result mine = call(a, "WatchChanges", hold);
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->status, 503);
  EXPECT_THAT(mine->body, HasSubstr("this session already has 2 live streams open"));
  EXPECT_THAT(mine->body, HasSubstr(kReasonTooManyStreams));
  // Session c has none, but the console is full.
  httplib::Result full = call(c, "WatchChanges", hold);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503);
  EXPECT_THAT(full->body, HasSubstr("the console is serving 3 live streams"));
  EXPECT_THAT(full->body, HasSubstr(R"("limit":"console")"));
  // Ordinary requests still find a worker.
  httplib::Result plain = call(c, "GetAppointment", R"({"id":"A1"})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);

  // The streams end at their deadline and give their slots back.
  for (std::thread& t : open) t.join();
  const absl::Time drained = absl::Now() + absl::Seconds(5);
  while (gateway->open_streams() > 0 && absl::Now() < drained) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(gateway->open_streams(), 0);
  httplib::Result again = call(c, "WatchChanges", R"({"clinicId":"C1"})");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_THAT(again->body, HasSubstr("event: end"));
  gateway->Stop();

  // A cap that would leave no worker for ordinary requests does not start.
  options.max_streams = 8;
  EXPECT_THAT(Gateway::Start(options, channels_, CsrfGuard(std::string(32, 'k'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_streams")));
}

TEST(GatewayStartTest, ServesHttpsWithTheGivenCertificate) {
  const std::string dir = ::testing::TempDir() + "/console-tls";
  ASSERT_EQ(std::system(("mkdir -p " + dir +
                         " && openssl req -x509 -newkey ec -pkeyopt "
                         "ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                         dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null")
                            .c_str()),
            0);
  GatewayOptions options;
  options.web_root = SMP_CONSOLE_WEB_ROOT;
  options.tls_cert_file = dir + "/cert.pem";
  options.tls_key_file = dir + "/key.pem";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Gateway> gateway,
                       Gateway::Start(options, {}, CsrfGuard(std::string(32, 'k'))));
  EXPECT_TRUE(gateway->tls());
  httplib::SSLClient client("127.0.0.1", gateway->port());
  client.enable_server_certificate_verification(false);
  httplib::Result res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Strict-Transport-Security"), HasSubstr("max-age="));
  // Plain HTTP to the HTTPS port gets no page.
  httplib::Client plain("127.0.0.1", gateway->port());
  httplib::Result refused = plain.Get("/");
  EXPECT_TRUE(!refused || refused->status != 200);
  gateway->Stop();
}

TEST(GatewayStartTest, PlainHttpNeedsTheFlagAndLoopback) {
  GatewayOptions options;
  options.web_root = SMP_CONSOLE_WEB_ROOT;
  EXPECT_THAT(Gateway::Start(options, {}, CsrfGuard(std::string(32, 'k'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--allow_insecure_http")));
  options.allow_insecure_http = true;
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(Gateway::Start(options, {}, CsrfGuard(std::string(32, 'k'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loopback")));
  options.listen = "127.0.0.1:0";
  options.web_root = "/nonexistent/web";
  EXPECT_THAT(Gateway::Start(options, {}, CsrfGuard(std::string(32, 'k'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--web_root")));
  options.web_root = SMP_CONSOLE_WEB_ROOT;
  options.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_THAT(Gateway::Start(options, {}, CsrfGuard(std::string(32, 'k'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace smp::console
