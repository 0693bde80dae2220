// The load engine and the echo scenario against an in-process echo server on a free port.

#include "tools/loadgen/load.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "smp/bench/v1/echo.grpc.pb.h"
#include "tools/loadgen/scenarios.h"

namespace smp::loadgen {
namespace {

// Echoes and counts the payloads seen; a payload "slow" takes 20 ms, one starting "refuse"
// fails FAILED_PRECONDITION.
class TestEcho final : public bench::v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const bench::v1::EchoRequest* request,
                    bench::v1::EchoResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      ++seen_[request->payload()];
    }
    if (request->payload() == "slow") absl::SleepFor(absl::Milliseconds(20));
    if (request->payload().starts_with("refuse")) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "taken");
    }
    response->set_payload(request->payload());
    return grpc::Status::OK;
  }
  std::map<std::string, int> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int> seen_ ABSL_GUARDED_BY(mu_);
};

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    target_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  CallSpec EchoCall(const std::string& payload) {
    bench::v1::EchoRequest request;
    request.set_payload(payload);
    CallSpec call;
    call.method = "/smp.bench.v1.EchoService/Echo";
    call.request = request.SerializeAsString();
    return call;
  }

  LoadOptions Options() {
    LoadOptions options;
    options.target = target_;
    options.warmup = absl::ZeroDuration();
    options.duration = absl::Seconds(30);
    return options;
  }

  TestEcho service_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
};

