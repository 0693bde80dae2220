#include "services/identity/clinic_rules.h"

#include <string>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

v1::Clinic Austin() {
  v1::Clinic c;
  c.set_name("Austin Downtown");
  c.set_time_zone("America/Chicago");
  c.set_phone("+15125550100");
  c.mutable_address()->add_address_lines("100 Congress Ave");
  c.mutable_address()->set_locality("Austin");
  c.mutable_address()->set_administrative_area("TX");
  c.mutable_address()->set_region_code("US");
  return c;
}

TEST(ClinicRulesTest, AcceptsACompleteClinic) { EXPECT_OK(ValidateClinic(Austin(), "clinic")); }

TEST(ClinicRulesTest, NamesTheBadField) {
  v1::Clinic c = Austin();
  c.set_name("");
  EXPECT_THAT(ValidateClinic(c, "clinic"), StatusIs(kInvalid, HasSubstr("clinic.name")));
  c = Austin();
  c.set_time_zone("Mars/Olympus");
  EXPECT_THAT(ValidateClinic(c, "clinic"), StatusIs(kInvalid, HasSubstr("clinic.time_zone")));
  c = Austin();
  c.set_time_zone("");
  EXPECT_THAT(ValidateClinic(c, "clinic"), StatusIs(kInvalid, HasSubstr("clinic.time_zone")));
  c = Austin();
  c.set_phone("call us");
  EXPECT_THAT(ValidateClinic(c, "clinic"), StatusIs(kInvalid, HasSubstr("clinic.phone")));
  c = Austin();
  c.mutable_address()->set_region_code("usa");
  EXPECT_THAT(ValidateClinic(c, "clinic"),
              StatusIs(kInvalid, HasSubstr("clinic.address.region_code")));
  c = Austin();
  for (int i = 0; i < 5; ++i) c.mutable_address()->add_address_lines("line");
  EXPECT_THAT(ValidateClinic(c, "clinic"),
              StatusIs(kInvalid, HasSubstr("clinic.address.address_lines")));
  c = Austin();
  c.set_name(std::string(201, 'x'));
  EXPECT_THAT(ValidateClinic(c, "clinic"), StatusIs(kInvalid, HasSubstr("200")));
}

TEST(ClinicRulesTest, UpdateAppliesOnlyMaskedFields) {
  v1::Clinic current = Austin();
  current.set_id("01JD0000000000000000000000");
  v1::Clinic patch;
  patch.set_name("Austin South");
  patch.set_time_zone("ignored/not in mask");
  google::protobuf::FieldMask mask;
  mask.add_paths("name");
  ASSERT_OK_AND_ASSIGN(v1::Clinic updated, ApplyClinicUpdate(current, patch, mask));
  EXPECT_EQ(updated.name(), "Austin South");
  EXPECT_EQ(updated.time_zone(), "America/Chicago");
  EXPECT_EQ(updated.id(), current.id());
}

TEST(ClinicRulesTest, UpdateRejectsEmptyOrUnknownMaskAndInvalidResult) {
  v1::Clinic current = Austin();
  google::protobuf::FieldMask mask;
  EXPECT_THAT(ApplyClinicUpdate(current, current, mask),
              StatusIs(kInvalid, HasSubstr("update_mask")));
  mask.add_paths("id");
  EXPECT_THAT(ApplyClinicUpdate(current, current, mask), StatusIs(kInvalid, HasSubstr("\"id\"")));
  google::protobuf::FieldMask tz;
  tz.add_paths("time_zone");
  v1::Clinic patch;
  patch.set_time_zone("Not/AZone");
  EXPECT_THAT(ApplyClinicUpdate(current, patch, tz), StatusIs(kInvalid, HasSubstr("time_zone")));
}

}  // namespace
}  // namespace smp::identity
