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

// Issue 13: a chain-wide role reaches every clinic only for its own permissions.
TEST(PrincipalTest, ChainWideRoleWidensScopeOnlyForItsOwnPermissions) {
  Principal both = Staff({common::v1::ROLE_AUDITOR, common::v1::ROLE_FRONT_DESK}, {"clinic-a"});
  // Writing appointments is the desk's permission alone: the desk's clinics only.
  both.acting_permission = common::v1::PERMISSION_APPOINTMENTS_WRITE;
  EXPECT_FALSE(both.IsChainWide());
  EXPECT_TRUE(both.CanAccessClinic("clinic-a"));
  EXPECT_FALSE(both.CanAccessClinic("clinic-b"));
  EXPECT_THAT(both.CheckClinic("clinic-b"), StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_TRUE(both.ClinicFilter().has_value());
  EXPECT_THAT(*both.ClinicFilter(), ::testing::ElementsAre("clinic-a"));
  both.acting_permission = common::v1::PERMISSION_PAYMENTS_TAKE;
  EXPECT_FALSE(both.CanAccessClinic("clinic-b"));
  // Reading appointments is the auditor's too: every clinic, no filter.
  both.acting_permission = common::v1::PERMISSION_APPOINTMENTS_READ;
  EXPECT_TRUE(both.IsChainWide());
  EXPECT_TRUE(both.CanAccessClinic("clinic-b"));
  EXPECT_FALSE(both.ClinicFilter().has_value());
  // An admin who is also a technician: admin grants everything but SERVICE_CALL.
  Principal admin_tech = Staff({common::v1::ROLE_TECHNICIAN, common::v1::ROLE_ADMIN}, {});
  admin_tech.acting_permission = common::v1::PERMISSION_PROCEDURES_PERFORM;
  EXPECT_TRUE(admin_tech.CanAccessClinic("clinic-b"));
  EXPECT_TRUE(admin_tech.IsChainWideFor(common::v1::PERMISSION_INVENTORY_WRITE));
  EXPECT_FALSE(both.IsChainWideFor(common::v1::PERMISSION_PATIENTS_WRITE));
  EXPECT_TRUE(both.IsChainWideFor(common::v1::PERMISSION_PATIENTS_READ));
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
