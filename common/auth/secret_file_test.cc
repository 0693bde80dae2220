#include "common/auth/secret_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& content, mode_t mode) {
  const std::string path = ::testing::TempDir() + "/secret-file-" + name;
  std::remove(path.c_str());
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  chmod(path.c_str(), mode);
  return path;
}

TEST(SecretFileTest, TrimsOneTrailingNewlineOnlyWhenAsked) {
  const std::string path = WriteFile("pw", "pass word\r\n", 0600);
  ASSERT_OK_AND_ASSIGN(std::string trimmed, ReadSecretFile("--x", path, true));
  EXPECT_EQ(trimmed, "pass word");
  ASSERT_OK_AND_ASSIGN(std::string exact, ReadSecretFile("--x", path, false));
  EXPECT_EQ(exact, "pass word\r\n");
  ASSERT_OK_AND_ASSIGN(std::string owner_read_only,
                       ReadSecretFile("--x", WriteFile("ro", "k", 0400), true));
  EXPECT_EQ(owner_read_only, "k");
}

TEST(SecretFileTest, RefusesFilesOthersCanReadEmptyOrMissing) {
  EXPECT_THAT(ReadSecretFile("--redis_password_file", WriteFile("group", "pw", 0640), true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("--redis_password_file"), HasSubstr("chmod 600"))));
  EXPECT_THAT(ReadSecretFile("--x", WriteFile("empty", "\n", 0600), true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is empty")));
  EXPECT_THAT(ReadSecretFile("--x", ::testing::TempDir() + "/secret-file-none", true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot open")));
  EXPECT_THAT(ReadSecretFile("--x", ::testing::TempDir(), true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace smp
