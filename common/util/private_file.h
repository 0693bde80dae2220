#ifndef SMP_COMMON_UTIL_PRIVATE_FILE_H_
#define SMP_COMMON_UTIL_PRIVATE_FILE_H_

// Files and directories that hold patients' data or secrets (databases, keys, credentials, setup
// codes) are this user's alone: directories 0700, files 0600, whatever the umask. These helpers
// check that at start-up and make new files that way, with messages that name the path and the
// `chmod` that fixes it.

#include <string>

#include "absl/status/status.h"

namespace smp {

// OK when `path` (not following a symbolic link) is a directory owned by this user that group and
// others cannot access. NOT_FOUND when it does not exist; FAILED_PRECONDITION otherwise, e.g.
// "data directory data/identity is accessible by group or others (mode 0755); run `chmod 700
// data/identity`". `what` names it in messages ("data directory").
absl::Status CheckPrivateDirectory(const std::string& path, const std::string& what);

// The same for a regular file (mode 0600 or narrower; the fix is `chmod 600`). A symbolic link is
// refused.
absl::Status CheckPrivateFile(const std::string& path, const std::string& what);

// Creates `path` as an empty regular file with mode 0600 whatever the umask (open with
// O_CREAT|O_EXCL|O_NOFOLLOW, then fchmod). ALREADY_EXISTS if anything (a link included) is there;
// UNAVAILABLE with the OS's reason otherwise.
absl::Status CreatePrivateFile(const std::string& path);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_PRIVATE_FILE_H_
