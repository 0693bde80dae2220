#include "common/util/grpc_target.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::testing::ElementsAre;

TEST(GrpcTargetTest, ListsSplitOtherTargetsStayWhole) {
  EXPECT_THAT(TargetAddresses("ipv4:10.0.0.2:7001,10.0.0.3:7001"),
              ElementsAre("10.0.0.2:7001", "10.0.0.3:7001"));
  EXPECT_THAT(TargetAddresses("ipv6:[::1]:7001,[::2]:7001"),
              ElementsAre("[::1]:7001", "[::2]:7001"));
  EXPECT_THAT(TargetAddresses("ipv4:127.0.0.1:7001"), ElementsAre("127.0.0.1:7001"));
  EXPECT_THAT(TargetAddresses("127.0.0.1:7001"), ElementsAre("127.0.0.1:7001"));
  EXPECT_THAT(TargetAddresses("dns:///identity:7001"), ElementsAre("dns:///identity:7001"));
}

TEST(GrpcTargetTest, OnlyListsOfSeveralAreReplicaLists) {
  EXPECT_TRUE(IsReplicaList("ipv4:10.0.0.2:7001,10.0.0.3:7001"));
  EXPECT_TRUE(IsReplicaList("ipv6:[::1]:1,[::1]:2"));
  EXPECT_FALSE(IsReplicaList("ipv4:10.0.0.2:7001"));
  EXPECT_FALSE(IsReplicaList("10.0.0.2:7001"));
  EXPECT_FALSE(IsReplicaList("unix:/run/a,b"));
  EXPECT_FALSE(IsReplicaList("localhost:7001"));
}

}  // namespace
}  // namespace smp