TEST_F(LoadTest, ClosedLoopStopsAtMaxRequests) {
  LoadOptions options = Options();
  options.concurrency = 4;
  options.channels = 2;
  options.max_requests = 300;
  const absl::Time start = absl::Now();
  absl::StatusOr<LoadResult> result = RunLoad(options, EchoCall("hello"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(result->ok, 300);
  EXPECT_EQ(result->error_count(), 0);
  EXPECT_EQ(result->started, 300);
  EXPECT_TRUE(result->capped);
  EXPECT_EQ(result->latency_us.count(), 300);
  EXPECT_GT(result->measured_seconds, 0);
  EXPECT_GT(result->qps(), 0);
}

TEST_F(LoadTest, SendsEachOfRequestsOnceAndCountsExpectedErrorsAsAnswers) {
  LoadOptions options = Options();
  options.concurrency = 4;
  options.channels = 2;
  options.max_requests = 1000;  // the 50 requests cap the run first
  CallSpec call = EchoCall("unused");
  call.expected_errors = {"FAILED_PRECONDITION"};
  for (int i = 0; i < 50; ++i) {
    bench::v1::EchoRequest request;
    request.set_payload(absl::StrCat(i % 5 == 0 ? "refuse-" : "p-", i));
    call.requests.push_back(request.SerializeAsString());
  }
  absl::StatusOr<LoadResult> result = RunLoad(options, call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->started, 50);
  EXPECT_TRUE(result->capped);
  EXPECT_EQ(result->ok, 40);
  EXPECT_EQ(result->error_count(), 0);
  EXPECT_EQ(result->expected_count(), 10);
  EXPECT_EQ(result->expected.at("FAILED_PRECONDITION"), 10);
  EXPECT_EQ(result->latency_us.count(), 50);
  const std::map<std::string, int> seen = service_.seen();
  EXPECT_EQ(seen.size(), 50u);
  for (const auto& [payload, n] : seen) EXPECT_EQ(n, 1) << payload;
}

TEST_F(LoadTest, ClosedLoopMeasuresOnlyTheWindowAndCallsTheHooks) {
  LoadOptions options = Options();
  options.concurrency = 2;
  options.warmup = absl::Milliseconds(200);
  options.duration = absl::Milliseconds(300);
  int starts = 0, ends = 0;
  options.on_measure_start = [&] { ++starts; };
  options.on_measure_end = [&] { ++ends; };
  absl::StatusOr<LoadResult> result = RunLoad(options, EchoCall("hello"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->capped);
  EXPECT_DOUBLE_EQ(result->measured_seconds, 0.3);
  EXPECT_GT(result->ok, 0);
  EXPECT_LT(result->ok, result->started);  // the warm-up's calls are not counted
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(ends, 1);
}

TEST_F(LoadTest, OpenLoopSendsEveryScheduledCall) {
  LoadOptions options = Options();
  options.concurrency = 8;
  options.rate = 500;
  options.duration = absl::Seconds(1);
  absl::StatusOr<LoadResult> result = RunLoad(options, EchoCall("hello"));
  ASSERT_TRUE(result.ok()) << result.status();
  // Intended send times 0, 2 ms, ..., 998 ms: exactly 500 calls in the window.
  EXPECT_EQ(result->ok, 500);
  EXPECT_EQ(result->started, 500);
  EXPECT_NEAR(result->qps(), 500, 1e-6);
}

TEST_F(LoadTest, OpenLoopChargesQueueingToLatency) {
  // The server takes 20 ms a call and one call may be outstanding, but calls are due every
  // 10 ms: the backlog grows by 10 ms a call. Measured from the intended send time, the last
  // calls wait ~half a second; a coordinated-omission measurement would say ~20 ms throughout.
  LoadOptions options = Options();
  options.concurrency = 1;
  options.rate = 100;
  options.duration = absl::Milliseconds(500);
  absl::StatusOr<LoadResult> result = RunLoad(options, EchoCall("slow"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 50);
  EXPECT_GE(result->latency_us.ValueAtPercentile(50), 200'000);
  EXPECT_GE(result->latency_us.max(), 450'000);
  EXPECT_LT(result->latency_us.min(), 40'000);
}

TEST_F(LoadTest, ErrorsAreCountedByCode) {
  LoadOptions options = Options();
  options.concurrency = 3;
  options.max_requests = 40;
  CallSpec call = EchoCall("hello");
  call.method = "/smp.bench.v1.EchoService/NoSuchMethod";
  absl::StatusOr<LoadResult> result = RunLoad(options, call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 0);
  EXPECT_EQ(result->errors["UNIMPLEMENTED"], 40);
  EXPECT_EQ(result->error_count(), 40);
  EXPECT_EQ(result->latency_us.count(), 0);
}

TEST(ErrorBudgetTest, AtMostOnePerThousandFailedCallsPass) {
  LoadResult result;
  result.ok = 9'990;
  result.expected = {{"FAILED_PRECONDITION", 1'000}};  // answers, not failures
  EXPECT_TRUE(CheckErrorBudget("inventory.issue", result).ok());
  result.errors = {{"UNAVAILABLE", 10}};  // 10 of 11,000 calls
  EXPECT_EQ(result.calls(), 11'000);
  EXPECT_TRUE(CheckErrorBudget("inventory.issue", result).ok());
}

TEST(ErrorBudgetTest, MoreFailedCallsNameTheScenarioAndEachStatus) {
  LoadResult result;
  result.ok = 1'900;
  result.errors = {{"ALREADY_EXISTS", 20}, {"FAILED_PRECONDITION", 80}};
  result.error_samples = {{"FAILED_PRECONDITION", "patient P is booked then"}};
  const absl::Status status = CheckErrorBudget("scheduling.book", result);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "scheduling.book: 100 of 2000 calls failed (5.00%, more than 0.10%): ALREADY_EXISTS "
            "x20, FAILED_PRECONDITION x80 (\"patient P is booked then\")");
  // A stricter or looser budget is the caller's: 5% passes a budget of 5%.
  EXPECT_TRUE(CheckErrorBudget("scheduling.book", result, 0.05).ok());
  EXPECT_FALSE(CheckErrorBudget("scheduling.book", result, 0.0).ok());
}

TEST_F(LoadTest, RejectsBadOptions) {
  LoadOptions options = Options();
  options.concurrency = 2;
  options.channels = 3;
  EXPECT_EQ(RunLoad(options, EchoCall("x")).status().code(), absl::StatusCode::kInvalidArgument);
  options = Options();
  options.max_requests = 0;
  EXPECT_EQ(RunLoad(options, EchoCall("x")).status().code(), absl::StatusCode::kInvalidArgument);
  options = Options();
  options.rate = -1;
  EXPECT_EQ(RunLoad(options, EchoCall("x")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LoadTest, RoundRobinSpreadsCallsOverEveryAddressOfTheTarget) {
  TestEcho second;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&second);
  std::unique_ptr<grpc::Server> second_server = builder.BuildAndStart();
  ASSERT_NE(second_server, nullptr);
  LoadOptions options = Options();
  options.target = absl::StrCat("ipv4:", target_, ",127.0.0.1:", port);
  options.max_requests = 200;
  options.lb_policy = "round_robin";
  absl::StatusOr<LoadResult> result = RunLoad(options, EchoCall("spread"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 200);
  EXPECT_GE(service_.seen()["spread"], 50);
  EXPECT_GE(second.seen()["spread"], 50);
  // gRPC's default sends a channel's calls to one address.
  options.lb_policy = "";
  result = RunLoad(options, EchoCall("first"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(service_.seen()["first"] + second.seen()["first"], 200);
  EXPECT_TRUE(service_.seen()["first"] == 0 || second.seen()["first"] == 0);
  options.lb_policy = "random";
  EXPECT_EQ(RunLoad(options, EchoCall("x")).status().code(), absl::StatusCode::kInvalidArgument);
  second_server->Shutdown();
}

TEST_F(LoadTest, UnreachableTargetIsUnavailable) {
  const std::string target = target_;
  server_->Shutdown();
  server_.reset();
  LoadOptions options = Options();
  options.target = target;
  options.connect_timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunLoad(options, EchoCall("x")).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(LoadTest, EchoScenarioPreparesTheHotCall) {
  auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
  ScenarioOptions scenario_options;
  scenario_options.payload_bytes = 64;
  absl::StatusOr<CallSpec> call = PrepareScenario("echo", scenario_options, channel);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->method, "/smp.bench.v1.EchoService/Echo");
  bench::v1::EchoRequest request;
  ASSERT_TRUE(request.ParseFromString(call->request));
  EXPECT_EQ(request.payload().size(), 64u);
  EXPECT_TRUE(call->metadata.empty());

  LoadOptions options = Options();
  options.max_requests = 20;
  absl::StatusOr<LoadResult> result = RunLoad(options, *call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 20);
}

TEST_F(LoadTest, UnknownScenarioNamesTheKnownOnes) {
  auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
  absl::StatusOr<CallSpec> call = PrepareScenario("nope", ScenarioOptions(), channel);
  EXPECT_EQ(call.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(call.status().message(), "identity.get_clinic"));
}

}  // namespace
}  // namespace smp::loadgen
