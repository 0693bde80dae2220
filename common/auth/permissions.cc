#include "common/auth/permissions.h"

#include <array>
#include <bitset>

namespace smp {
namespace {

using common::v1::Permission;
using common::v1::Role;

using PermissionSet = std::bitset<common::v1::Permission_ARRAYSIZE>;
using Table = std::array<PermissionSet, common::v1::Role_ARRAYSIZE>;

PermissionSet Of(std::initializer_list<Permission> permissions) {
  PermissionSet set;
  set.set(common::v1::PERMISSION_PUBLIC);
  set.set(common::v1::PERMISSION_AUTHENTICATED);
  for (Permission p : permissions) set.set(p);
  return set;
}

Table BuildTable() {
  using namespace common::v1;  // NOLINT: the table reads best with bare enum names
  Table table;

  PermissionSet admin;
  const google::protobuf::EnumDescriptor* permissions = Permission_descriptor();
  for (int i = 0; i < permissions->value_count(); ++i) {
    int value = permissions->value(i)->number();
    if (value != PERMISSION_UNSPECIFIED && value != PERMISSION_SERVICE_CALL) admin.set(value);
  }
  table[ROLE_ADMIN] = admin;

  table[ROLE_FRONT_DESK] =
      Of({PERMISSION_CLINICS_READ, PERMISSION_STAFF_READ, PERMISSION_PATIENTS_READ,
          PERMISSION_PATIENTS_WRITE, PERMISSION_SCHEDULE_READ, PERMISSION_APPOINTMENTS_READ,
          PERMISSION_APPOINTMENTS_WRITE, PERMISSION_COMPLIANCE_READ, PERMISSION_BILLING_READ,
          PERMISSION_PAYMENTS_TAKE});
  table[ROLE_TECHNICIAN] =
      Of({PERMISSION_CLINICS_READ, PERMISSION_STAFF_READ, PERMISSION_PATIENTS_READ,
          PERMISSION_SCHEDULE_READ, PERMISSION_APPOINTMENTS_READ, PERMISSION_PROCEDURES_PERFORM,
          PERMISSION_INVENTORY_READ, PERMISSION_INVENTORY_ISSUE, PERMISSION_COMPLIANCE_READ,
          PERMISSION_COMPLIANCE_RECORD});
  table[ROLE_INVENTORY_STAFF] =
      Of({PERMISSION_CLINICS_READ, PERMISSION_SCHEDULE_READ, PERMISSION_INVENTORY_READ,
          PERMISSION_INVENTORY_WRITE, PERMISSION_INVENTORY_ISSUE});
  table[ROLE_BILLING_CLERK] =
      Of({PERMISSION_CLINICS_READ, PERMISSION_PATIENTS_READ, PERMISSION_APPOINTMENTS_READ,
          PERMISSION_BILLING_READ, PERMISSION_BILLING_WRITE, PERMISSION_PAYMENTS_TAKE});
  // Listed, not derived from names, so a new *_READ is a deliberate decision (the test flags it).
  table[ROLE_AUDITOR] =
      Of({PERMISSION_CLINICS_READ, PERMISSION_STAFF_READ, PERMISSION_PATIENTS_READ,
          PERMISSION_SCHEDULE_READ, PERMISSION_APPOINTMENTS_READ, PERMISSION_INVENTORY_READ,
          PERMISSION_COMPLIANCE_READ, PERMISSION_BILLING_READ, PERMISSION_AUDIT_READ});
  // Services deliver each other's events: a completed procedure's record and a lot recall reach
  // compliance as COMPLIANCE_RECORD calls made on behalf of the technician or inventory staff.
  table[ROLE_SERVICE] =
      Of({PERMISSION_SERVICE_CALL, PERMISSION_COMPLIANCE_RECORD, PERMISSION_CLINICS_READ,
          PERMISSION_STAFF_READ, PERMISSION_PATIENTS_READ, PERMISSION_SCHEDULE_READ,
          PERMISSION_APPOINTMENTS_READ, PERMISSION_INVENTORY_READ, PERMISSION_COMPLIANCE_READ,
          PERMISSION_BILLING_READ});
  return table;
}

const Table& TheTable() {
  static const Table* const table = new Table(BuildTable());
  return *table;
}

}  // namespace

bool RoleGrants(Role role, Permission permission) {
  if (!IsKnownRole(role) || !common::v1::Permission_IsValid(permission) ||
      permission == common::v1::PERMISSION_UNSPECIFIED) {
    return false;
  }
  return TheTable()[role].test(permission);
}

bool IsChainWideRole(Role role) {
  return role == common::v1::ROLE_ADMIN || role == common::v1::ROLE_AUDITOR ||
         role == common::v1::ROLE_SERVICE;
}

bool IsKnownRole(int value) {
  return common::v1::Role_IsValid(value) && value != common::v1::ROLE_UNSPECIFIED;
}

std::vector<Permission> GrantedPermissions(const std::vector<Role>& roles) {
  PermissionSet granted;
  for (Role role : roles) {
    if (IsKnownRole(role)) granted |= TheTable()[role];
  }
  std::vector<Permission> result;
  for (size_t value = 0; value < granted.size(); ++value) {
    if (granted.test(value)) result.push_back(static_cast<Permission>(value));
  }
  return result;
}

}  // namespace smp
