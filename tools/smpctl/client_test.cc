#include "tools/smpctl/client.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/smpctl/config.h"

namespace smp::smpctl {
namespace {

using ::smp::testing::StatusIs;

Lookup From(std::map<std::string, std::string> values) {
  return [values](absl::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

// The policy a channel chose, once its resolver has answered (the ports need not be open).
std::string PolicyOnceResolved(const std::shared_ptr<grpc::Channel>& channel) {
  channel->GetState(/*try_to_connect=*/true);
  for (int i = 0; i < 200 && channel->GetLoadBalancingPolicyName().empty(); ++i) {
    channel->WaitForStateChange(channel->GetState(false),
                                std::chrono::system_clock::now() + std::chrono::milliseconds(10));
  }
  return channel->GetLoadBalancingPolicyName();
}

TEST(ClientTest, ReplicaListTargetsGoRoundRobin) {
  ASSERT_OK_AND_ASSIGN(Config config,
                       ResolveConfig(From({{"token_file", "/nonexistent/token"}}),
                                     From({{"SMPCTL_SCHEDULING", "ipv4:127.0.0.1:1,127.0.0.1:2"},
                                           {"SMPCTL_IDENTITY", "127.0.0.1:1"}})));
  Client client(config);
  EXPECT_EQ(PolicyOnceResolved(client.Channel(Service::kScheduling)), "round_robin");
  EXPECT_EQ(PolicyOnceResolved(client.Channel(Service::kIdentity)), "pick_first");
}

TEST(ClientTest, EveryAddressOfAReplicaListIsChecked) {
  const Lookup env = From({});
  EXPECT_THAT(
      ResolveConfig(From({{"token_file", "/t"}, {"billing", "ipv4:10.0.0.2:7005,10.0.0.3"}}), env)
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("--billing")));
  EXPECT_THAT(
      ResolveConfig(From({{"token_file", "/t"}, {"billing", "ipv4:10.0.0.2:0"}}), env).status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(ResolveConfig(
      From({{"token_file", "/t"}, {"billing", "ipv4:10.0.0.2:7005,10.0.0.3:7005"}}), env));
}

}  // namespace
}  // namespace smp::smpctl
