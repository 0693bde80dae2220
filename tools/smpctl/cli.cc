#include "tools/smpctl/cli.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/smpctl/client.h"
#include "tools/smpctl/command.h"
#include "tools/smpctl/commands.h"
#include "tools/smpctl/errors.h"
#include "tools/smpctl/output.h"

namespace smp::smpctl {
namespace {

constexpr char kExitCodes[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  anything else (a local file could not be written, too many attempts, internal error)\n"
    "  2  usage error: bad command, flag or value, caught before any call\n"
    "  3  not logged in, session expired or revoked, or an unsafe token file (UNAUTHENTICATED)\n"
    "  4  permission denied: role or clinic scope (PERMISSION_DENIED)\n"
    "  5  not found (NOT_FOUND)\n"
    "  6  conflict: already exists, changed since read, or refused by a rule (ALREADY_EXISTS,\n"
    "     ABORTED, FAILED_PRECONDITION)\n"
    "  7  the server rejected a value (INVALID_ARGUMENT, OUT_OF_RANGE)\n"
    "  8  a service is unavailable or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED)\n";

std::string FlagUsage(const FlagSpec& f) {
  std::string s = absl::StrCat("--", f.name);
  if (f.kind != FlagKind::kBool)
    absl::StrAppend(&s, "=", f.value_name.empty() ? "VALUE" : f.value_name);
  return s;
}

std::string Synopsis(const Command& c) {
  std::vector<std::string> parts = {"smpctl", c.Name()};
  if (!c.positional.empty()) {
    parts.push_back(c.positional_required ? c.positional : absl::StrCat("[", c.positional, "]"));
  }
  for (const FlagSpec& f : c.flags) {
    switch (f.kind) {
      case FlagKind::kRequired:
        parts.push_back(FlagUsage(f));
        break;
      case FlagKind::kRepeated:
        parts.push_back(absl::StrCat("[", FlagUsage(f), " ...]"));
        break;
      default:
        parts.push_back(absl::StrCat("[", FlagUsage(f), "]"));
        break;
    }
  }
  return absl::StrJoin(parts, " ");
}

std::string FlagTable(const std::vector<FlagSpec>& flags) {
  size_t width = 0;
  for (const FlagSpec& f : flags) width = std::max(width, FlagUsage(f).size());
  std::string out;
  for (const FlagSpec& f : flags) {
    const std::string usage = FlagUsage(f);
    std::string help = f.help;
    if (f.kind == FlagKind::kRequired) absl::StrAppend(&help, " (required)");
    if (f.kind == FlagKind::kRepeated) absl::StrAppend(&help, " (repeatable)");
    absl::StrAppend(&out, "  ", usage, std::string(width - usage.size() + 2, ' '), help, "\n");
  }
  return out;
}

std::string NounHelp(const std::vector<const Command*>& commands) {
  std::string out = "Commands:\n";
  for (const Command* c : commands) absl::StrAppend(&out, "  ", Synopsis(*c), "\n");
  absl::StrAppend(&out, "\nRun `smpctl <command> --help` for a command's flags.\n");
  return out;
}

}  // namespace

std::string CommandHelp(const Command& c) {
  std::string out = absl::StrCat("Usage: ", Synopsis(c), "\n\n", c.summary, "\n");
  if (!c.flags.empty()) absl::StrAppend(&out, "\nFlags:\n", FlagTable(c.flags));
  if (!c.details.empty()) absl::StrAppend(&out, "\n", c.details, "\n");
  absl::StrAppend(&out,
                  "\nGlobal flags: --json, --timeout, --request_id, --token_file, "
                  "--<service>=HOST:PORT (see `smpctl help`).\n");
  return out;
}

std::string GeneralHelp() {
  std::string out =
      "smpctl: the command-line client of smp-suite.\n\n"
      "Usage: smpctl [global flags] <noun> <verb> [--name=value ...] [ID]\n"
      "       smpctl <noun> --help | smpctl <noun> <verb> --help | smpctl help [noun [verb]]\n\n"
      "Flags take --name=value or --name value; a repeatable flag may be given several times or\n"
      "with comma-separated values. A service name may prefix a command (smpctl compliance\n"
      "report export ...). Dates are clinic-local YYYY-MM-DD; times are RFC 3339\n"
      "(2026-12-01T15:00:00Z) or clinic-local (2026-12-01T10:00). Tables are for people; --json\n"
      "prints each response as one line of protobuf JSON for scripts.\n";
  Service current = Service::kIdentity;
  bool first = true;
  for (const Command& c : AllCommands().commands()) {
    if (first || c.service != current) {
      absl::StrAppend(&out, "\n", ServiceName(c.service), ":\n");
      current = c.service;
      first = false;
    }
    const std::string name = c.Name();
    absl::StrAppend(&out, "  ", name, std::string(name.size() < 26 ? 26 - name.size() : 1, ' '),
                    c.summary, "\n");
  }
  absl::StrAppend(&out, "\nGlobal flags (before or after the command):\n", FlagTable(GlobalFlags()),
                  "\n", kExitCodes);
  return out;
}

int Run(const std::vector<std::string>& args, const Lookup& env, std::ostream& out,
        std::ostream& err) {
  const Registry& registry = AllCommands();
  const Command* named = nullptr;
  absl::StatusOr<ParsedLine> parsed = ParseCommandLine(args, registry, &named);
  if (!parsed.ok()) {
    err << ErrorLine(parsed.status()) << "\n";
    if (named != nullptr) {
      err << "usage: " << Synopsis(*named) << "\n";
    } else {
      err << "run `smpctl help` for the commands, `smpctl <command> --help` for their flags\n";
    }
    return ExitCodeFor(parsed.status());
  }
  const ParsedLine& line = *parsed;
  if (line.command == nullptr) {
    if (!line.words.empty()) {
      std::vector<const Command*> same_noun = registry.WithNoun(line.words);
      if (same_noun.empty()) {
        err << "smpctl: unknown command \"" << absl::StrJoin(line.words, " ") << "\"\n";
        return kExitUsage;
      }
      // "help appointment book": find the command itself.
      size_t used = 0;
      if (const Command* c = registry.Find(line.words, &used)) {
        out << CommandHelp(*c);
        return kExitOk;
      }
      out << NounHelp(same_noun);
      return kExitOk;
    }
    if (line.help) {
      out << GeneralHelp();
      return kExitOk;
    }
    // No command at all: a usage error, with the help.
    err << GeneralHelp();
    return kExitUsage;
  }
  if (line.help) {
    out << CommandHelp(*line.command);
    return kExitOk;
  }

  auto flag = [&](absl::string_view name) -> std::optional<std::string> {
    auto it = line.flags.find(std::string(name));
    if (it == line.flags.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  };
  absl::StatusOr<Config> config = ResolveConfig(flag, env);
  if (!config.ok()) {
    err << ErrorLine(config.status()) << "\n";
    return ExitCodeFor(config.status());
  }
  config->json = flag("json").value_or("false") == "true";
  Client client(*std::move(config));
  Output output(out, err, client.json());
  Invocation invocation(*line.command, line, client, output);
  absl::Status status = line.command->run(invocation);
  out.flush();
  if (!status.ok()) {
    err << ErrorLine(status) << "\n";
    if (IsUsageError(status)) err << "usage: " << Synopsis(*line.command) << "\n";
  }
  return ExitCodeFor(status);
}

}  // namespace smp::smpctl
