#include "common/util/validation.h"

#include <string>

#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(ValidationTest, RequiredText) {
  EXPECT_OK(ValidateRequiredText("name", "Austin Downtown", 200));
  EXPECT_OK(ValidateRequiredText("name", "Zürich Mitte", 12));  // 12 characters, 13 bytes
  EXPECT_THAT(ValidateRequiredText("name", "", 200),
              StatusIs(kInvalid, HasSubstr("name: is required")));
  EXPECT_THAT(ValidateRequiredText("name", "   ", 200), StatusIs(kInvalid, HasSubstr("required")));
  EXPECT_THAT(ValidateRequiredText("clinic.name", std::string(201, 'a'), 200),
              StatusIs(kInvalid, HasSubstr("clinic.name: is longer than 200")));
  EXPECT_THAT(ValidateRequiredText("name", "a\nb", 200), StatusIs(kInvalid, HasSubstr("control")));
  EXPECT_THAT(ValidateRequiredText("name", "\xff\xfe", 200),
              StatusIs(kInvalid, HasSubstr("UTF-8")));
  EXPECT_OK(ValidateOptionalText("phone", "", 10));
}

TEST(ValidationTest, Utf8RejectsOverlongTruncatedAndSurrogates) {
  size_t n = 0;
  EXPECT_TRUE(Utf8Length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", &n));
  EXPECT_EQ(n, 4u);
  EXPECT_FALSE(Utf8Length("\xc0\xaf", &n));          // overlong '/'
  EXPECT_FALSE(Utf8Length("\xe2\x82", &n));          // truncated
  EXPECT_FALSE(Utf8Length("\xed\xa0\x80", &n));      // surrogate
  EXPECT_FALSE(Utf8Length("\xf4\x90\x80\x80", &n));  // past U+10FFFF
}

TEST(ValidationTest, Ids) {
  EXPECT_OK(ValidateId("id", NewId()));
  EXPECT_THAT(ValidateId("id", ""), StatusIs(kInvalid, HasSubstr("id: is required")));
  EXPECT_THAT(ValidateId("clinic_id", "nope"), StatusIs(kInvalid, HasSubstr("clinic_id")));
}

TEST(ValidationTest, RequestIds) {
  EXPECT_OK(ValidateRequestId("request_id", "3f0c2a9e-2b1d-4c55-9a0e-6b7d1c2e3f40"));
  EXPECT_THAT(ValidateRequestId("request_id", ""), StatusIs(kInvalid, HasSubstr("request_id")));
  EXPECT_THAT(ValidateRequestId("request_id", std::string(129, 'a')), StatusIs(kInvalid));
  EXPECT_THAT(ValidateRequestId("request_id", "a b"), StatusIs(kInvalid));
}

TEST(ValidationTest, TimeZones) {
  EXPECT_OK(ValidateTimeZone("time_zone", "America/New_York").status());
  EXPECT_OK(ValidateTimeZone("time_zone", "Europe/London").status());
  EXPECT_OK(ValidateTimeZone("time_zone", "UTC").status());
  EXPECT_THAT(ValidateTimeZone("time_zone", "Mars/Olympus"),
              StatusIs(kInvalid, HasSubstr("unknown IANA time zone \"Mars/Olympus\"")));
  EXPECT_THAT(ValidateTimeZone("time_zone", ""), StatusIs(kInvalid, HasSubstr("required")));
  EXPECT_THAT(ValidateTimeZone("time_zone", "localtime"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateTimeZone("time_zone", "../../etc/passwd"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateTimeZone("time_zone", "/usr/share/zoneinfo/UTC"), StatusIs(kInvalid));
}

TEST(ValidationTest, EmailAndPhone) {
  EXPECT_OK(ValidateOptionalEmail("email", ""));
  EXPECT_OK(ValidateOptionalEmail("email", "desk@austin.example.com"));
  EXPECT_THAT(ValidateOptionalEmail("email", "desk@"), StatusIs(kInvalid, HasSubstr("email")));
  EXPECT_THAT(ValidateOptionalEmail("email", "a@b@c.com"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateOptionalEmail("email", "no-at.example.com"), StatusIs(kInvalid));
  EXPECT_OK(ValidateOptionalPhone("phone", "+15125550100"));
  EXPECT_THAT(ValidateOptionalPhone("phone", "512-555-0100"),
              StatusIs(kInvalid, HasSubstr("E.164")));
  EXPECT_THAT(ValidateOptionalPhone("phone", "+0123456789"), StatusIs(kInvalid));
}

}  // namespace
}  // namespace smp
