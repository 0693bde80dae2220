#include "common/util/ids.h"

#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(IdsTest, WellFormedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewId();
    ASSERT_TRUE(IsWellFormedId(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
  }
}

TEST(IdsTest, SortByCreationTimeEvenWithinOneMillisecond) {
  // Ahead of the real clock: the generator is process-wide and never goes backwards.
  absl::Time t = absl::Now() + absl::Hours(1);
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(NewIdAt(t));
  ids.push_back(NewIdAt(t + absl::Milliseconds(1)));
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
  std::string next_year = NewIdAt(t + absl::Hours(24 * 365));
  EXPECT_LT(ids.back(), next_year);
}

TEST(IdsTest, RejectsMalformed) {
  EXPECT_FALSE(IsWellFormedId(""));
  EXPECT_FALSE(IsWellFormedId("01JD0000000000000000000000X"));  // 27 characters
  EXPECT_FALSE(IsWellFormedId("01JD00000000000000000000I0"));   // I is not Crockford
  EXPECT_FALSE(IsWellFormedId("81JD0000000000000000000000"));   // overflows 128 bits
  EXPECT_FALSE(IsWellFormedId("01jd0000000000000000000000"));   // lower case is not ours
  EXPECT_FALSE(IsWellFormedId("01JD0000000000000000000U00"));   // nor are U, L and O
  std::string with_nul(26, '0');
  with_nul[20] = '\0';
  EXPECT_FALSE(IsWellFormedId(with_nul));
  std::string with_high_byte(26, '0');
  with_high_byte[20] = '\xff';
  EXPECT_FALSE(IsWellFormedId(with_high_byte));
  EXPECT_TRUE(IsWellFormedId(std::string(26, '0')));
  EXPECT_TRUE(IsWellFormedId("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));  // the largest id
}

}  // namespace
}  // namespace smp
