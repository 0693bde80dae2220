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

// ABORTED for an update that carried a stale etag, naming the current one so the client can read
// again and retry: "<kind> <id> changed since etag v3; the current etag is v4: ...".
absl::Status StaleEtagError(absl::string_view kind, absl::string_view id,
                            absl::string_view given_etag, absl::string_view current_etag);
absl::Status StaleEtagError(absl::string_view kind, absl::string_view id, int64_t given_version,
                            int64_t current_version);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_ETAG_H_
