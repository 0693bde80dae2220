#include "common/server/flags_env.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, test_env_int, 7, "Test-only flag.");
ABSL_FLAG(std::string, test_env_str, "default", "Test-only flag.");

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StrEq;

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(FlagsEnvTest, VariableNameIsUpperCasedWithPrefix) {
  EXPECT_EQ(EnvVarForFlag("listen"), "SMP_LISTEN");
  EXPECT_EQ(EnvVarForFlag("tls_client_ca"), "SMP_TLS_CLIENT_CA");
}

TEST(FlagsEnvTest, EnvironmentSetsFlags) {
  absl::FlagSaver saver;
  ScopedEnv int_env("SMP_TEST_ENV_INT", "42");
  ScopedEnv str_env("SMP_TEST_ENV_STR", "");
  ASSERT_OK(ApplyEnvironmentToFlags());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_int), 42);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_str), "");  // set-but-empty is applied
}

TEST(FlagsEnvTest, UnsetVariablesLeaveDefaults) {
  absl::FlagSaver saver;
  ASSERT_OK(ApplyEnvironmentToFlags());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_int), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_str), "default");
}

TEST(FlagsEnvTest, CommandLineWinsOverEnvironment) {
  absl::FlagSaver saver;
  ScopedEnv int_env("SMP_TEST_ENV_INT", "42");
  ScopedEnv str_env("SMP_TEST_ENV_STR", "from-env");
  std::string arg0 = "prog", arg1 = "--test_env_int=5", arg2 = "positional";
  char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
  const std::vector<char*> rest = ParseFlagsWithEnvironment(3, argv);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_int), 5);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_str), "from-env");
  EXPECT_THAT(rest, ElementsAre(StrEq("prog"), StrEq("positional")));
}

TEST(FlagsEnvTest, BadValueIsReportedWithVariableName) {
  absl::FlagSaver saver;
  ScopedEnv int_env("SMP_TEST_ENV_INT", "forty-two");
  EXPECT_THAT(ApplyEnvironmentToFlags(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SMP_TEST_ENV_INT")));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_int), 7);
}

TEST(FlagsEnvDeathTest, BadValueAbortsStartUp) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ScopedEnv int_env("SMP_TEST_ENV_INT", "forty-two");
  std::string arg0 = "prog";
  char* argv[] = {arg0.data()};
  EXPECT_EXIT(ParseFlagsWithEnvironment(1, argv), ::testing::ExitedWithCode(1), "SMP_TEST_ENV_INT");
}

TEST(FlagsEnvTest, AbseilBuiltinsAreNotMapped) {
  absl::FlagSaver saver;
  // Would make ParseCommandLine read a file if it were mapped to --flagfile.
  ScopedEnv flagfile("SMP_FLAGFILE", "/nonexistent/flags");
  EXPECT_OK(ApplyEnvironmentToFlags());
}

}  // namespace
}  // namespace smp
