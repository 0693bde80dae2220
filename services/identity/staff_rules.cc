#include "services/identity/staff_rules.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/validation.h"
#include "services/identity/clinic_rules.h"
#include "services/identity/identity_reasons.h"

namespace smp::identity {

using common::v1::Role;

std::string NormalizeUsername(absl::string_view username) {
  return absl::AsciiStrToLower(username);
}

absl::Status ValidateUsername(absl::string_view field, absl::string_view username) {
  if (username.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  bool ok = username.size() >= 3 && username.size() <= 64;
  for (char c : username) {
    ok &= absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 3..64 characters of letters, digits and . _ -"));
  }
  return absl::OkStatus();
}

bool AllRolesChainWide(const v1::Staff& staff) {
  return staff.roles_size() > 0 &&
         std::all_of(staff.roles().begin(), staff.roles().end(),
                     [](int role) { return IsChainWideRole(static_cast<Role>(role)); });
}

absl::Status ValidateStaffProfile(const v1::Staff& staff, absl::string_view prefix) {
  RETURN_IF_ERROR(ValidateRequiredText(absl::StrCat(prefix, ".display_name"), staff.display_name(),
                                       kMaxNameChars));
  RETURN_IF_ERROR(ValidateOptionalEmail(absl::StrCat(prefix, ".email"), staff.email()));
  if (staff.roles_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".roles: at least one role is required"));
  }
  absl::flat_hash_set<int> roles;
  for (int i = 0; i < staff.roles_size(); ++i) {
    const int role = staff.roles(i);
    if (!IsKnownRole(role)) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".roles[", i, "]: unknown role ", role));
    }
    if (!roles.insert(role).second) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, ".roles[", i, "]: listed twice"));
    }
  }
  if (staff.clinic_ids_size() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, ".clinic_ids: at most 100 clinics"));
  }
  absl::flat_hash_set<std::string> clinics;
  for (int i = 0; i < staff.clinic_ids_size(); ++i) {
    const std::string field = absl::StrCat(prefix, ".clinic_ids[", i, "]");
    RETURN_IF_ERROR(ValidateId(field, staff.clinic_ids(i)));
    if (!clinics.insert(staff.clinic_ids(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": listed twice"));
    }
  }
  if (staff.clinic_ids_size() == 0 && !AllRolesChainWide(staff)) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, ".clinic_ids: at least one clinic is required for clinic-scoped roles"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Staff> ApplyStaffUpdate(const v1::Staff& current, const v1::Staff& patch,
                                           const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError(
        "update_mask: name at least one of display_name, email, roles, clinic_ids");
  }
  v1::Staff updated = current;
  for (const std::string& path : mask.paths()) {
    if (path == "display_name") {
      updated.set_display_name(patch.display_name());
    } else if (path == "email") {
      updated.set_email(patch.email());
    } else if (path == "roles") {
      *updated.mutable_roles() = patch.roles();
    } else if (path == "clinic_ids") {
      *updated.mutable_clinic_ids() = patch.clinic_ids();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path.substr(0, 64),
                       "\" cannot be updated (allowed: display_name, email, roles, clinic_ids)"));
    }
  }
  RETURN_IF_ERROR(ValidateStaffProfile(updated, "staff"));
  return updated;
}

bool UpdateTouchesGrants(const google::protobuf::FieldMask& mask) {
  return std::any_of(mask.paths().begin(), mask.paths().end(), [](const std::string& path) {
    return path == "roles" || path == "clinic_ids";
  });
}

bool CanSeeStaff(const Principal& caller, const v1::Staff& staff) {
  if (caller.IsChainWide() || caller.staff_id == staff.id()) return true;
  for (const std::string& clinic : staff.clinic_ids()) {
    if (caller.CanAccessClinic(clinic)) return true;
  }
  return false;
}

bool IsActiveAdmin(const v1::Staff& staff) {
  return staff.state() == v1::STAFF_STATE_ACTIVE &&
         std::find(staff.roles().begin(), staff.roles().end(), common::v1::ROLE_ADMIN) !=
             staff.roles().end();
}

absl::Status CheckCanSeeStaff(const Principal& caller, const v1::Staff& staff) {
  if (CanSeeStaff(caller, staff)) return absl::OkStatus();
  return WithErrorInfo(absl::PermissionDeniedError(absl::StrCat(
                           "staff ", staff.id(), " works at no clinic in your clinic scope")),
                       reason::kOutsideClinicScope, {{"staff_id", staff.id()}});
}

absl::Status CheckAdminRemains(int active_admins_after_change) {
  if (active_admins_after_change < 1) {
    return WithPreconditionFailure(
        WithErrorInfo(
            absl::FailedPreconditionError(
                "the chain must keep at least one active admin; make another admin first"),
            identity_reason::kLastAdmin),
        identity_reason::kLastAdmin, "admins", "make another account an active admin first");
  }
  return absl::OkStatus();
}

}  // namespace smp::identity
