#include "common/rpc/frame.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/session_store.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/testing/v1/authz_test.grpc.pb.h"

namespace smp {
namespace {

using ::smp::testing::CallAs;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
namespace tv1 = ::smp::testing::v1;

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

// A service written the way every service of the suite is: each override one frame call.
class PingService final : public tv1::AuthzTestService::Service {
 public:
  PingService(Authenticator* authenticator, const Clock* clock, std::vector<std::string>* denied)
      : frame_(tv1::AuthzTestService::service_full_name(), authenticator, clock,
               [denied](const RefusalSummary& refused) {
                 denied->push_back(
                     absl::StrCat(refused.who.staff_id, " ", refused.method, " ", refused.count));
               }) {}

  grpc::Status Ping(grpc::ServerContext* ctx, const tv1::PingRequest*,
                    tv1::PingResponse* out) override {
    return frame_.Serve(
        ctx, "Ping", out, [&](const Call& call) -> absl::StatusOr<tv1::PingResponse> {
          if (call.who.authenticated) return absl::InternalError("a public call has no caller");
          // An internal error's text must not reach the client.
          return absl::InternalError("SELECT * FROM secrets failed: disk I/O error");
        });
  }
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const tv1::PingRequest*,
                      tv1::PingResponse* out) override {
    return frame_.Serve(
        ctx, "WhoAmI", out, [&](const Call& call) -> absl::StatusOr<tv1::PingResponse> {
          if (call.now != kNow || call.method != "WhoAmI") {
            return absl::InternalError("the call was not built from the clock and the method");
          }
          tv1::PingResponse response;
          response.set_staff_id(call.who.staff_id);
          return response;
        });
  }
  grpc::Status WriteClinic(grpc::ServerContext* ctx, const tv1::PingRequest*,
                           tv1::PingResponse* out) override {
    return frame_.Serve(ctx, "WriteClinic", out,
                        [&](const Call& call) -> absl::StatusOr<tv1::PingResponse> {
                          RETURN_IF_ERROR(call.who.CheckClinic("clinic-2"));
                          return tv1::PingResponse();
                        });
  }

 private:
  RpcFrame frame_;
};

class RpcFrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(redis_server_->options());
    store_ = std::make_unique<SessionStore>(pool_.get(), SessionPolicy(), clock_);
    authenticator_ = std::make_unique<Authenticator>(store_.get(), AuthCacheOptions(), clock_);
    service_ = std::make_unique<PingService>(authenticator_.get(), &clock_, &denied_);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = tv1::AuthzTestService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override { server_->Shutdown(); }

  std::string TokenFor(common::v1::Role role, const std::string& staff_id) {
    absl::StatusOr<NewSession> session = store_->Create(staff_id, "u", {role}, {"clinic-1"}, "");
    EXPECT_THAT(session, IsOk());
    return session.ok() ? session->token : "";
  }

  absl::StatusOr<tv1::PingResponse> CallAs(const std::string& token,
                                           grpc::Status (tv1::AuthzTestService::Stub::*method)(
                                               grpc::ClientContext*, const tv1::PingRequest&,
                                               tv1::PingResponse*)) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    tv1::PingResponse response;
    grpc::Status status = ((*stub_).*method)(&ctx, tv1::PingRequest(), &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  FakeClock clock_{kNow};
  std::unique_ptr<RedisServer> redis_server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<Authenticator> authenticator_;
  std::vector<std::string> denied_;
  std::unique_ptr<PingService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<tv1::AuthzTestService::Stub> stub_;
};

TEST_F(RpcFrameTest, BuildsTheCallFromTheSessionTheClockAndTheMethod) {
  const std::string token = TokenFor(common::v1::ROLE_FRONT_DESK, "staff-7");
  absl::StatusOr<tv1::PingResponse> who = CallAs(token, &tv1::AuthzTestService::Stub::WhoAmI);
  ASSERT_THAT(who, IsOk());
  EXPECT_EQ(who->staff_id(), "staff-7");
  EXPECT_THAT(CallAs("", &tv1::AuthzTestService::Stub::WhoAmI),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(RpcFrameTest, AMissingPermissionIsReportedToTheHookAndCarriesItsReason) {
  const std::string token = TokenFor(common::v1::ROLE_TECHNICIAN, "tech-1");
  absl::StatusOr<tv1::PingResponse> refused =
      CallAs(token, &tv1::AuthzTestService::Stub::WriteClinic);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied,
                                HasSubstr("needs PERMISSION_CLINICS_WRITE")));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kMissingPermission);
  EXPECT_EQ(ErrorMetadata(refused.status(), "permission"), "PERMISSION_CLINICS_WRITE");
  EXPECT_THAT(denied_, ::testing::ElementsAre("tech-1 WriteClinic 1"));
}

TEST_F(RpcFrameTest, AnOperationsScopeRefusalReachesTheClientWithItsReason) {
  // An admin passes the permission; a branch admin would not pass the scope, but chain-wide does.
  EXPECT_THAT(CallAs(TokenFor(common::v1::ROLE_ADMIN, "admin-1"),
                     &tv1::AuthzTestService::Stub::WriteClinic),
              IsOk());
  EXPECT_TRUE(denied_.empty());
}

TEST_F(RpcFrameTest, InternalErrorsAreHiddenBehindARequestId) {
  absl::StatusOr<tv1::PingResponse> failed = CallAs("", &tv1::AuthzTestService::Stub::Ping);
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kInternal, HasSubstr("quote request id")));
  EXPECT_THAT(std::string(failed.status().message()), ::testing::Not(HasSubstr("SELECT")));
}

TEST(CallTest, IdempotentRunsAreKeyedByTheMethodTheCallServes) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Database> db,
      OpenSqliteDatabase(::testing::TempDir() + "/smp_call_" +
                         std::to_string(absl::ToUnixNanos(absl::Now())) + ".sqlite"));
  ASSERT_OK(db->Run(TxMode::kWrite,
                    [](Transaction& txn) { return txn.ExecScript(kIdempotencyTableSql); }));
  const Call create = CallAs(StaffOf({common::v1::ROLE_ADMIN}, {}, "s1"), kNow, "CreateThing");
  tv1::PingRequest request;
  request.set_request_id("r-1");
  int runs = 0;
  auto change = [&](Transaction&) -> absl::StatusOr<tv1::PingResponse> {
    tv1::PingResponse response;
    response.set_staff_id(absl::StrCat("run-", ++runs));
    return response;
  };
  ASSERT_OK_AND_ASSIGN(tv1::PingResponse first,
                       RunIdempotent<tv1::PingResponse>(*db, create, request, change));
  ASSERT_OK_AND_ASSIGN(tv1::PingResponse retry,
                       RunIdempotent<tv1::PingResponse>(*db, create, request, change));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(retry.staff_id(), first.staff_id());
  // The same request_id on another RPC is another key.
  Call other = create;
  other.method = "CreateOtherThing";
  ASSERT_OK(RunIdempotent<tv1::PingResponse>(*db, other, request, change).status());
  EXPECT_EQ(runs, 2);
  // And a missing request_id names the field.
  request.clear_request_id();
  EXPECT_THAT(RunIdempotent<tv1::PingResponse>(*db, create, request, change),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
}

}  // namespace
}  // namespace smp
