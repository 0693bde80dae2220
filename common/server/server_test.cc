#include "common/server/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "common/server/flags_env.h"
#include "common/server/rpc_observer.h"
#include "common/server/test_util.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::CallProbe;
using ::smp::testing::HealthCheck;
using ::smp::testing::HttpGet;
using ::smp::testing::ProbeResult;
using ::smp::testing::ProbeService;
using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kServing = 1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory under TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/smp_server_test.XXXXXX");
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::shared_ptr<grpc::Channel> InsecureChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

ServerConfig TestConfig() {
  ServerConfig config;
  config.service_name = "server-test";
  config.listen = "127.0.0.1:0";
  config.shutdown_grace = absl::Seconds(2);
  return config;
}

TEST(RunningServerTest, ServesHealthMetricsAndReadyFileThenShutsDown) {
  TempDir dir;
  ServerConfig config = TestConfig();
  config.metrics_listen = "127.0.0.1:0";
  config.ready_file = dir.File("ready");
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {}));
  ASSERT_GT(server->port(), 0);
  ASSERT_GT(server->metrics_port(), 0);
  EXPECT_EQ(ReadFile(config.ready_file),
            absl::StrCat("grpc_port=", server->port(), "\nmetrics_port=", server->metrics_port(),
                         "\npid=", getpid(), "\n"));

  auto channel = InsecureChannel(server->port());
  const auto health = HealthCheck(channel, "", "health-req-1");
  ASSERT_TRUE(health.status.ok()) << health.status.error_message();
  EXPECT_EQ(health.serving_status, kServing);
  auto echoed = health.initial_metadata.find("x-request-id");
  ASSERT_NE(echoed, health.initial_metadata.end());
  EXPECT_EQ(echoed->second, "health-req-1");
  EXPECT_EQ(HealthCheck(channel, "no.such.Service").status.error_code(),
            grpc::StatusCode::NOT_FOUND);

  const std::string metrics = HttpGet(server->metrics_port(), "/metrics");
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(metrics, HasSubstr("# TYPE smp_grpc_server_handled_total counter\n"));
  EXPECT_THAT(metrics,
              HasSubstr("smp_grpc_server_handled_total{grpc_service=\"grpc.health.v1.Health\","
                        "grpc_method=\"Check\",grpc_code=\"OK\"} "));
  EXPECT_THAT(metrics, HasSubstr("smp_grpc_server_handling_seconds_count{grpc_service="
                                 "\"grpc.health.v1.Health\",grpc_method=\"Check\"} "));
  EXPECT_THAT(metrics, HasSubstr("\nprocess_resident_memory_bytes "));

  const int port = server->port();
  const int metrics_port = server->metrics_port();
  server->Shutdown();
  server->Shutdown();                                // idempotent
  EXPECT_EQ(internal::TrackedRequestIdCount(), 0u);  // health calls' ids were released too
  EXPECT_FALSE(std::filesystem::exists(config.ready_file));
  // Neither port accepts any more: a fresh channel cannot reach the server.
  const auto after = HealthCheck(InsecureChannel(port));
  EXPECT_EQ(after.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HttpGet(metrics_port, "/metrics"), "");
  server.reset();  // destructor after Shutdown is fine
}

TEST(RunningServerTest, ReflectionIsRegistered) {
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(TestConfig(), {}));
  // An empty ServerReflectionInfo stream is enough to see the method exists (not UNIMPLEMENTED).
  grpc::GenericStub stub(InsecureChannel(server->port()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  call->WritesDone(reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(RunningServerTest, PortInUseIsAnError) {
  ASSERT_OK_AND_ASSIGN(auto first, RunningServer::Start(TestConfig(), {}));
  ServerConfig config = TestConfig();
  config.listen = absl::StrCat("127.0.0.1:", first->port());
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(config.listen), HasSubstr("Address already in use"))));
  // The first server is unaffected.
  EXPECT_EQ(HealthCheck(InsecureChannel(first->port())).serving_status, kServing);
}

