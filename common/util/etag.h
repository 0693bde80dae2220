#ifndef SMP_COMMON_UTIL_ETAG_H_
#define SMP_COMMON_UTIL_ETAG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// Resources keep an integer version that every change increments; the etag clients see is its text
// form, e.g. "v3". Clients must treat it as opaque.
std::string EtagOf(int64_t version);

// The version an etag names; INVALID_ARGUMENT naming `field` when empty or malformed.
absl::StatusOr<int64_t> VersionFromEtag(absl::string_view field, absl::string_view etag);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_ETAG_H_
