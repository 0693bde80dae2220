#include "common/auth/permissions.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using namespace common::v1;  // NOLINT: enum names read best bare in a table test
using ::testing::ElementsAre;

std::vector<Role> AllRoles() {
  std::vector<Role> roles;
  for (int i = 0; i < Role_descriptor()->value_count(); ++i) {
    roles.push_back(static_cast<Role>(Role_descriptor()->value(i)->number()));
  }
  return roles;
}

std::vector<Permission> AllPermissions() {
  std::vector<Permission> permissions;
  for (int i = 0; i < Permission_descriptor()->value_count(); ++i) {
    permissions.push_back(static_cast<Permission>(Permission_descriptor()->value(i)->number()));
  }
  return permissions;
}

TEST(PermissionsTest, AuditorIsReadOnly) {
  // The complete list of what an auditor may do. Adding to it is a deliberate, reviewed decision.
  const std::set<Permission> read_only = {PERMISSION_PUBLIC,
                                          PERMISSION_AUTHENTICATED,
                                          PERMISSION_CLINICS_READ,
                                          PERMISSION_STAFF_READ,
                                          PERMISSION_PATIENTS_READ,
                                          PERMISSION_SCHEDULE_READ,
                                          PERMISSION_APPOINTMENTS_READ,
                                          PERMISSION_INVENTORY_READ,
                                          PERMISSION_COMPLIANCE_READ,
                                          PERMISSION_AUDIT_READ,
                                          PERMISSION_BILLING_READ};
  for (Permission permission : AllPermissions()) {
    EXPECT_EQ(RoleGrants(ROLE_AUDITOR, permission), read_only.count(permission) == 1)
        << Permission_Name(permission);
  }
}

TEST(PermissionsTest, AuditorReadsEverythingNamedRead) {
  // A new *_READ permission must be granted to auditors (chain-wide read access).
  for (Permission permission : AllPermissions()) {
    if (absl::EndsWith(Permission_Name(permission), "_READ")) {
      EXPECT_TRUE(RoleGrants(ROLE_AUDITOR, permission)) << Permission_Name(permission);
    }
  }
}

TEST(PermissionsTest, EveryPermissionIsGrantedToSomeRole) {
  for (Permission permission : AllPermissions()) {
    if (permission == PERMISSION_UNSPECIFIED) continue;
    bool granted = false;
    for (Role role : AllRoles()) granted = granted || RoleGrants(role, permission);
    EXPECT_TRUE(granted) << Permission_Name(permission) << " is granted to no role";
  }
}

TEST(PermissionsTest, UnspecifiedAndUnknownRolesGrantNothing) {
  for (Permission permission : AllPermissions()) {
    EXPECT_FALSE(RoleGrants(ROLE_UNSPECIFIED, permission)) << Permission_Name(permission);
    EXPECT_FALSE(RoleGrants(static_cast<Role>(99), permission)) << Permission_Name(permission);
    EXPECT_FALSE(RoleGrants(static_cast<Role>(-1), permission)) << Permission_Name(permission);
  }
  EXPECT_TRUE(GrantedPermissions({ROLE_UNSPECIFIED, static_cast<Role>(99)}).empty());
  EXPECT_TRUE(GrantedPermissions({}).empty());
}

TEST(PermissionsTest, UnspecifiedAndUnknownPermissionsAreGrantedToNoOne) {
  for (Role role : AllRoles()) {
    EXPECT_FALSE(RoleGrants(role, PERMISSION_UNSPECIFIED)) << Role_Name(role);
    EXPECT_FALSE(RoleGrants(role, static_cast<Permission>(63))) << Role_Name(role);
    EXPECT_FALSE(RoleGrants(role, static_cast<Permission>(1000))) << Role_Name(role);
  }
}

TEST(PermissionsTest, EveryKnownRoleHasPublicAndAuthenticated) {
  for (Role role : AllRoles()) {
    if (role == ROLE_UNSPECIFIED) continue;
    EXPECT_TRUE(RoleGrants(role, PERMISSION_PUBLIC)) << Role_Name(role);
    EXPECT_TRUE(RoleGrants(role, PERMISSION_AUTHENTICATED)) << Role_Name(role);
  }
}

TEST(PermissionsTest, AdminHasEverythingButServiceCall) {
  for (Permission permission : AllPermissions()) {
    bool expected = permission != PERMISSION_UNSPECIFIED && permission != PERMISSION_SERVICE_CALL;
    EXPECT_EQ(RoleGrants(ROLE_ADMIN, permission), expected) << Permission_Name(permission);
  }
}

TEST(PermissionsTest, OnlyServiceHasServiceCall) {
  for (Role role : AllRoles()) {
    EXPECT_EQ(RoleGrants(role, PERMISSION_SERVICE_CALL), role == ROLE_SERVICE) << Role_Name(role);
  }
}

