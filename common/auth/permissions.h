#ifndef SMP_COMMON_AUTH_PERMISSIONS_H_
#define SMP_COMMON_AUTH_PERMISSIONS_H_

#include <vector>

#include "smp/common/v1/auth.pb.h"

namespace smp {

// THE role -> permission table of the suite; every service authorises through it. The contract
// (auth.proto) declares what each RPC needs; this table says which roles grant it.
//
//   every role       PUBLIC, AUTHENTICATED
//   admin            every permission except SERVICE_CALL (new permissions included automatically)
//   front_desk       CLINICS_READ, STAFF_READ, PATIENTS_READ/WRITE, SCHEDULE_READ,
//                    APPOINTMENTS_READ/WRITE, COMPLIANCE_READ, BILLING_READ, PAYMENTS_TAKE
//   technician       CLINICS_READ, STAFF_READ, PATIENTS_READ, SCHEDULE_READ, APPOINTMENTS_READ,
//                    PROCEDURES_PERFORM, INVENTORY_READ, INVENTORY_ISSUE, COMPLIANCE_READ,
//                    COMPLIANCE_RECORD
//   inventory_staff  CLINICS_READ, SCHEDULE_READ, INVENTORY_READ, INVENTORY_WRITE, INVENTORY_ISSUE
//   billing_clerk    CLINICS_READ, PATIENTS_READ, APPOINTMENTS_READ, BILLING_READ, BILLING_WRITE,
//                    PAYMENTS_TAKE
//   auditor          every *_READ (CLINICS, STAFF, PATIENTS, SCHEDULE, APPOINTMENTS, INVENTORY,
//                    COMPLIANCE, BILLING) and AUDIT_READ; nothing that writes
//   service          SERVICE_CALL, CLINICS_READ, STAFF_READ, PATIENTS_READ, SCHEDULE_READ,
//                    APPOINTMENTS_READ, INVENTORY_READ, COMPLIANCE_READ, BILLING_READ
//
// ROLE_UNSPECIFIED and undefined role values grant nothing; PERMISSION_UNSPECIFIED is granted to
// no one. All functions are thread-safe and allocation-free except GrantedPermissions.

// True when `role` grants `permission`.
bool RoleGrants(common::v1::Role role, common::v1::Permission permission);

// Roles that see every clinic regardless of clinic memberships: ADMIN, AUDITOR, SERVICE.
bool IsChainWideRole(common::v1::Role role);

// True for a defined Role value other than ROLE_UNSPECIFIED (validating input and stored roles).
bool IsKnownRole(int value);

// Every permission any of `roles` grants, sorted by enum value, without duplicates.
std::vector<common::v1::Permission> GrantedPermissions(const std::vector<common::v1::Role>& roles);

}  // namespace smp

#endif  // SMP_COMMON_AUTH_PERMISSIONS_H_
