#include <fstream>
#include <string>

#include "common/util/clock_offset.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

std::string OffsetFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(ReadClockOffsetFileTest, ReadsADurationWithSurroundingWhitespace) {
  EXPECT_EQ(ReadClockOffsetFile(OffsetFile("ahead", "2400h\n")), absl::Hours(2400));
  EXPECT_EQ(ReadClockOffsetFile(OffsetFile("behind", " -1h30m ")), -absl::Minutes(90));
}

TEST(ReadClockOffsetFileTest, MissingOrMalformedIsNoShift) {
  EXPECT_EQ(ReadClockOffsetFile(::testing::TempDir() + "/no-such-file"), absl::ZeroDuration());
  EXPECT_EQ(ReadClockOffsetFile(OffsetFile("bad", "ten days")), absl::ZeroDuration());
  EXPECT_EQ(ReadClockOffsetFile(OffsetFile("empty", "")), absl::ZeroDuration());
}

}  // namespace
}  // namespace smp
