#ifndef SMP_COMMON_UTIL_IDS_H_
#define SMP_COMMON_UTIL_IDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smp {

// A new resource id: a ULID (26 characters of Crockford base32; 48-bit millisecond timestamp then
// 80 random bits). Ids sort by creation time as strings; ids made in the same millisecond by one
// process are strictly increasing. Thread-safe.
std::string NewId();

// The same, at a given instant (tests).
std::string NewIdAt(absl::Time now);

// True when `id` has the shape of an id made by NewId (does not say whether it exists).
bool IsWellFormedId(absl::string_view id);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_IDS_H_
