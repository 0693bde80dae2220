#include "services/identity/client_address.h"

#include "common/auth/login_limiter.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TrustedForwardersTest, NobodyIsTrustedByDefault) {
  TrustedForwarders none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.ClientAddress("ipv4:127.0.0.1:5000", {}, "203.0.113.9"), "ipv4:127.0.0.1:5000");
  ASSERT_OK_AND_ASSIGN(TrustedForwarders parsed, TrustedForwarders::Parse(""));
  EXPECT_TRUE(parsed.empty());
}

TEST(TrustedForwardersTest, ATrustedAddressNamesTheClient) {
  ASSERT_OK_AND_ASSIGN(TrustedForwarders trusted,
                       TrustedForwarders::Parse(" 127.0.0.1 , 2001:db8::7"));
  EXPECT_EQ(trusted.ClientAddress("ipv4:127.0.0.1:5000", {}, "203.0.113.9"), "203.0.113.9");
  // IPv6 peers in both of gRPC's spellings, and the forwarded address made canonical.
  EXPECT_EQ(trusted.ClientAddress("ipv6:[2001:db8:0::7]:443", {}, "2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(trusted.ClientAddress("ipv6:%5B2001:db8::7%5D:443", {}, "10.1.2.3"), "10.1.2.3");
  // The limiter then counts the forwarded address (an IPv6 client per /64).
  EXPECT_EQ(AddressBucket(trusted.ClientAddress("ipv4:127.0.0.1:1", {}, "2001:db8:1:2::5")),
            "2001:db8:1:2::/64");
  // Without the header, or with something that is not one IP address, the peer is the client.
  EXPECT_EQ(trusted.ClientAddress("ipv4:127.0.0.1:5000", {}, ""), "ipv4:127.0.0.1:5000");
  EXPECT_EQ(trusted.ClientAddress("ipv4:127.0.0.1:5000", {}, "203.0.113.9:80"),
            "ipv4:127.0.0.1:5000");
  EXPECT_EQ(trusted.ClientAddress("ipv4:127.0.0.1:5000", {}, "203.0.113.9, 10.0.0.1"),
            "ipv4:127.0.0.1:5000");
}

TEST(TrustedForwardersTest, AnUntrustedPeersHeaderIsIgnored) {
  ASSERT_OK_AND_ASSIGN(TrustedForwarders trusted, TrustedForwarders::Parse("10.0.0.5"));
  EXPECT_FALSE(trusted.Trusts("ipv4:10.0.0.6:5000", {}));
  EXPECT_EQ(trusted.ClientAddress("ipv4:10.0.0.6:5000", {}, "203.0.113.9"), "ipv4:10.0.0.6:5000");
  // A unix socket peer has no address to match.
  EXPECT_EQ(trusted.ClientAddress("unix:/run/smp.sock", {}, "203.0.113.9"), "unix:/run/smp.sock");
  // A certificate name is no address.
  EXPECT_FALSE(trusted.Trusts("ipv4:10.0.0.6:5000", {"10.0.0.5"}));
}

TEST(TrustedForwardersTest, ATrustedCertificateNamesTheClientFromAnyAddress) {
  ASSERT_OK_AND_ASSIGN(TrustedForwarders trusted, TrustedForwarders::Parse("cert:console"));
  EXPECT_EQ(trusted.ClientAddress("ipv4:10.9.8.7:5000", {"console"}, "203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(trusted.ClientAddress("ipv4:10.9.8.7:5000", {"operator"}, "203.0.113.9"),
            "ipv4:10.9.8.7:5000");
  EXPECT_EQ(trusted.ClientAddress("ipv4:10.9.8.7:5000", {}, "203.0.113.9"), "ipv4:10.9.8.7:5000");
}

TEST(TrustedForwardersTest, BadEntriesAreRefusedByName) {
  EXPECT_THAT(TrustedForwarders::Parse("127.0.0.1,gateway.local").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gateway.local")));
  EXPECT_THAT(TrustedForwarders::Parse("cert:").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert:")));
  EXPECT_THAT(TrustedForwarders::Parse("10.0.0.0/8").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10.0.0.0/8")));
}

TEST(CanonicalIpTest, OnlyAddressLiterals) {
  EXPECT_EQ(CanonicalIp("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(CanonicalIp("0:0::1"), "::1");
  EXPECT_EQ(CanonicalIp("localhost"), "");
  EXPECT_EQ(CanonicalIp(""), "");
  EXPECT_EQ(CanonicalIp("1.2.3.4.5"), "");
}

}  // namespace
}  // namespace smp::identity
