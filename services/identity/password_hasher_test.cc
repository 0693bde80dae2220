#include "services/identity/password_hasher.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::testing::IsOkAndHolds;
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
  EXPECT_THAT(hasher.Verify("correct horse battery", a), IsOkAndHolds(true));
  EXPECT_THAT(hasher.Verify("correct horse battery", b), IsOkAndHolds(true));
  EXPECT_THAT(hasher.Verify("correct horse batterY", a), IsOkAndHolds(false));
  EXPECT_THAT(hasher.Verify("", a), IsOkAndHolds(false));
  EXPECT_THAT(hasher.Verify("correct horse battery", "garbage"), IsOkAndHolds(false));
  EXPECT_THAT(hasher.Verify("correct horse battery", ""), IsOkAndHolds(false));
}

TEST(PasswordHasherTest, DefaultParametersAreStoredInTheHash) {
  PasswordHasher hasher;
  ASSERT_OK_AND_ASSIGN(std::string h, hasher.Hash("a long enough password"));
  EXPECT_TRUE(absl::StrContains(h, "m=19456,t=2")) << h;
  // A hash made with other parameters still verifies: they travel in the string.
  PasswordHasher fast(FastParams());
  EXPECT_THAT(fast.Verify("a long enough password", h), IsOkAndHolds(true));
}

// Before: a check queued behind busy slots waited without end, holding its handler thread.
TEST(PasswordHasherTest, BusyGateAnswersUnavailableAfterItsWait) {
  PasswordHasher::Params params = FastParams();
  params.max_concurrent = 1;
  params.gate_wait = absl::Milliseconds(50);
  PasswordHasher hasher(params);
  ASSERT_OK_AND_ASSIGN(std::string hash, hasher.Hash("correct horse battery"));

  // Every slot taken, as by long-running checks of other logins.
  ASSERT_TRUE(hasher.gate_for_testing().Enter(absl::Now()));
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> verified = hasher.Verify("correct horse battery", hash);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_THAT(verified, StatusIs(absl::StatusCode::kUnavailable,
                                 HasSubstr("too many password checks are running")));
  EXPECT_EQ(ErrorReason(verified.status()), "PASSWORD_CHECK_BUSY");
  EXPECT_THAT(hasher.Hash("another password"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(hasher.VerifyDummy("x"), StatusIs(absl::StatusCode::kUnavailable));

  // A slot comes free: checks go through again.
  hasher.gate_for_testing().Leave();
  EXPECT_THAT(hasher.Verify("correct horse battery", hash), IsOkAndHolds(true));
}

TEST(PasswordHasherGateTest, WaitsForASlotUntilTheDeadline) {
  PasswordHasher::Gate gate(2);
  EXPECT_TRUE(gate.Enter(absl::Now()));
  EXPECT_TRUE(gate.Enter(absl::Now()));
  EXPECT_FALSE(gate.Enter(absl::Now() + absl::Milliseconds(10)));
  gate.Leave();
  EXPECT_TRUE(gate.Enter(absl::Now()));
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
