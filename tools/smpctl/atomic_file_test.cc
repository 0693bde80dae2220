#include "tools/smpctl/atomic_file.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::smpctl {
namespace {

std::string TempDir() {
  std::string pattern = ::testing::TempDir() + "/smpctl-atomic-XXXXXX";
  return ::mkdtemp(pattern.data());
}

int Entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  ::closedir(d);
  return n;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AtomicFile, ReplacesTheTargetOnlyOnCommit) {
  const std::string dir = TempDir();
  const std::string path = dir + "/report.csv";
  std::ofstream(path) << "old";
  {
    ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(path));
    ASSERT_OK(file->Write("new "));
    EXPECT_EQ(Read(path), "old");
    EXPECT_EQ(Entries(dir), 2);  // the target and the temporary file
    // Dropped without Commit.
  }
  EXPECT_EQ(Read(path), "old");
  EXPECT_EQ(Entries(dir), 1);
  ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(path));
  ASSERT_OK(file->Write("new "));
  ASSERT_OK(file->Write("content"));
  ASSERT_OK(file->Commit());
  EXPECT_EQ(file->bytes(), 11);
  EXPECT_EQ(Read(path), "new content");
  EXPECT_EQ(Entries(dir), 1);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AtomicFile, MissingDirectoryIsAnError) {
  EXPECT_FALSE(AtomicFile::Create(TempDir() + "/no/such/dir/file").ok());
}

}  // namespace
}  // namespace smp::smpctl