TEST(PermissionsTest, TableSpotChecks) {
  EXPECT_TRUE(RoleGrants(ROLE_FRONT_DESK, PERMISSION_APPOINTMENTS_WRITE));
  EXPECT_TRUE(RoleGrants(ROLE_FRONT_DESK, PERMISSION_PAYMENTS_TAKE));
  EXPECT_FALSE(RoleGrants(ROLE_FRONT_DESK, PERMISSION_BILLING_WRITE));
  EXPECT_FALSE(RoleGrants(ROLE_FRONT_DESK, PERMISSION_PROCEDURES_PERFORM));
  EXPECT_FALSE(RoleGrants(ROLE_FRONT_DESK, PERMISSION_INVENTORY_READ));

  EXPECT_TRUE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_PROCEDURES_PERFORM));
  EXPECT_TRUE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_INVENTORY_ISSUE));
  EXPECT_TRUE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_COMPLIANCE_RECORD));
  EXPECT_FALSE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_PATIENTS_WRITE));
  EXPECT_FALSE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_INVENTORY_WRITE));
  EXPECT_FALSE(RoleGrants(ROLE_TECHNICIAN, PERMISSION_COMPLIANCE_MANAGE));

  EXPECT_THAT(GrantedPermissions({ROLE_INVENTORY_STAFF}),
              ElementsAre(PERMISSION_PUBLIC, PERMISSION_AUTHENTICATED, PERMISSION_CLINICS_READ,
                          PERMISSION_SCHEDULE_READ, PERMISSION_INVENTORY_READ,
                          PERMISSION_INVENTORY_WRITE, PERMISSION_INVENTORY_ISSUE));
  EXPECT_THAT(
      GrantedPermissions({ROLE_BILLING_CLERK}),
      ElementsAre(PERMISSION_PUBLIC, PERMISSION_AUTHENTICATED, PERMISSION_CLINICS_READ,
                  PERMISSION_PATIENTS_READ, PERMISSION_APPOINTMENTS_READ, PERMISSION_BILLING_READ,
                  PERMISSION_BILLING_WRITE, PERMISSION_PAYMENTS_TAKE));
  EXPECT_THAT(GrantedPermissions({ROLE_SERVICE}),
              ElementsAre(PERMISSION_PUBLIC, PERMISSION_AUTHENTICATED, PERMISSION_CLINICS_READ,
                          PERMISSION_STAFF_READ, PERMISSION_PATIENTS_READ, PERMISSION_SCHEDULE_READ,
                          PERMISSION_APPOINTMENTS_READ, PERMISSION_INVENTORY_READ,
                          PERMISSION_COMPLIANCE_READ, PERMISSION_COMPLIANCE_RECORD,
                          PERMISSION_BILLING_READ, PERMISSION_SERVICE_CALL));
  EXPECT_FALSE(RoleGrants(ROLE_SERVICE, PERMISSION_PATIENTS_WRITE));
}

TEST(PermissionsTest, GrantedPermissionsIsSortedUniqueUnion) {
  std::vector<Permission> granted =
      GrantedPermissions({ROLE_BILLING_CLERK, ROLE_INVENTORY_STAFF, ROLE_BILLING_CLERK});
  EXPECT_TRUE(std::is_sorted(granted.begin(), granted.end()));
  EXPECT_EQ(std::adjacent_find(granted.begin(), granted.end()), granted.end());
  for (Permission permission : AllPermissions()) {
    bool expected =
        RoleGrants(ROLE_BILLING_CLERK, permission) || RoleGrants(ROLE_INVENTORY_STAFF, permission);
    EXPECT_EQ(std::count(granted.begin(), granted.end(), permission), expected ? 1 : 0)
        << Permission_Name(permission);
  }
}

TEST(PermissionsTest, ChainWideRoles) {
  for (Role role : AllRoles()) {
    bool expected = role == ROLE_ADMIN || role == ROLE_AUDITOR || role == ROLE_SERVICE;
    EXPECT_EQ(IsChainWideRole(role), expected) << Role_Name(role);
  }
  EXPECT_FALSE(IsChainWideRole(static_cast<Role>(99)));
}

TEST(PermissionsTest, KnownRoles) {
  EXPECT_FALSE(IsKnownRole(ROLE_UNSPECIFIED));
  EXPECT_TRUE(IsKnownRole(ROLE_ADMIN));
  EXPECT_TRUE(IsKnownRole(ROLE_SERVICE));
  EXPECT_FALSE(IsKnownRole(8));
  EXPECT_FALSE(IsKnownRole(-1));
}

}  // namespace
}  // namespace smp