TEST(RunningServerTest, MetricsPortInUseIsAnError) {
  ASSERT_OK_AND_ASSIGN(auto first, MetricsHttpServer::Start("127.0.0.1:0"));
  ServerConfig config = TestConfig();
  config.metrics_listen = absl::StrCat("127.0.0.1:", first->port());
  EXPECT_THAT(RunningServer::Start(config, {}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RunningServerTest, BadConfigIsAClearError) {
  ServerConfig config = TestConfig();
  config.listen = "not-an-address";
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-an-address")));
  config = TestConfig();
  config.listen = "127.0.0.1:99999";
  EXPECT_THAT(RunningServer::Start(config, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  config = TestConfig();
  config.metrics_listen = "9464";
  EXPECT_THAT(RunningServer::Start(config, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  config = TestConfig();
  config.max_threads = 1;
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_threads")));
  config = TestConfig();
  config.tls_cert_file = "/some/cert.pem";
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_key")));
  config = TestConfig();
  config.tls_client_ca_file = "/some/ca.pem";
  EXPECT_THAT(RunningServer::Start(config, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RunningServerTest, UnwritableReadyFileIsAnError) {
  ServerConfig config = TestConfig();
  config.ready_file = "/nonexistent-dir/ready";
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent-dir")));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.File("cert.pem");
    key_ = dir_.File("key.pem");
    const std::string command = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '",
        key_, "' -out '", cert_, "' >/dev/null 2>&1");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  std::shared_ptr<grpc::Channel> TlsChannel(int port, bool with_client_cert) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(cert_);
    if (with_client_cert) {
      // The self-signed certificate doubles as the client's and as the client CA.
      options.pem_private_key = ReadFile(key_);
      options.pem_cert_chain = ReadFile(cert_);
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::SslCredentials(options), args);
  }

  TempDir dir_;
  std::string cert_, key_;
};

TEST_F(TlsTest, ServesOverTls) {
  ServerConfig config = TestConfig();
  config.tls_cert_file = cert_;
  config.tls_key_file = key_;
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {}));
  const auto health = HealthCheck(TlsChannel(server->port(), false));
  ASSERT_TRUE(health.status.ok()) << health.status.error_message();
  EXPECT_EQ(health.serving_status, kServing);
  // A plaintext client cannot talk to it.
  EXPECT_FALSE(HealthCheck(InsecureChannel(server->port())).status.ok());
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  ServerConfig config = TestConfig();
  config.tls_cert_file = cert_;
  config.tls_key_file = key_;
  config.tls_client_ca_file = cert_;
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {}));
  const auto with_cert = HealthCheck(TlsChannel(server->port(), true));
  ASSERT_TRUE(with_cert.status.ok()) << with_cert.status.error_message();
  EXPECT_EQ(with_cert.serving_status, kServing);
  EXPECT_EQ(HealthCheck(TlsChannel(server->port(), false)).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MissingOrNonPemFilesAreNamed) {
  ServerConfig config = TestConfig();
  config.tls_cert_file = dir_.File("missing.pem");
  config.tls_key_file = key_;
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir_.File("missing.pem"))));
  const std::string not_pem = dir_.File("not.pem");
  std::ofstream(not_pem) << "hello";
  config.tls_cert_file = cert_;
  config.tls_key_file = not_pem;
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(not_pem)));
  config.tls_key_file = key_;
  config.tls_client_ca_file = dir_.File("missing-ca.pem");
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing-ca.pem")));
}

