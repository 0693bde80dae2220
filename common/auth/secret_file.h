#ifndef SMP_COMMON_AUTH_SECRET_FILE_H_
#define SMP_COMMON_AUTH_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// Reads a secret (a password, a MAC key) from `path`, which must be a regular file readable by
// its owner only (no group or other permission bits: chmod 600). Opened with O_NOFOLLOW, so a
// symlink planted in its place is refused. `what` names the secret in messages, e.g.
// "--redis_password_file". With `trim_trailing_newline`, one trailing "\n" (or "\r\n") is dropped
// (for text passwords written by `echo`); otherwise the bytes are returned exactly.
//
// FAILED_PRECONDITION naming `what` and the path (never the content) when the file is missing,
// not a regular file, readable by group or others, empty, or larger than 64 KiB.
absl::StatusOr<std::string> ReadSecretFile(absl::string_view what, const std::string& path,
                                           bool trim_trailing_newline);

}  // namespace smp

#endif  // SMP_COMMON_AUTH_SECRET_FILE_H_
