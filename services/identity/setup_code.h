#ifndef SMP_SERVICES_IDENTITY_SETUP_CODE_H_
#define SMP_SERVICES_IDENTITY_SETUP_CODE_H_

#include <string>

#include "absl/status/statusor.h"

namespace smp::identity {

// The one-time code that BootstrapAdmin needs on an empty system. Whoever can read the identity
// service's data directory (the operator installing it) can create the first admin; someone who can
// merely reach the port cannot.
//
// Uses `preset` when not empty (for scripted installs); otherwise 128 random bits. Writes the code
// to `path` with mode 0600 and returns it.
absl::StatusOr<std::string> WriteSetupCode(const std::string& path, const std::string& preset);

// Removes the file once the first admin exists; a missing file is fine.
void RemoveSetupCode(const std::string& path);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_SETUP_CODE_H_
