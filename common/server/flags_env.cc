#include "common/server/flags_env.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smp {
namespace {

// Abseil's built-in flags. They are also recognised by where they are defined, but the names
// are listed too in case a build reports a different file path.
bool IsAbseilBuiltin(const absl::CommandLineFlag& flag) {
  static const auto* kNames = new absl::flat_hash_set<absl::string_view>{
      "flagfile",    "fromenv", "tryfromenv", "undefok",         "help",   "helpfull", "helpshort",
      "helppackage", "helpon",  "helpmatch",  "only_check_args", "version"};
  return kNames->contains(flag.Name()) || absl::StrContains(flag.Filename(), "absl/flags/");
}

}  // namespace

std::string EnvVarForFlag(absl::string_view flag_name) {
  return absl::StrCat("SMP_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyEnvironmentToFlags() {
  std::vector<std::string> errors;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsAbseilBuiltin(*flag)) continue;
    const std::string var = EnvVarForFlag(name);
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      errors.push_back(absl::StrCat("environment variable ", var, " is not a valid value for --",
                                    name, ": ", error));
    }
  }
  if (errors.empty()) return absl::OkStatus();
  // Sorted so that the message does not depend on hash order.
  std::sort(errors.begin(), errors.end());
  return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
}

std::vector<char*> ParseFlagsWithEnvironment(int argc, char** argv) {
  if (absl::Status status = ApplyEnvironmentToFlags(); !status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "smp",
                 std::string(status.message()).c_str());
    std::exit(1);
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace smp