// Kubernetes' grpc probe speaks plaintext without a client certificate: with --health_listen it
// asks a second port that answers Health and nothing else, while the main port stays mTLS-only.
TEST_F(TlsTest, HealthOnlyPortAnswersPlaintextAndServesNothingElse) {
  ServerConfig config = TestConfig();
  config.tls_cert_file = cert_;
  config.tls_key_file = key_;
  config.tls_client_ca_file = cert_;
  config.health_listen = "127.0.0.1:0";
  config.ready_file = dir_.File("ready");
  ProbeService probe;
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {&probe}));
  ASSERT_GT(server->health_port(), 0);
  ASSERT_NE(server->health_port(), server->port());
  EXPECT_THAT(ReadFile(config.ready_file),
              HasSubstr(absl::StrCat("\nhealth_port=", server->health_port(), "\n")));

  auto health_channel = InsecureChannel(server->health_port());
  const auto health = HealthCheck(health_channel);
  ASSERT_TRUE(health.status.ok()) << health.status.error_message();
  EXPECT_EQ(health.serving_status, kServing);
  // The service's own methods are not there, and the main port still wants a certificate.
  grpc::GenericStub plain_stub(health_channel);
  EXPECT_EQ(CallProbe(plain_stub, "hello").status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(HealthCheck(TlsChannel(server->port(), false)).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::GenericStub tls_stub(TlsChannel(server->port(), true));
  EXPECT_TRUE(CallProbe(tls_stub, "hello").status.ok());

  const int health_port = server->health_port();
  server->Shutdown();
  EXPECT_EQ(HealthCheck(InsecureChannel(health_port)).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(RunningServerTest, BadHealthListenIsAClearError) {
  ServerConfig config = TestConfig();
  config.health_listen = "no-port-here";
  EXPECT_THAT(RunningServer::Start(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--health_listen")));
}

TEST(RunningServerTest, ShutdownLetsInFlightCallsFinishAndRefusesNewOnes) {
  ProbeService service;
  ServerConfig config = TestConfig();
  config.shutdown_grace = absl::Seconds(10);
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {&service}));
  grpc::GenericStub stub(InsecureChannel(server->port()));
  ProbeResult in_flight;
  std::thread caller([&] { in_flight = CallProbe(stub, "block"); });
  ASSERT_TRUE(service.entered.WaitForNotificationWithTimeout(absl::Seconds(10)));

  std::atomic<bool> shut_down{false};
  std::thread stopper([&] {
    server->Shutdown();
    shut_down = true;
  });
  // Wait (briefly, polling) until the listener is gone: a fresh connection is refused.
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    refused = HealthCheck(InsecureChannel(server->port())).status.error_code() ==
              grpc::StatusCode::UNAVAILABLE;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(shut_down.load()) << "Shutdown returned while a call was still running";

  service.release.Notify();
  caller.join();
  stopper.join();
  EXPECT_TRUE(in_flight.status.ok()) << in_flight.status.error_message();
  EXPECT_EQ(in_flight.body, "released");
  EXPECT_TRUE(shut_down.load());
}

// gRPC's sync server does not queue beyond its thread cap: excess calls fail fast with
// RESOURCE_EXHAUSTED. This pins that behaviour (documented on ServerConfig::max_threads).
TEST(RunningServerTest, ThreadCapShedsExcessCallsWithResourceExhausted) {
  ProbeService service;
  ServerConfig config = TestConfig();
  config.max_threads = 4;
  ASSERT_OK_AND_ASSIGN(auto server, RunningServer::Start(config, {&service}));
  grpc::GenericStub stub(InsecureChannel(server->port()));
  constexpr int kCalls = 8;
  std::vector<ProbeResult> results(kCalls);
  std::atomic<int> exhausted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      results[i] = CallProbe(stub, "block");
      if (results[i].status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
    });
  }
  // Every call either runs (and blocks) or is refused at once.
  for (int i = 0; i < 1000 && service.blocked.load() + exhausted.load() < kCalls; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(service.blocked.load() + exhausted.load(), kCalls);
  EXPECT_GE(service.blocked.load(), 1);
  EXPECT_GE(exhausted.load(), 1);
  service.release.Notify();
  for (auto& thread : threads) thread.join();
  for (const ProbeResult& r : results) {
    EXPECT_TRUE(r.status.ok() || r.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << r.status.error_code() << " " << r.status.error_message();
  }
  // Once idle again, calls are served (the released handlers may take a moment to return their
  // threads to the pool, so allow a short settling time).
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    served = CallProbe(stub, "0").status.ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
}

TEST(ServerConfigFromFlagsTest, EnvironmentSetsServerFlags) {
  absl::FlagSaver saver;
  ::setenv("SMP_MAX_THREADS", "8", 1);
  ::setenv("SMP_KEEPALIVE_TIME", "5s", 1);
  ::setenv("SMP_LOG_LEVEL", "debug", 1);
  ::setenv("SMP_METRICS_LISTEN", "127.0.0.1:0", 1);
  const absl::Status applied = ApplyEnvironmentToFlags();
  ::unsetenv("SMP_MAX_THREADS");
  ::unsetenv("SMP_KEEPALIVE_TIME");
  ::unsetenv("SMP_LOG_LEVEL");
  ::unsetenv("SMP_METRICS_LISTEN");
  ASSERT_OK(applied);
  const ServerConfig config = ServerConfigFromFlags("identity");
  EXPECT_EQ(config.max_threads, 8);
  EXPECT_EQ(config.keepalive_time, absl::Seconds(5));
  EXPECT_EQ(config.log_level, LogLevel::kDebug);
  EXPECT_EQ(config.metrics_listen, "127.0.0.1:0");

  ::setenv("SMP_LOG_LEVEL", "loud", 1);
  EXPECT_THAT(ApplyEnvironmentToFlags(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SMP_LOG_LEVEL")));
  ::unsetenv("SMP_LOG_LEVEL");
}

TEST(ServerConfigFromFlagsTest, DefaultsMatchServerConfig) {
  const ServerConfig from_flags = ServerConfigFromFlags("identity");
  const ServerConfig defaults;
  EXPECT_EQ(from_flags.service_name, "identity");
  EXPECT_EQ(from_flags.listen, defaults.listen);
  EXPECT_EQ(from_flags.max_message_bytes, defaults.max_message_bytes);
  EXPECT_EQ(from_flags.max_threads, defaults.max_threads);
  EXPECT_EQ(from_flags.keepalive_time, defaults.keepalive_time);
  EXPECT_EQ(from_flags.shutdown_grace, defaults.shutdown_grace);
  EXPECT_EQ(from_flags.log_level, LogLevel::kInfo);
}

TEST(SignalsTest, WaitForTerminationSignalReturnsTheSignal) {
  BlockTerminationSignals();
  // Directed at this thread: other threads of the test binary (gRPC's) do not block SIGTERM.
  ::pthread_kill(::pthread_self(), SIGTERM);  // stays pending, because blocked
  EXPECT_EQ(WaitForTerminationSignal(), SIGTERM);
}

}  // namespace
}  // namespace smp
