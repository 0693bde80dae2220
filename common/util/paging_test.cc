#include "common/util/paging.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PagingTest, PageSizeDefaultsAndLimits) {
  ASSERT_OK_AND_ASSIGN(PageRequest page, ParsePageRequest(0, "", "clinics"));
  EXPECT_EQ(page.size, kDefaultPageSize);
  EXPECT_EQ(page.after_key, "");
  ASSERT_OK_AND_ASSIGN(page, ParsePageRequest(7, "", "clinics"));
  EXPECT_EQ(page.size, 7);
  ASSERT_OK_AND_ASSIGN(page, ParsePageRequest(100000, "", "clinics"));
  EXPECT_EQ(page.size, kMaxPageSize);
  EXPECT_THAT(ParsePageRequest(-1, "", "clinics"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST(PagingTest, TokenRoundTripsWithinItsQueryOnly) {
  std::string token = MakePageToken("staff?clinic=A", "01JD0000000000000000000000");
  ASSERT_OK_AND_ASSIGN(PageRequest page, ParsePageRequest(10, token, "staff?clinic=A"));
  EXPECT_EQ(page.after_key, "01JD0000000000000000000000");
  EXPECT_THAT(ParsePageRequest(10, token, "staff?clinic=B"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(ParsePageRequest(10, "garbage!", "staff?clinic=A"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace smp
