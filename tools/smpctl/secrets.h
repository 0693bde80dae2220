#ifndef SMP_TOOLS_SMPCTL_SECRETS_H_
#define SMP_TOOLS_SMPCTL_SECRETS_H_

// Passwords and setup codes: from a file, from the terminal with echo off, or from a line of
// standard input. Never from a flag's value (it would show in `ps` and the shell history).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp::smpctl {

// The first line of `path` (without the newline). Local error when it cannot be read or is empty.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what);

// When standard input is a terminal: prints `prompt` on stderr and reads a line with echo off.
// Otherwise reads one line of standard input (scripts: `echo "$PW" | smpctl login ...`).
absl::StatusOr<std::string> ReadSecretFromStdin(absl::string_view prompt, absl::string_view what);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_SECRETS_H_
