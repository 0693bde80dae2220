#ifndef SMP_SERVICES_IDENTITY_SETUP_CODE_H_
#define SMP_SERVICES_IDENTITY_SETUP_CODE_H_

#include <string>

#include "absl/status/statusor.h"

namespace smp::identity {

// The one-time code that BootstrapAdmin needs on an empty system. Whoever can read the identity
// service's data directory (the operator installing it) can create the first admin; someone who can
// merely reach the port cannot. The code only ever travels through this file, never a command line.
//
// If `path` exists it holds the code (a scripted install wrote it, or an earlier start did): it is
// read without following a symbolic link and must be a regular file of this user that group and
// others cannot access (FAILED_PRECONDITION naming the path and the `chmod 600` that fixes it),
// holding one line of at least 16 characters. Otherwise 128 random bits are written to a new file
// created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 whatever the umask (a temporary file beside
// it, then link(2), so `path` is never overwritten or half-written). Returns the code.
absl::StatusOr<std::string> PrepareSetupCode(const std::string& path);

// Removes the file once the first admin exists; a missing file is fine.
void RemoveSetupCode(const std::string& path);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_SETUP_CODE_H_
