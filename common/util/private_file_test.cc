#include "common/util/private_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempDir() {
  std::string pattern = ::testing::TempDir() + "/privateXXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

TEST(PrivateFileTest, CreatedFileIsOwnerOnlyWhateverTheUmask) {
  const std::string path = TempDir() + "/f";
  const mode_t old_umask = ::umask(0);
  const absl::Status created = CreatePrivateFile(path);
  ::umask(old_umask);
  ASSERT_OK(created);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_OK(CheckPrivateFile(path, "file"));
  EXPECT_THAT(CreatePrivateFile(path), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(PrivateFileTest, CreateDoesNotFollowALink) {
  const std::string dir = TempDir();
  ASSERT_EQ(::symlink((dir + "/elsewhere").c_str(), (dir + "/f").c_str()), 0);
  EXPECT_THAT(CreatePrivateFile(dir + "/f"), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_NE(::access((dir + "/elsewhere").c_str(), F_OK), 0);
}

TEST(PrivateFileTest, GroupOrOtherAccessIsRefusedWithTheFix) {
  const std::string dir = TempDir();
  const std::string file = dir + "/db.sqlite";
  std::ofstream(file) << "x";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  EXPECT_THAT(CheckPrivateFile(file, "database"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("database " + file +
                                 " is accessible by group or others (mode 0644); run `chmod 600 " +
                                 file + "`")));
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_THAT(CheckPrivateFile(file, "database"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(::chmod(file.c_str(), 0400), 0);
  EXPECT_OK(CheckPrivateFile(file, "database"));

  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_THAT(CheckPrivateDirectory(dir, "data directory"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("run `chmod 700 " + dir)));
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_OK(CheckPrivateDirectory(dir, "data directory"));
  EXPECT_THAT(CheckPrivateDirectory(file, "data directory"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a directory")));
  EXPECT_THAT(CheckPrivateFile(dir + "/missing", "key"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(PrivateFileTest, LinksAreRefused) {
  const std::string dir = TempDir();
  std::ofstream(dir + "/real") << "x";
  ASSERT_EQ(::chmod((dir + "/real").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((dir + "/real").c_str(), (dir + "/link").c_str()), 0);
  EXPECT_THAT(CheckPrivateFile(dir + "/link", "key"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
}

}  // namespace
}  // namespace smp
