#ifndef SMP_COMMON_UTIL_VALIDATION_H_
#define SMP_COMMON_UTIL_VALIDATION_H_

// Request field checks shared by every service. Each returns INVALID_ARGUMENT whose message starts
// with the field path, e.g. `clinic.time_zone: unknown IANA time zone "Mars/Olympus"`.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smp {

// Not empty or blank, at most `max_chars` characters, valid UTF-8, no control characters.
absl::Status ValidateRequiredText(absl::string_view field, absl::string_view value,
                                  size_t max_chars);
// Like ValidateRequiredText but empty is allowed.
absl::Status ValidateOptionalText(absl::string_view field, absl::string_view value,
                                  size_t max_chars);
// A resource id as made by NewId.
absl::Status ValidateId(absl::string_view field, absl::string_view value);
// Like ValidateId but empty (an optional reference or filter left out) is allowed.
absl::Status ValidateOptionalId(absl::string_view field, absl::string_view value);
// An idempotency key: 1..128 characters of [A-Za-z0-9._:-].
absl::Status ValidateRequestId(absl::string_view field, absl::string_view value);
// An IANA time zone name known to this machine's tz database (e.g. "Europe/London").
absl::StatusOr<absl::TimeZone> ValidateTimeZone(absl::string_view field, absl::string_view name);
// An email address of plausible shape (local@domain.tld, at most 254 characters). Optional: "" is
// OK.
absl::Status ValidateOptionalEmail(absl::string_view field, absl::string_view value);
// A phone number in E.164 form (+ then 7..15 digits). Optional: "" is OK.
absl::Status ValidateOptionalPhone(absl::string_view field, absl::string_view value);

// Counts UTF-8 characters; false when `value` is not valid UTF-8.
bool Utf8Length(absl::string_view value, size_t* length);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_VALIDATION_H_
