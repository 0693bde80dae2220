#ifndef SMP_SERVICES_IDENTITY_STAFF_RULES_H_
#define SMP_SERVICES_IDENTITY_STAFF_RULES_H_

// What makes a staff account valid, who may see it, and how an update applies. Plain functions.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "google/protobuf/field_mask.pb.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

// Lower-cases a username; logins are case-insensitive.
std::string NormalizeUsername(absl::string_view username);

// 3..64 characters of [a-z0-9._-] after normalisation. INVALID_ARGUMENT naming `field`.
absl::Status ValidateUsername(absl::string_view field, absl::string_view username);

// Checks display_name, email, roles (at least one, each a known role, no repeats) and clinic_ids
// (well-formed ids, no repeats, at least one unless every role is chain-wide). Whether the clinics
// exist is the store's question. `prefix` names the message, e.g. "staff".
absl::Status ValidateStaffProfile(const v1::Staff& staff, absl::string_view prefix);

// True when every role of the account is chain-wide (admin, auditor, service).
bool AllRolesChainWide(const v1::Staff& staff);

// Copies the fields in `mask` (display_name, email, roles, clinic_ids) from `patch` onto `current`
// and validates the result.
absl::StatusOr<v1::Staff> ApplyStaffUpdate(const v1::Staff& current, const v1::Staff& patch,
                                           const google::protobuf::FieldMask& mask);

// True when the update writes what the account may do (roles or clinic scope): its sessions, which
// carry the grants they were made with, must then be revoked.
bool UpdateTouchesGrants(const google::protobuf::FieldMask& mask);

// Whether `caller` may read `staff`: chain-wide callers see everyone; a clinic-scoped caller sees
// itself and staff who share one of its clinics.
bool CanSeeStaff(const Principal& caller, const v1::Staff& staff);

// OK when CanSeeStaff, else PERMISSION_DENIED with reason OUTSIDE_CLINIC_SCOPE.
absl::Status CheckCanSeeStaff(const Principal& caller, const v1::Staff& staff);

// The chain must keep an active admin: refuses (FAILED_PRECONDITION) a change that would leave
// none.
absl::Status CheckAdminRemains(int active_admins_after_change);

bool IsActiveAdmin(const v1::Staff& staff);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_STAFF_RULES_H_
