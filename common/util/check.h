#ifndef SMP_COMMON_UTIL_CHECK_H_
#define SMP_COMMON_UTIL_CHECK_H_

#include <cstdio>
#include <cstdlib>

// SMP_CHECK(condition, message): aborts with file, line and message when condition is false. For
// impossible states and programming errors only; anything a user or peer can cause returns a
// status. (The installed Abseil predates absl/log, which would give CHECK.)
#define SMP_CHECK(condition, message)                                                       \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #condition, \
                   message);                                                                \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

#endif  // SMP_COMMON_UTIL_CHECK_H_
