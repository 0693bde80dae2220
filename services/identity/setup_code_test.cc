#include "services/identity/setup_code.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class SetupCodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/setup-codeXXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/identity-setup-code";
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_, path_;
};

TEST_F(SetupCodeTest, NewFileIsPrivateWhateverTheUmaskAndReusedAtTheNextStart) {
  const mode_t old_umask = ::umask(0);
  absl::StatusOr<std::string> code = PrepareSetupCode(path_);
  ::umask(old_umask);
  ASSERT_OK(code.status());
  EXPECT_GE(code->size(), 16u);
  EXPECT_EQ(ModeOf(path_), 0600u);
  EXPECT_NE(::access((path_ + ".tmp").c_str(), F_OK), 0);  // no temporary file left
  EXPECT_THAT(PrepareSetupCode(path_), ::smp::testing::IsOkAndHolds(*code));
  RemoveSetupCode(path_);
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(SetupCodeTest, PresetFileIsUsedWhenPrivate) {
  std::ofstream(path_) << "a-preset-code-of-the-installer\n";
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  EXPECT_THAT(PrepareSetupCode(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600 " + path_)));
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_THAT(PrepareSetupCode(path_),
              ::smp::testing::IsOkAndHolds(std::string("a-preset-code-of-the-installer")));
}

TEST_F(SetupCodeTest, ShortPresetIsRefused) {
  std::ofstream(path_) << "short\n";
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_THAT(PrepareSetupCode(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("at least 16")));
}

TEST_F(SetupCodeTest, SymbolicLinksAreNeverFollowed) {
  // A link to a file someone else would like overwritten or read: refused, target untouched.
  const std::string target = dir_ + "/target";
  std::ofstream(target) << "not the setup code, leave me alone\n";
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_THAT(PrepareSetupCode(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
  // A dangling link (where O_CREAT without O_EXCL would create the target) is refused too.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  const std::string dangling = dir_ + "/created-through-the-link";
  ASSERT_EQ(::symlink(dangling.c_str(), path_.c_str()), 0);
  EXPECT_THAT(PrepareSetupCode(path_), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(::access(dangling.c_str(), F_OK), 0);
  // A planted temporary link is removed, not followed.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  ASSERT_EQ(::symlink(dangling.c_str(), (path_ + ".tmp").c_str()), 0);
  ASSERT_OK(PrepareSetupCode(path_).status());
  EXPECT_NE(::access(dangling.c_str(), F_OK), 0);
  EXPECT_EQ(ModeOf(path_), 0600u);
}

}  // namespace
}  // namespace smp::identity
