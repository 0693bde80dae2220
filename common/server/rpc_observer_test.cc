#include "common/server/rpc_observer.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/server/metrics.h"
#include "common/server/server.h"
#include "common/server/test_util.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::ProbeResult;
using ::smp::testing::ProbeService;
using ::testing::HasSubstr;
using ::testing::Not;

ProbeResult Probe(grpc::GenericStub& stub, int code, const std::string& request_id) {
  return testing::CallProbe(stub, std::to_string(code), request_id);
}

class RpcObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.service_name = "observer-test";
    ASSERT_OK_AND_ASSIGN(server_, RunningServer::Start(config, {&service_}));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  ProbeService service_;
  std::unique_ptr<RunningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(RpcObserverTest, UsesAndEchoesTheClientsRequestId) {
  const ProbeResult r = Probe(*stub_, 0, "req-123");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.body, "req-123");
  EXPECT_EQ(r.echoed, "req-123");
}

TEST_F(RpcObserverTest, SanitisesTheClientsRequestId) {
  const ProbeResult r = Probe(*stub_, 0, "a b<c>" + std::string(300, 'x'));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.body, "abc" + std::string(125, 'x'));
  EXPECT_EQ(r.echoed, r.body);
}

TEST_F(RpcObserverTest, GeneratesARequestIdWhenAbsentOrUnusable) {
  const ProbeResult a = Probe(*stub_, 0, "");
  ASSERT_TRUE(a.status.ok());
  EXPECT_TRUE(IsWellFormedId(a.body)) << a.body;
  EXPECT_EQ(a.echoed, a.body);
  const ProbeResult b = Probe(*stub_, 0, "<>");
  EXPECT_TRUE(IsWellFormedId(b.body)) << b.body;
  EXPECT_NE(a.body, b.body);
}

TEST_F(RpcObserverTest, ErrorsKeepTheRequestIdAndAreCountedAndLogged) {
  ::testing::internal::CaptureStderr();
  const ProbeResult nf = Probe(*stub_, static_cast<int>(grpc::StatusCode::NOT_FOUND), "req-nf");
  const ProbeResult in = Probe(*stub_, static_cast<int>(grpc::StatusCode::INTERNAL), "req-in");
  FlushLogs();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(nf.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(nf.body, "req-nf");
  EXPECT_EQ(nf.echoed, "req-nf");
  EXPECT_EQ(in.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(log, HasSubstr("\"level\":\"info\",\"service\":\"observer-test\",\"msg\":\"rpc\","
                             "\"method\":\"/smp.test.Probe/Run\",\"code\":\"NOT_FOUND\","));
  EXPECT_THAT(log, HasSubstr("\"request_id\":\"req-nf\",\"peer\":\"ipv4:127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("\"level\":\"error\",\"service\":\"observer-test\",\"msg\":\"rpc\","
                             "\"method\":\"/smp.test.Probe/Run\",\"code\":\"INTERNAL\","));
  const std::string metrics = Metrics().RenderPrometheus();
  EXPECT_THAT(metrics, HasSubstr("smp_grpc_server_handled_total{grpc_service=\"smp.test.Probe\","
                                 "grpc_method=\"Run\",grpc_code=\"NOT_FOUND\"} "));
  EXPECT_THAT(metrics, HasSubstr("smp_grpc_server_handling_seconds_bucket{grpc_service=\"smp.test."
                                 "Probe\",grpc_method=\"Run\",le=\"0.0005\"} "));
  EXPECT_THAT(metrics, HasSubstr("smp_grpc_server_handling_seconds_count{grpc_service=\"smp.test."
                                 "Probe\",grpc_method=\"Run\"} "));
}

TEST_F(RpcObserverTest, UnknownMethodsAreCountedUnderUnknown) {
  grpc::Slice slice(std::string("0"));
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  absl::Notification done;
  grpc::Status status;
  stub_->UnaryCall(&ctx, "/smp.test.Probe/Nope", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  const std::string metrics = Metrics().RenderPrometheus();
  EXPECT_THAT(metrics, HasSubstr("smp_grpc_server_handled_total{grpc_service=\"unknown\","
                                 "grpc_method=\"unknown\",grpc_code=\"UNIMPLEMENTED\"} "));
  EXPECT_THAT(metrics, Not(HasSubstr("Nope")));
}

TEST_F(RpcObserverTest, ConcurrentCallsEachSeeTheirOwnIdAndNothingLeaks) {
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        const ProbeResult r = Probe(*stub_, 0, id);
        if (!r.status.ok() || r.body != id || r.echoed != id) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  server_->Shutdown();
  EXPECT_EQ(internal::TrackedRequestIdCount(), 0u);
}

TEST(RpcObserverUnitTest, SanitizeRequestId) {
  EXPECT_EQ(SanitizeRequestId("abc-123_x.y:z/+=@"), "abc-123_x.y:z/+=@");
  EXPECT_EQ(SanitizeRequestId("a b\n\"c\"\xFF"), "abc");
  EXPECT_EQ(SanitizeRequestId(std::string(200, 'k')).size(), 128u);
  EXPECT_EQ(SanitizeRequestId(""), "");
}

TEST(RpcObserverUnitTest, LogLevels) {
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::OK), LogLevel::kInfo);
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::INVALID_ARGUMENT), LogLevel::kInfo);
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::PERMISSION_DENIED), LogLevel::kInfo);
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::UNAVAILABLE), LogLevel::kWarning);
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::DEADLINE_EXCEEDED), LogLevel::kWarning);
  EXPECT_EQ(RpcLogLevel(grpc::StatusCode::INTERNAL), LogLevel::kError);
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
}

}  // namespace
}  // namespace smp
