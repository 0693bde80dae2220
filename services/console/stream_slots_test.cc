#include "services/console/stream_slots.h"

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::console {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(StreamSlotsTest, LimitsPerSessionAndInTotalAndGivesSlotsBack) {
  StreamSlots slots(3, 2);
  ASSERT_OK_AND_ASSIGN(auto a1, slots.Acquire("a"));
  ASSERT_OK_AND_ASSIGN(auto a2, slots.Acquire("a"));
  EXPECT_THAT(slots.Acquire("a").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("this session already has 2")));
  ASSERT_OK_AND_ASSIGN(auto b1, slots.Acquire("b"));
  EXPECT_EQ(slots.open(), 3);
  EXPECT_THAT(slots.Acquire("c").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("the console is serving 3")));
  a1.reset();
  EXPECT_EQ(slots.open(), 2);
  ASSERT_OK_AND_ASSIGN(auto c1, slots.Acquire("c"));
  // Full again: session a (one stream) is refused for the total, not for its own limit.
  EXPECT_THAT(slots.Acquire("a").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("the console is serving")));
  b1.reset();
  ASSERT_OK_AND_ASSIGN(auto a3, slots.Acquire("a"));
  EXPECT_EQ(slots.open(), 3);
}

}  // namespace
}  // namespace smp::console
