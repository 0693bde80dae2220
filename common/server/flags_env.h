#ifndef SMP_COMMON_SERVER_FLAGS_ENV_H_
#define SMP_COMMON_SERVER_FLAGS_ENV_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smp {

// Configuration from the environment, for containers: every absl flag `NAME` registered in the
// binary may also be set by the environment variable `SMP_<NAME upper-cased>` (--listen <-
// SMP_LISTEN, --redis <- SMP_REDIS, --tls_client_ca <- SMP_TLS_CLIENT_CA). Abseil's own flags
// (--flagfile, --fromenv, --help*, --version, ...) are not mapped. A variable that is set, even to
// "", is applied; the flag's own parser decides whether the value is valid.

// The environment variable name for flag `flag_name`.
std::string EnvVarForFlag(absl::string_view flag_name);

// Applies every set SMP_* variable to its flag. Each variable is applied independently; the
// result is OK, or INVALID_ARGUMENT naming every variable whose value the flag rejected (the flag
// keeps its previous value). Call before any thread reads flags.
absl::Status ApplyEnvironmentToFlags();

// Applies the environment (as above), then parses the command line with absl::ParseCommandLine,
// so a flag given on the command line wins over the environment. A bad environment value prints
// a message naming the variable to stderr and exits with status 1, like a bad command-line
// value. Returns the positional arguments (argv[0] first), as absl::ParseCommandLine does.
std::vector<char*> ParseFlagsWithEnvironment(int argc, char** argv);

}  // namespace smp

#endif  // SMP_COMMON_SERVER_FLAGS_ENV_H_
