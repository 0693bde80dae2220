#include "common/db/service_database.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const std::vector<Migration>& TestMigrations() {
  static const auto* migrations =
      new std::vector<Migration>{{1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY)"}};
  return *migrations;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string TempDir() {
  std::string pattern = ::testing::TempDir() + "/service-dbXXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

TEST(ServiceDatabaseTest, FilesArePrivateWhateverTheUmask) {
  const std::string dir = TempDir() + "/data/svc";
  const mode_t old_umask = ::umask(0);
  absl::StatusOr<std::unique_ptr<Database>> db = OpenServiceDatabase(dir, "svc", TestMigrations());
  ASSERT_OK(db.status());
  ASSERT_OK((*db)->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO notes (id) VALUES (1)");
  }));
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/svc.sqlite"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/svc.sqlite-wal"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/svc.sqlite-shm"), 0600u);
  db->reset();
  // And it opens again (a private database is fine).
  EXPECT_OK(OpenServiceDatabase(dir, "svc", TestMigrations()).status());
}

TEST(ServiceDatabaseTest, OpenDatabaseOrDirectoryIsRefusedNamingTheFix) {
  const std::string dir = TempDir();
  ASSERT_OK(OpenServiceDatabase(dir, "svc", TestMigrations()).status());
  const std::string file = dir + "/svc.sqlite";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  EXPECT_THAT(OpenServiceDatabase(dir, "svc", TestMigrations()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("database file " + file +
                                 " is accessible by group or others (mode 0644); run `chmod 600 " +
                                 file + "`")));
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_THAT(
      OpenServiceDatabase(dir, "svc", TestMigrations()),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("data directory " + dir +
                                                                " is accessible by group or others "
                                                                "(mode 0755); run `chmod 700 " +
                                                                dir + "`")));
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_OK(OpenServiceDatabase(dir, "svc", TestMigrations()).status());
}

TEST(ServiceDatabaseTest, LinkedDatabaseIsRefused) {
  const std::string dir = TempDir();
  ASSERT_EQ(::symlink("/tmp/elsewhere.sqlite", (dir + "/svc.sqlite").c_str()), 0);
  EXPECT_THAT(OpenServiceDatabase(dir, "svc", TestMigrations()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
}

}  // namespace
}  // namespace smp
