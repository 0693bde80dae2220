#include "common/auth/principal.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/status/error_details.h"

namespace smp {

bool Principal::IsChainWide() const { return IsChainWideFor(acting_permission); }

bool Principal::IsChainWideFor(common::v1::Permission permission) const {
  if (!authenticated) return false;
  // PUBLIC and AUTHENTICATED are granted by every role, so they decide nothing about scope: judge
  // them, like an unspecified permission, by whether any role is chain-wide.
  const bool any_role = permission == common::v1::PERMISSION_UNSPECIFIED ||
                        permission == common::v1::PERMISSION_PUBLIC ||
                        permission == common::v1::PERMISSION_AUTHENTICATED;
  return std::any_of(roles.begin(), roles.end(), [&](common::v1::Role role) {
    return IsChainWideRole(role) && (any_role || RoleGrants(role, permission));
  });
}

bool Principal::HasRole(common::v1::Role role) const {
  return authenticated && std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::optional<std::vector<std::string>> Principal::ClinicFilter() const {
  if (IsChainWide()) return std::nullopt;
  return clinic_ids;
}

bool Principal::Has(common::v1::Permission permission) const {
  if (permission == common::v1::PERMISSION_PUBLIC) return true;
  if (!authenticated) return false;
  if (permission == common::v1::PERMISSION_AUTHENTICATED) return true;
  return std::any_of(roles.begin(), roles.end(),
                     [permission](common::v1::Role role) { return RoleGrants(role, permission); });
}

bool Principal::CanAccessClinic(absl::string_view clinic_id) const {
  if (!authenticated || clinic_id.empty()) return false;
  if (IsChainWide()) return true;
  return std::find(clinic_ids.begin(), clinic_ids.end(), clinic_id) != clinic_ids.end();
}

absl::Status Principal::CheckClinic(absl::string_view clinic_id) const {
  if (CanAccessClinic(clinic_id)) return absl::OkStatus();
  return WithErrorInfo(absl::PermissionDeniedError(
                           absl::StrCat("clinic ", clinic_id, " is outside your clinic scope")),
                       reason::kOutsideClinicScope, {{"clinic_id", std::string(clinic_id)}});
}

}  // namespace smp
