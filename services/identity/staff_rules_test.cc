#include "services/identity/staff_rules.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp::identity {
namespace {

using ::smp::common::v1::ROLE_ADMIN;
using ::smp::common::v1::ROLE_AUDITOR;
using ::smp::common::v1::ROLE_FRONT_DESK;
using ::smp::common::v1::ROLE_TECHNICIAN;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

constexpr char kClinicA[] = "01JD00000000000000000000AA";
constexpr char kClinicB[] = "01JD00000000000000000000BB";

v1::Staff FrontDesk() {
  v1::Staff s;
  s.set_id("01JD00000000000000000000S1");
  s.set_username("maria.lopez");
  s.set_display_name("Maria Lopez");
  s.add_roles(ROLE_FRONT_DESK);
  s.add_clinic_ids(kClinicA);
  s.set_state(v1::STAFF_STATE_ACTIVE);
  return s;
}

TEST(StaffRulesTest, Usernames) {
  EXPECT_EQ(NormalizeUsername("Maria.Lopez"), "maria.lopez");
  EXPECT_OK(ValidateUsername("username", "maria.lopez"));
  EXPECT_THAT(ValidateUsername("username", ""), StatusIs(kInvalid, HasSubstr("username")));
  EXPECT_THAT(ValidateUsername("username", "ab"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateUsername("username", "maria lopez"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateUsername("username", std::string(65, 'a')), StatusIs(kInvalid));
}

TEST(StaffRulesTest, ProfileNeedsRolesAndScope) {
  EXPECT_OK(ValidateStaffProfile(FrontDesk(), "staff"));
  v1::Staff s = FrontDesk();
  s.clear_roles();
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("staff.roles")));
  s = FrontDesk();
  s.add_roles(static_cast<common::v1::Role>(99));
  EXPECT_THAT(ValidateStaffProfile(s, "staff"),
              StatusIs(kInvalid, HasSubstr("staff.roles[1]: unknown role 99")));
  s = FrontDesk();
  s.add_roles(ROLE_FRONT_DESK);
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("twice")));
  s = FrontDesk();
  s.add_roles(common::v1::ROLE_UNSPECIFIED);
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("roles[1]")));
  s = FrontDesk();
  s.clear_clinic_ids();
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("staff.clinic_ids")));
  s.clear_roles();
  s.add_roles(ROLE_AUDITOR);  // chain-wide: no clinic needed
  EXPECT_OK(ValidateStaffProfile(s, "staff"));
  s = FrontDesk();
  s.add_clinic_ids("not-an-id");
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("clinic_ids[1]")));
  s = FrontDesk();
  s.set_email("nope");
  EXPECT_THAT(ValidateStaffProfile(s, "staff"), StatusIs(kInvalid, HasSubstr("staff.email")));
}

TEST(StaffRulesTest, UpdateAppliesMaskAndRevalidates) {
  v1::Staff patch;
  patch.add_roles(ROLE_TECHNICIAN);
  patch.add_clinic_ids(kClinicB);
  patch.set_username("ignored");
  google::protobuf::FieldMask mask;
  mask.add_paths("roles");
  mask.add_paths("clinic_ids");
  ASSERT_OK_AND_ASSIGN(v1::Staff updated, ApplyStaffUpdate(FrontDesk(), patch, mask));
  EXPECT_EQ(updated.roles(0), ROLE_TECHNICIAN);
  EXPECT_EQ(updated.clinic_ids(0), kClinicB);
  EXPECT_EQ(updated.username(), "maria.lopez");
  EXPECT_TRUE(UpdateTouchesGrants(mask));

  google::protobuf::FieldMask name_only;
  name_only.add_paths("display_name");
  EXPECT_FALSE(UpdateTouchesGrants(name_only));
  google::protobuf::FieldMask bad;
  bad.add_paths("username");
  EXPECT_THAT(ApplyStaffUpdate(FrontDesk(), patch, bad), StatusIs(kInvalid, HasSubstr("username")));
  google::protobuf::FieldMask clinics_only;
  clinics_only.add_paths("clinic_ids");
  EXPECT_THAT(ApplyStaffUpdate(FrontDesk(), v1::Staff(), clinics_only),
              StatusIs(kInvalid, HasSubstr("clinic_ids")));
}

TEST(StaffRulesTest, VisibilityFollowsClinicScope) {
  Principal desk_b;
  desk_b.staff_id = "01JD00000000000000000000S2";
  desk_b.roles = {ROLE_FRONT_DESK};
  desk_b.clinic_ids = {kClinicB};
  desk_b.authenticated = true;
  EXPECT_FALSE(CanSeeStaff(desk_b, FrontDesk()));  // works at A only
  v1::Staff self = FrontDesk();
  self.set_id(desk_b.staff_id);
  EXPECT_TRUE(CanSeeStaff(desk_b, self));
  v1::Staff shared = FrontDesk();
  shared.add_clinic_ids(kClinicB);
  EXPECT_TRUE(CanSeeStaff(desk_b, shared));
  Principal auditor;
  auditor.staff_id = "01JD00000000000000000000S3";
  auditor.roles = {ROLE_AUDITOR};
  auditor.authenticated = true;
  EXPECT_TRUE(CanSeeStaff(auditor, FrontDesk()));
}

TEST(StaffRulesTest, AdminMustRemain) {
  v1::Staff admin = FrontDesk();
  admin.add_roles(ROLE_ADMIN);
  EXPECT_TRUE(IsActiveAdmin(admin));
  admin.set_state(v1::STAFF_STATE_DISABLED);
  EXPECT_FALSE(IsActiveAdmin(admin));
  EXPECT_FALSE(IsActiveAdmin(FrontDesk()));
  EXPECT_OK(CheckAdminRemains(1));
  EXPECT_THAT(CheckAdminRemains(0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("admin")));
}

}  // namespace
}  // namespace smp::identity
