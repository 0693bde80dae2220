#ifndef SMP_COMMON_SERVER_PEM_FILE_H_
#define SMP_COMMON_SERVER_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// The contents of a PEM file (certificate, chain, key or CA bundle) read at start-up; `what` names
// it in errors ("TLS certificate"). NOT_FOUND naming the file and the OS error when it cannot be
// read; INVALID_ARGUMENT when it holds no "-----BEGIN " block.
absl::StatusOr<std::string> ReadPemFile(absl::string_view what, const std::string& path);

}  // namespace smp

#endif  // SMP_COMMON_SERVER_PEM_FILE_H_
