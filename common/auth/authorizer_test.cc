#include "common/auth/authorizer.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/fault_injecting_redis_client.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/testing/v1/authz_test.grpc.pb.h"
#include "smp/testing/v1/authz_test.pb.h"

namespace smp {
namespace {

using ::smp::testing::FaultInjectingRedisClient;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const google::protobuf::ServiceDescriptor* Service(const std::string& name) {
  // Through a generated message, so the file's descriptor is linked in and registered.
  const google::protobuf::ServiceDescriptor* service =
      smp::testing::v1::PingRequest::descriptor()->file()->FindServiceByName(name);
  EXPECT_NE(service, nullptr) << name;
  return service;
}

TEST(AuthorizerContractTest, ReadsRequiredPermissionFromDescriptor) {
  Authorizer authorizer(Service("AuthzTestService"), nullptr);
  EXPECT_EQ(authorizer.service_name(), "smp.testing.v1.AuthzTestService");
  EXPECT_EQ(authorizer.RequiredPermission("Ping"), common::v1::PERMISSION_PUBLIC);
  EXPECT_EQ(authorizer.RequiredPermission("WhoAmI"), common::v1::PERMISSION_AUTHENTICATED);
  EXPECT_EQ(authorizer.RequiredPermission("WriteClinic"), common::v1::PERMISSION_CLINICS_WRITE);
  EXPECT_EQ(authorizer.RequiredPermission("NoSuchMethod"), common::v1::PERMISSION_UNSPECIFIED);
}

TEST(AuthorizerContractDeathTest, MethodWithoutPermissionAbortsAtStart) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const google::protobuf::ServiceDescriptor* service = Service("MissingPermissionService");
  EXPECT_DEATH(Authorizer(service, nullptr),
               "smp.testing.v1.MissingPermissionService.Undeclared declares no valid "
               "\\(smp.common.v1.required_permission\\)");
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
    redis_ = std::make_unique<FaultInjectingRedisClient>(pool_.get());
    store_ = std::make_unique<SessionStore>(redis_.get(), SessionPolicy(), clock_);
    authenticator_ = std::make_unique<Authenticator>(store_.get(), AuthCacheOptions(), clock_);
    authorizer_ = std::make_unique<Authorizer>(Service("AuthzTestService"), authenticator_.get());
  }

