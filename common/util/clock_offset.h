#ifndef SMP_COMMON_UTIL_CLOCK_OFFSET_H_
#define SMP_COMMON_UTIL_CLOCK_OFFSET_H_

// For multi-process tests only: a movable Clock::Real().
//
// When the environment variable named by kTestingClockOffsetFileEnv names a file the first time
// Clock::Real() is called (as a service starts), that process's real clock reads absl::Now() plus
// the duration the file holds ("240h", "-1h30m"; missing or unreadable: no shift), re-read on every
// call. A test that starts the services with it set moves their "now" together (a course over
// months, a DST change, a no-show after its grace) by rewriting the file (by a rename, so that no
// process reads half of it). The process says so on stderr. Never set in production: record times,
// session expiry and every time rule follow it (gRPC deadlines and log timestamps do not).

#include <string>

#include "absl/time/time.h"

namespace smp {

inline constexpr char kTestingClockOffsetFileEnv[] = "SMP_TESTING_CLOCK_OFFSET_FILE";

// The duration held in `path` (absl::ParseDuration syntax, surrounding whitespace ignored); zero
// when the file is missing or does not hold one.
absl::Duration ReadClockOffsetFile(const std::string& path);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_CLOCK_OFFSET_H_
