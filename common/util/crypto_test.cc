#include "common/util/crypto.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(CryptoTest, BearerTokensAre256RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string token = NewBearerToken();
    ASSERT_EQ(token.size(), 43u);  // ceil(32 * 8 / 6), unpadded
    std::string raw;
    ASSERT_TRUE(Base64UrlDecode(token, &raw));
    ASSERT_EQ(raw.size(), 32u);
    ASSERT_EQ(token.find_first_of("+/="), std::string::npos) << token;
    ASSERT_TRUE(seen.insert(token).second);
  }
}

TEST(CryptoTest, Sha256KnownAnswer) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, TokenHashDiffersFromToken) {
  std::string token = NewBearerToken();
  std::string hash = Sha256Hex(token);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find(token), std::string::npos);
  EXPECT_EQ(Sha256Hex(token), hash);
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace smp
