#include "common/peer/peer_channel.h"

#include <grpcpp/channel.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, LoopbackOnly) {
  for (const char* address :
       {"127.0.0.1:7001", "127.1.2.3:1", "localhost:7001", "LOCALHOST:1", "[::1]:7001", "::1",
        "ipv4:127.0.0.1:1,127.0.0.2:2", "ipv6:[::1]:7001", "dns:///localhost:7001",
        "dns://8.8.8.8/127.0.0.1:7001", "unix:/run/smp/identity.sock", "unix-abstract:smp",
        "[::ffff:127.0.0.1]:7001"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"10.0.0.5:7001", "0.0.0.0:7001", "[::]:7001", "identity.internal:7001",
        "localhost.evil.example:7001", "128.0.0.1:7001", "ipv4:127.0.0.1:1,10.0.0.1:2",
        "dns:///identity:7001", "dns://resolver/", "[2001:db8::1]:7001", "", "127.0.0.1.nip.io:1",
        "[::ffff:10.0.0.1]:7001"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

class PeerChannelFactoryTest : public ::testing::Test {
 protected:
  std::string File(const std::string& name, const std::string& contents) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/peer_channel_" + name;
    std::ofstream(path) << contents;
    return path;
  }
};

TEST_F(PeerChannelFactoryTest, PlaintextToLoopbackOnlyUnlessAllowed) {
  ASSERT_OK_AND_ASSIGN(PeerChannelFactory plain, PeerChannelFactory::Create({}));
  EXPECT_FALSE(plain.tls());
  EXPECT_OK(plain.Open("127.0.0.1:7004").status());
  EXPECT_OK(plain.Open("localhost:7004").status());
  EXPECT_THAT(plain.Open("10.1.2.3:7004").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("10.1.2.3:7004"), HasSubstr("--peer_tls_ca_file"),
                             HasSubstr("--allow_insecure_peers"))));
  EXPECT_THAT(plain.Open("").status(), StatusIs(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(PeerChannelFactory insecure,
                       PeerChannelFactory::Create({.allow_insecure = true}));
  EXPECT_OK(insecure.Open("10.1.2.3:7004").status());
}

TEST_F(PeerChannelFactoryTest, RefusesIncompleteOrUnreadableSettings) {
  const std::string pem =
      File("pem", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
  const std::string text = File("text", "not a certificate\n");
  EXPECT_THAT(PeerChannelFactory::Create({.ca_file = pem, .cert_file = pem}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--peer_tls_key_file")));
  EXPECT_THAT(PeerChannelFactory::Create({.cert_file = pem, .key_file = pem}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--peer_tls_ca_file")));
  EXPECT_THAT(PeerChannelFactory::Create({.ca_file = pem + ".missing"}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(".missing")));
  EXPECT_THAT(PeerChannelFactory::Create({.ca_file = text}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not contain PEM")));

  ASSERT_OK_AND_ASSIGN(PeerChannelFactory tls, PeerChannelFactory::Create({.ca_file = pem}));
  EXPECT_TRUE(tls.tls());
  EXPECT_FALSE(tls.has_client_certificate());
  ASSERT_OK_AND_ASSIGN(
      PeerChannelFactory mtls,
      PeerChannelFactory::Create({.ca_file = pem, .cert_file = pem, .key_file = pem}));
  EXPECT_TRUE(mtls.has_client_certificate());
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

TEST_F(PeerChannelFactoryTest, ReplicaListsGoRoundRobin) {
  ASSERT_OK_AND_ASSIGN(PeerChannelFactory plain, PeerChannelFactory::Create({}));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> replicas,
                       plain.Open("ipv4:127.0.0.1:1,127.0.0.1:2"));
  EXPECT_EQ(PolicyOnceResolved(replicas), "round_robin");
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> one, plain.Open("ipv4:127.0.0.1:1"));
  EXPECT_EQ(PolicyOnceResolved(one), "pick_first");
}

}  // namespace
}  // namespace smp