  std::string HeaderFor(common::v1::Role role, const std::string& staff_id = "staff-1") {
    absl::StatusOr<NewSession> session = store_->Create(staff_id, "u", {role}, {"clinic-1"}, "");
    EXPECT_THAT(session, IsOk());
    return session.ok() ? "Bearer " + session->token : "";
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<FaultInjectingRedisClient> redis_;
  FakeClock clock_{absl::FromUnixSeconds(1'780'000'000)};
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizerTest, PublicMethodNeedsNoSessionAndNoRedis) {
  redis_->set_down(true);
  ASSERT_OK_AND_ASSIGN(Principal anonymous, authorizer_->AuthorizeHeader("", "Ping"));
  EXPECT_FALSE(anonymous.authenticated);
  ASSERT_OK_AND_ASSIGN(anonymous, authorizer_->AuthorizeHeader("Basic garbage", "Ping"));
  EXPECT_FALSE(anonymous.authenticated);
  EXPECT_EQ(redis_->calls() + redis_->failed_calls(), 0);
}

TEST_F(AuthorizerTest, PermissionFromRoles) {
  const std::string desk = HeaderFor(common::v1::ROLE_FRONT_DESK);
  const std::string admin = HeaderFor(common::v1::ROLE_ADMIN, "staff-2");
  EXPECT_THAT(authorizer_->AuthorizeHeader(desk, "WriteClinic"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "WriteClinic needs PERMISSION_CLINICS_WRITE; your roles do not grant it"));
  ASSERT_OK_AND_ASSIGN(Principal caller, authorizer_->AuthorizeHeader(admin, "WriteClinic"));
  EXPECT_EQ(caller.staff_id, "staff-2");
  EXPECT_THAT(authorizer_->AuthorizeHeader(desk, "WhoAmI"), IsOk());
}

TEST_F(AuthorizerTest, AuthenticationErrorsComeFirst) {
  EXPECT_THAT(authorizer_->AuthorizeHeader("", "WhoAmI"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(authorizer_->AuthorizeHeader("Bearer unknown", "WriteClinic"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  const std::string admin = HeaderFor(common::v1::ROLE_ADMIN);
  redis_->set_down(true);
  EXPECT_THAT(authorizer_->AuthorizeHeader(admin, "WriteClinic"),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(AuthorizerTest, UnknownMethodIsInternal) {
  const std::string admin = HeaderFor(common::v1::ROLE_ADMIN);
  EXPECT_THAT(authorizer_->AuthorizeHeader(admin, "Nope"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not a method of")));
}

TEST_F(AuthorizerTest, CheckAnonymousPrincipal) {
  EXPECT_THAT(authorizer_->Check(Principal(), "Ping"), IsOk());
  EXPECT_THAT(authorizer_->Check(Principal(), "WhoAmI"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

// The handlers of the test contract, authorising from the real server context.
class AuthzTestServiceImpl final : public smp::testing::v1::AuthzTestService::Service {
 public:
  explicit AuthzTestServiceImpl(const Authorizer* authorizer) : authorizer_(authorizer) {}

  grpc::Status Ping(grpc::ServerContext* context, const smp::testing::v1::PingRequest*,
                    smp::testing::v1::PingResponse* response) override {
    return Handle(*context, "Ping", response);
  }
  grpc::Status WhoAmI(grpc::ServerContext* context, const smp::testing::v1::PingRequest*,
                      smp::testing::v1::PingResponse* response) override {
    return Handle(*context, "WhoAmI", response);
  }
  grpc::Status WriteClinic(grpc::ServerContext* context, const smp::testing::v1::PingRequest*,
                           smp::testing::v1::PingResponse* response) override {
    return Handle(*context, "WriteClinic", response);
  }

 private:
  grpc::Status Handle(const grpc::ServerContext& context, absl::string_view method,
                      smp::testing::v1::PingResponse* response) {
    absl::StatusOr<Principal> caller = authorizer_->Authorize(context, method);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    response->set_staff_id(caller->staff_id);
    return grpc::Status::OK;
  }

  const Authorizer* authorizer_;
};

TEST_F(AuthorizerTest, ThroughARealServerContext) {
  AuthzTestServiceImpl service(authorizer_.get());
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = smp::testing::v1::AuthzTestService::NewStub(
      server->InProcessChannel(grpc::ChannelArguments()));

  auto call = [&stub](const std::string& method, const std::string& authorization,
                      smp::testing::v1::PingResponse* response) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    smp::testing::v1::PingRequest request;
    if (method == "Ping") return stub->Ping(&context, request, response);
    if (method == "WhoAmI") return stub->WhoAmI(&context, request, response);
    return stub->WriteClinic(&context, request, response);
  };

  smp::testing::v1::PingResponse response;
  EXPECT_TRUE(call("Ping", "", &response).ok());
  EXPECT_EQ(call("WhoAmI", "", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call("WhoAmI", "Basic x", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const std::string desk = HeaderFor(common::v1::ROLE_FRONT_DESK, "desk-1");
  grpc::Status whoami = call("WhoAmI", desk, &response);
  ASSERT_TRUE(whoami.ok()) << whoami.error_message();
  EXPECT_EQ(response.staff_id(), "desk-1");
  grpc::Status denied = call("WriteClinic", desk, &response);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(denied.error_message(), HasSubstr("needs PERMISSION_CLINICS_WRITE"));

  redis_->set_down(true);
  clock_.Advance(absl::Seconds(1));  // past the cache ttl
  EXPECT_EQ(call("WhoAmI", desk, &response).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(call("Ping", "", &response).ok());
  server->Shutdown();
}

}  // namespace
}  // namespace smp
