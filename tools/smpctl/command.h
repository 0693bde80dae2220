#ifndef SMP_TOOLS_SMPCTL_COMMAND_H_
#define SMP_TOOLS_SMPCTL_COMMAND_H_

// A command: its words ("appointment book"), flags, optional positional argument (an id), help
// text and the function that runs it. Each service area registers its commands in its own file
// (identity_commands.cc, scheduling_commands.cc, ...).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/smpctl/config.h"

namespace smp::smpctl {

class Client;
class Output;
class Invocation;

enum class FlagKind {
  kOptional,  // --name=value at most once
  kRequired,  // --name=value exactly once
  kRepeated,  // --name=value any number of times (a list)
  kBool,      // --name, or --name=true|false
};

struct FlagSpec {
  std::string name;
  FlagKind kind = FlagKind::kOptional;
  // What the value is, for help: "ID", "DATE", "TIME", ... (unused for kBool).
  std::string value_name;
  std::string help;
};

struct Command {
  std::vector<std::string> path;  // {"appointment", "book"} or {"login"}
  Service service = Service::kIdentity;
  std::string summary;
  // The positional argument's name ("ID"), or "" when the command takes none.
  std::string positional;
  bool positional_required = true;
  std::vector<FlagSpec> flags;
  // More help: examples, notes. Optional.
  std::string details;
  std::function<absl::Status(Invocation&)> run;

  // "appointment book".
  std::string Name() const;
  const FlagSpec* FindFlag(absl::string_view name) const;
};

// Every command smpctl knows, in registration order.
class Registry {
 public:
  void Add(Command command) { commands_.push_back(std::move(command)); }
  const std::vector<Command>& commands() const { return commands_; }

  // The command named by the leading `words` (longest match). A leading service name
  // ("compliance credential list") is allowed when the rest names one of that service's commands.
  // Sets *used to the number of words the name took. nullptr when none matches.
  const Command* Find(const std::vector<std::string>& words, size_t* used) const;
  // The commands whose first word is `noun` (after an optional service name).
  std::vector<const Command*> WithNoun(const std::vector<std::string>& words) const;

 private:
  std::vector<Command> commands_;
};

// The command line after parsing: flags by name (global and the command's), positionals.
struct ParsedLine {
  const Command* command = nullptr;
  // The words before the first flag or positional (for help on a noun).
  std::vector<std::string> words;
  std::map<std::string, std::vector<std::string>> flags;
  std::vector<std::string> positionals;
  bool help = false;
};

// One run of a command: its flags with typed accessors, the client and the output.
class Invocation {
 public:
  Invocation(const Command& command, const ParsedLine& line, Client& client, Output& out)
      : command_(command), line_(line), client_(client), out_(out) {}

  const Command& command() const { return command_; }
  Client& client() { return client_; }
  Output& out() { return out_; }

  bool Has(absl::string_view name) const;
  // The flag's value, "" when not given.
  std::string Get(absl::string_view name) const;
  // Every value of a repeated flag (comma-separated values are split too).
  std::vector<std::string> All(absl::string_view name) const;
  // Every value as given (no comma splitting).
  std::vector<std::string> AllRaw(absl::string_view name) const;
  bool Bool(absl::string_view name) const;
  // The positional argument, "" when not given.
  std::string Arg() const;

  absl::StatusOr<int64_t> Int(absl::string_view name, int64_t min, int64_t max,
                              int64_t fallback = 0) const;

 private:
  const Command& command_;
  const ParsedLine& line_;
  Client& client_;
  Output& out_;
};

// Global flags, accepted before or after the command words.
const std::vector<FlagSpec>& GlobalFlags();

// Parses `args` (argv without the program name). Usage errors for unknown commands and flags, a
// missing value, a repeated single flag, a missing required flag or positional; none when --help
// is given (line.help) or no command is named (line.command == nullptr).
// When `named` is given, it is set to the command the words named (nullptr if none), also when
// a later flag is a usage error.
absl::StatusOr<ParsedLine> ParseCommandLine(const std::vector<std::string>& args,
                                            const Registry& registry,
                                            const Command** named = nullptr);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_COMMAND_H_
