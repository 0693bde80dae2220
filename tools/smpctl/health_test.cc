#include "tools/smpctl/health.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tools/smpctl/cli.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

using ::testing::HasSubstr;

// A real gRPC server on a free loopback port with gRPC's default health service.
class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&identity_);  // a sync service, so the server polls its queues
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  int RunSmpctl(std::vector<std::string> args, std::string* out_text, std::string* err_text) {
    std::ostringstream out;
    std::ostringstream err;
    // smpctl needs a token file location even when it sends no token; none is read.
    auto env = [](absl::string_view name) -> std::optional<std::string> {
      if (name == "HOME") return std::string("/nonexistent");
      return std::nullopt;
    };
    const int code = smpctl::Run(args, env, out, err);
    *out_text = out.str();
    *err_text = err.str();
    return code;
  }

  identity::v1::IdentityService::Service identity_;  // every method UNIMPLEMENTED
  int port_ = 0;
  std::string address_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(HealthTest, ServingServerExitsZero) {
  std::string out;
  std::string err;
  EXPECT_EQ(RunSmpctl({"health", "--address=" + address_}, &out, &err), kExitOk) << err;
  EXPECT_EQ(out, address_ + ": SERVING\n");
}

TEST_F(HealthTest, JsonLine) {
  std::string out;
  std::string err;
  EXPECT_EQ(RunSmpctl({"--json", "health", "--address=" + address_}, &out, &err), kExitOk) << err;
  EXPECT_EQ(out, "{\"address\":\"" + address_ + "\",\"status\":\"SERVING\"}\n");
}

TEST_F(HealthTest, ServiceFlagUsesThatServicesAddress) {
  std::string out;
  std::string err;
  EXPECT_EQ(RunSmpctl({"health", "--service=billing", "--billing=" + address_}, &out, &err),
            kExitOk)
      << err;
  EXPECT_THAT(out, HasSubstr("SERVING"));
}

TEST_F(HealthTest, DrainingServerIsUnavailable) {
  server_->GetHealthCheckService()->SetServingStatus(false);
  std::string out;
  std::string err;
  EXPECT_EQ(RunSmpctl({"health", "--address=" + address_}, &out, &err), kExitUnavailable);
  EXPECT_EQ(out, address_ + ": NOT_SERVING\n");
  EXPECT_THAT(err, HasSubstr("NOT_SERVING"));
}

TEST_F(HealthTest, UnreachableServerIsUnavailable) {
  const std::string address = address_;
  server_->Shutdown();
  server_.reset();
  std::string out;
  std::string err;
  EXPECT_EQ(RunSmpctl({"health", "--address=" + address, "--timeout=1s"}, &out, &err),
            kExitUnavailable);
  EXPECT_EQ(out, "");
}

TEST_F(HealthTest, NamedServiceUnknownToTheServer) {
  absl::StatusOr<ServingStatus> status =
      CheckHealth(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()),
                  "smp.nothing.v1.Nope", absl::Seconds(3));
  // gRPC's default health service answers NOT_FOUND for a service it was never told about.
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kNotFound);
}

TEST(HealthUsage, BadAddressOrServiceIsAUsageError) {
  std::ostringstream out;
  std::ostringstream err;
  // smpctl needs a token file location even when it sends no token; none is read.
  auto env = [](absl::string_view name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/nonexistent");
    return std::nullopt;
  };
  EXPECT_EQ(smpctl::Run({"health", "--address=nohost"}, env, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("--address"));
  EXPECT_EQ(smpctl::Run({"health", "--service=payroll"}, env, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("--service"));
}

}  // namespace
}  // namespace smp::smpctl
