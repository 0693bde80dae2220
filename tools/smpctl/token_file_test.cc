#include "tools/smpctl/token_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  std::string pattern = ::testing::TempDir() + "/smpctl-token-XXXXXX";
  return ::mkdtemp(pattern.data());
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(TokenFile, WritesMode0600InNewDirectoriesAndReadsBack) {
  const std::string dir = TempDir();
  const std::string path = dir + "/a/b/token";
  const mode_t old_umask = ::umask(0);  // the file must be 0600 whatever the umask
  ASSERT_OK(WriteTokenFile(path, "tok-1"));
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(dir + "/a/b"), 0700);
  ASSERT_OK_AND_ASSIGN(std::string token, ReadTokenFile(path));
  EXPECT_EQ(token, "tok-1");
}

TEST(TokenFile, TightensAWiderExistingFile) {
  const std::string path = TempDir() + "/token";
  std::ofstream(path) << "old\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_OK(WriteTokenFile(path, "new"));
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(*ReadTokenFile(path), "new");
}

TEST(TokenFile, RefusesGroupOrWorldAccess) {
  const std::string path = TempDir() + "/token";
  ASSERT_OK(WriteTokenFile(path, "tok"));
  for (mode_t mode : {0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    absl::StatusOr<std::string> token = ReadTokenFile(path);
    EXPECT_THAT(token, testing::StatusIs(absl::StatusCode::kUnauthenticated,
                                         HasSubstr("accessible by group or others")));
    EXPECT_THAT(std::string(token.status().message()), HasSubstr("chmod 600"));
    EXPECT_EQ(ExitCodeFor(token.status()), kExitUnauthenticated);
  }
}

TEST(TokenFile, MissingMeansNotLoggedIn) {
  absl::StatusOr<std::string> token = ReadTokenFile(TempDir() + "/none");
  EXPECT_THAT(token,
              testing::StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not logged in")));
}

TEST(TokenFile, RefusesSymlinks) {
  const std::string dir = TempDir();
  ASSERT_OK(WriteTokenFile(dir + "/real", "tok"));
  ASSERT_EQ(::symlink((dir + "/real").c_str(), (dir + "/link").c_str()), 0);
  EXPECT_FALSE(ReadTokenFile(dir + "/link").ok());
  EXPECT_FALSE(WriteTokenFile(dir + "/link", "x").ok());
}

TEST(TokenFile, RemoveIsIdempotent) {
  const std::string path = TempDir() + "/token";
  ASSERT_OK(WriteTokenFile(path, "tok"));
  ASSERT_OK(RemoveTokenFile(path));
  ASSERT_OK(RemoveTokenFile(path));
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace smp::smpctl
