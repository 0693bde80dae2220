#include "services/identity/clinic_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/validation.h"

namespace smp::identity {
namespace {

absl::Status ValidateAddress(const v1::PostalAddress& address, absl::string_view prefix) {
  if (address.address_lines_size() > 4) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, ".address_lines: at most 4 lines"));
  }
  for (int i = 0; i < address.address_lines_size(); ++i) {
    RETURN_IF_ERROR(ValidateOptionalText(absl::StrCat(prefix, ".address_lines[", i, "]"),
                                         address.address_lines(i), kMaxNameChars));
  }
  RETURN_IF_ERROR(ValidateOptionalText(absl::StrCat(prefix, ".locality"), address.locality(), 100));
  RETURN_IF_ERROR(ValidateOptionalText(absl::StrCat(prefix, ".administrative_area"),
                                       address.administrative_area(), 100));
  RETURN_IF_ERROR(
      ValidateOptionalText(absl::StrCat(prefix, ".postal_code"), address.postal_code(), 20));
  const std::string& region = address.region_code();
  if (!region.empty() &&
      (region.size() != 2 || !absl::ascii_isupper(region[0]) || !absl::ascii_isupper(region[1]))) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".region_code: must be an ISO-3166 alpha-2 code such as \"US\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateClinic(const v1::Clinic& clinic, absl::string_view prefix) {
  RETURN_IF_ERROR(
      ValidateRequiredText(absl::StrCat(prefix, ".name"), clinic.name(), kMaxNameChars));
  RETURN_IF_ERROR(
      ValidateTimeZone(absl::StrCat(prefix, ".time_zone"), clinic.time_zone()).status());
  RETURN_IF_ERROR(ValidateOptionalPhone(absl::StrCat(prefix, ".phone"), clinic.phone()));
  return ValidateAddress(clinic.address(), absl::StrCat(prefix, ".address"));
}

absl::StatusOr<v1::Clinic> ApplyClinicUpdate(const v1::Clinic& current, const v1::Clinic& patch,
                                             const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError(
        "update_mask: name at least one of name, address, time_zone, phone");
  }
  v1::Clinic updated = current;
  for (const std::string& path : mask.paths()) {
    if (path == "name") {
      updated.set_name(patch.name());
    } else if (path == "address") {
      *updated.mutable_address() = patch.address();
    } else if (path == "time_zone") {
      updated.set_time_zone(patch.time_zone());
    } else if (path == "phone") {
      updated.set_phone(patch.phone());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path.substr(0, 64),
                       "\" cannot be updated (allowed: name, address, time_zone, phone)"));
    }
  }
  RETURN_IF_ERROR(ValidateClinic(updated, "clinic"));
  return updated;
}

}  // namespace smp::identity
