#include "services/identity/password_hasher.h"

#include <string>

#include "absl/strings/match.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

// Small parameters keep the test fast; production uses the defaults.
PasswordHasher::Params FastParams() {
  PasswordHasher::Params p;
  p.ops_limit = 1;
  p.mem_limit = 8u << 10;  // libsodium's minimum
  return p;
}

TEST(PasswordHasherTest, HashesAreSaltedArgon2idAndVerify) {
  PasswordHasher hasher(FastParams());
  ASSERT_OK_AND_ASSIGN(std::string a, hasher.Hash("correct horse battery"));
  ASSERT_OK_AND_ASSIGN(std::string b, hasher.Hash("correct horse battery"));
  EXPECT_TRUE(absl::StartsWith(a, "$argon2id$")) << a;
  EXPECT_NE(a, b);  // salted
  EXPECT_EQ(a.find("correct horse"), std::string::npos);
  EXPECT_TRUE(hasher.Verify("correct horse battery", a));
  EXPECT_TRUE(hasher.Verify("correct horse battery", b));
  EXPECT_FALSE(hasher.Verify("correct horse batterY", a));
  EXPECT_FALSE(hasher.Verify("", a));
  EXPECT_FALSE(hasher.Verify("correct horse battery", "garbage"));
  EXPECT_FALSE(hasher.Verify("correct horse battery", ""));
}

TEST(PasswordHasherTest, DefaultParametersAreStoredInTheHash) {
  PasswordHasher hasher;
  ASSERT_OK_AND_ASSIGN(std::string h, hasher.Hash("a long enough password"));
  EXPECT_TRUE(absl::StrContains(h, "m=19456,t=2")) << h;
  // A hash made with other parameters still verifies: they travel in the string.
  PasswordHasher fast(FastParams());
  EXPECT_TRUE(fast.Verify("a long enough password", h));
}

TEST(PasswordPolicyTest, LengthNotComposition) {
  EXPECT_OK(ValidatePassword("password", "tenletters"));
  EXPECT_OK(ValidatePassword("password", "zehn Zeichen ü"));
  EXPECT_THAT(ValidatePassword("password", "short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 10")));
  EXPECT_THAT(ValidatePassword("new_password", std::string(12, ' ')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
  EXPECT_THAT(ValidatePassword("password", std::string(257, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("256")));
}

}  // namespace
}  // namespace smp::identity
