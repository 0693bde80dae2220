#ifndef SMP_TOOLS_SMPCTL_TOKEN_FILE_H_
#define SMP_TOOLS_SMPCTL_TOKEN_FILE_H_

// The bearer token `smpctl login` keeps between runs. The file holds the token and a newline and
// nothing else; it is a password-equivalent, so:
//  - it is created with mode 0600 (open with O_CREAT and 0600, then fchmod 0600 in case it existed
//    with a wider mode), never through a symbolic link; a missing parent directory is created 0700;
//  - it is read only when it is a regular file owned by the caller with no group or other
//    permission bits; anything else is refused with a message saying how to fix it.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smp::smpctl {

// Writes `token` to `path` as above. A local error (exit 1) on failure.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);

// The token in `path`. UNAUTHENTICATED (exit 3) when there is no file ("not logged in") or the
// file is unsafe (group/world-accessible, not a regular file, another owner).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Deletes the file; OK when it does not exist.
absl::Status RemoveTokenFile(const std::string& path);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_TOKEN_FILE_H_
