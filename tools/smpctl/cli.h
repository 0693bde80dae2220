#ifndef SMP_TOOLS_SMPCTL_CLI_H_
#define SMP_TOOLS_SMPCTL_CLI_H_

// smpctl's top level: parse the command line, print help, run the command, turn a failure into
// its one-line message on stderr and its exit code (see errors.h).

#include <ostream>
#include <string>
#include <vector>

#include "tools/smpctl/config.h"

namespace smp::smpctl {

// `args` is argv without the program name; `env` looks up environment variables. Returns the
// exit code.
int Run(const std::vector<std::string>& args, const Lookup& env, std::ostream& out,
        std::ostream& err);

// The help texts (also used by tests).
std::string GeneralHelp();
std::string CommandHelp(const struct Command& command);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_CLI_H_
