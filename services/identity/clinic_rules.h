#ifndef SMP_SERVICES_IDENTITY_CLINIC_RULES_H_
#define SMP_SERVICES_IDENTITY_CLINIC_RULES_H_

// What makes a clinic valid, and how an update applies. Plain functions: no I/O, no clock.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

inline constexpr size_t kMaxNameChars = 200;

// Checks the client-settable fields of `clinic` (name, address, time_zone, phone). `prefix` names
// the message in error messages, e.g. "clinic".
absl::Status ValidateClinic(const v1::Clinic& clinic, absl::string_view prefix);

// Copies the fields named in `mask` from `patch` onto `current` and validates the result.
// INVALID_ARGUMENT for an empty mask or a path that cannot be updated.
absl::StatusOr<v1::Clinic> ApplyClinicUpdate(const v1::Clinic& current, const v1::Clinic& patch,
                                             const google::protobuf::FieldMask& mask);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_CLINIC_RULES_H_
