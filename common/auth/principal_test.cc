#include "common/auth/principal.h"

#include "absl/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::IsOk;
using ::smp::testing::StatusIs;

Principal Staff(std::vector<common::v1::Role> roles, std::vector<std::string> clinics) {
  Principal principal;
  principal.staff_id = "staff-1";
  principal.roles = std::move(roles);
  principal.clinic_ids = std::move(clinics);
  principal.authenticated = true;
  return principal;
}

TEST(PrincipalTest, BranchRoleSeesOnlyItsClinics) {
  Principal desk = Staff({common::v1::ROLE_FRONT_DESK}, {"clinic-a", "clinic-b"});
  EXPECT_FALSE(desk.IsChainWide());
  EXPECT_TRUE(desk.CanAccessClinic("clinic-a"));
  EXPECT_TRUE(desk.CanAccessClinic("clinic-b"));
  EXPECT_FALSE(desk.CanAccessClinic("clinic-c"));
  EXPECT_FALSE(desk.CanAccessClinic(""));
  EXPECT_THAT(desk.CheckClinic("clinic-a"), IsOk());
  EXPECT_THAT(desk.CheckClinic("clinic-c"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "clinic clinic-c is outside your clinic scope"));
}

TEST(PrincipalTest, ChainWideRolesSeeEveryClinic) {
  for (common::v1::Role role :
       {common::v1::ROLE_ADMIN, common::v1::ROLE_AUDITOR, common::v1::ROLE_SERVICE}) {
    Principal principal = Staff({common::v1::ROLE_TECHNICIAN, role}, {});
    EXPECT_TRUE(principal.IsChainWide());
    EXPECT_TRUE(principal.CanAccessClinic("any-clinic"));
  }
}

TEST(PrincipalTest, ClinicFilterIsTheBranchClinicsOrNoneForChainWide) {
  Principal desk = Staff({common::v1::ROLE_FRONT_DESK}, {"clinic-a", "clinic-b"});
  ASSERT_TRUE(desk.ClinicFilter().has_value());
  EXPECT_THAT(*desk.ClinicFilter(), ::testing::ElementsAre("clinic-a", "clinic-b"));
  EXPECT_FALSE(Staff({common::v1::ROLE_AUDITOR}, {"clinic-a"}).ClinicFilter().has_value());
  // A branch caller with no clinics filters to nothing, not to everything.
  ASSERT_TRUE(Staff({common::v1::ROLE_TECHNICIAN}, {}).ClinicFilter().has_value());
  EXPECT_TRUE(Staff({common::v1::ROLE_TECHNICIAN}, {}).ClinicFilter()->empty());
}

TEST(PrincipalTest, HasRoleOnlyWhenAuthenticated) {
  Principal auditor = Staff({common::v1::ROLE_AUDITOR}, {});
  EXPECT_TRUE(auditor.HasRole(common::v1::ROLE_AUDITOR));
  EXPECT_FALSE(auditor.HasRole(common::v1::ROLE_ADMIN));
  auditor.authenticated = false;
  EXPECT_FALSE(auditor.HasRole(common::v1::ROLE_AUDITOR));
}

TEST(PrincipalTest, HasUnionOfRoles) {
  Principal principal = Staff({common::v1::ROLE_TECHNICIAN, common::v1::ROLE_BILLING_CLERK}, {});
  EXPECT_TRUE(principal.Has(common::v1::PERMISSION_PROCEDURES_PERFORM));
  EXPECT_TRUE(principal.Has(common::v1::PERMISSION_BILLING_WRITE));
  EXPECT_FALSE(principal.Has(common::v1::PERMISSION_STAFF_WRITE));
  EXPECT_TRUE(principal.Has(common::v1::PERMISSION_AUTHENTICATED));
  EXPECT_FALSE(principal.Has(common::v1::PERMISSION_UNSPECIFIED));
  // A session without roles is still a session.
  Principal no_roles = Staff({}, {"clinic-a"});
  EXPECT_TRUE(no_roles.Has(common::v1::PERMISSION_AUTHENTICATED));
  EXPECT_FALSE(no_roles.Has(common::v1::PERMISSION_CLINICS_READ));
}

TEST(PrincipalTest, AnonymousHasOnlyPublic) {
  Principal anonymous;
  EXPECT_TRUE(anonymous.Has(common::v1::PERMISSION_PUBLIC));
  EXPECT_FALSE(anonymous.Has(common::v1::PERMISSION_AUTHENTICATED));
  EXPECT_FALSE(anonymous.IsChainWide());
  EXPECT_FALSE(anonymous.CanAccessClinic("clinic-a"));
  // Roles without authentication count for nothing.
  anonymous.roles = {common::v1::ROLE_ADMIN};
  EXPECT_FALSE(anonymous.Has(common::v1::PERMISSION_CLINICS_READ));
  EXPECT_FALSE(anonymous.CanAccessClinic("clinic-a"));
  EXPECT_THAT(anonymous.CheckClinic("clinic-a"), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace smp
