#include "tools/loadgen/client_credentials.h"

#include <fstream>
#include <string>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::loadgen {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ClientCredentialsTest, PlaintextUntilTlsIsSet) {
  EXPECT_NE(ClientCredentials(), nullptr);
  const std::string ca =
      WriteFile("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  ASSERT_OK_AND_ASSIGN(auto tls, TlsClientCredentials(ca, "", ""));
  const std::shared_ptr<grpc::ChannelCredentials> before = ClientCredentials();
  SetClientCredentials(tls);
  EXPECT_EQ(ClientCredentials(), tls);
  SetClientCredentials(before);
}

TEST(ClientCredentialsTest, NamesTheFlagOfWhatIsMissing) {
  EXPECT_THAT(TlsClientCredentials("", "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_ca")));
  const std::string ca =
      WriteFile("ca2.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  EXPECT_THAT(TlsClientCredentials(ca, "cert.pem", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_key")));
  EXPECT_THAT(TlsClientCredentials(::testing::TempDir() + "/missing.pem", "", ""),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace smp::loadgen
