#ifndef SMP_COMMON_AUTH_PRINCIPAL_H_
#define SMP_COMMON_AUTH_PRINCIPAL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "smp/common/v1/auth.pb.h"

namespace smp {

// Who is calling an RPC, as established by the Authenticator (from the session) or, for PUBLIC
// methods, an unauthenticated principal with everything empty. A plain value; cheap to copy.
struct Principal {
  std::string staff_id;
  std::string session_id;
  std::string username;
  std::vector<common::v1::Role> roles;
  // Clinics the staff member belongs to; ignored for chain-wide roles, which see every clinic.
  std::vector<std::string> clinic_ids;
  bool authenticated = false;
  // The permission this call was authorised for (the method's declared permission; the Authorizer
  // sets it). Clinic scope is judged per role for it: a chain-wide role (admin, auditor, service)
  // reaches every clinic only for the permissions that role grants, so an auditor who is also a
  // front desk still writes only in the desk's clinics, while reading chain-wide.
  // PERMISSION_UNSPECIFIED (a principal built outside the frame, e.g. in a test) judges with every
  // role the principal holds.
  common::v1::Permission acting_permission = common::v1::PERMISSION_UNSPECIFIED;

  // True when authenticated and a chain-wide role (admin, auditor, service) grants
  // acting_permission (any chain-wide role when it is unspecified).
  bool IsChainWide() const;

  // The same for `permission` instead of acting_permission: does a chain-wide role of this
  // principal grant it? For operations that gate a part of their work on a further permission.
  bool IsChainWideFor(common::v1::Permission permission) const;

  // True when authenticated and `role` is one of the roles.
  bool HasRole(common::v1::Role role) const;

  // The clinics a list may show this caller: nullopt (no filter) for a chain-wide caller, else the
  // caller's own clinics. Lists filter with it; single reads and writes use CheckClinic.
  std::optional<std::vector<std::string>> ClinicFilter() const;

  // True when the principal holds `permission`: PUBLIC always; AUTHENTICATED when authenticated;
  // anything else when authenticated and one of the roles grants it (see permissions.h).
  bool Has(common::v1::Permission permission) const;

  // True when the principal may see or change resources of `clinic_id` under acting_permission:
  // authenticated and either chain-wide for it (IsChainWide) or a member of that clinic. False for
  // an empty id.
  bool CanAccessClinic(absl::string_view clinic_id) const;

  // OK when CanAccessClinic, else PERMISSION_DENIED "clinic <id> is outside your clinic scope".
  absl::Status CheckClinic(absl::string_view clinic_id) const;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_PRINCIPAL_H_
