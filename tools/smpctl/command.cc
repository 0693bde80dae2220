#include "tools/smpctl/command.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tools/smpctl/errors.h"
#include "tools/smpctl/values.h"

namespace smp::smpctl {
namespace {

bool IsServiceName(absl::string_view word) {
  for (Service s : kAllServices) {
    if (word == ServiceName(s)) return true;
  }
  return false;
}

bool PathMatches(const Command& c, const std::vector<std::string>& words, size_t from) {
  if (words.size() - from < c.path.size()) return false;
  for (size_t i = 0; i < c.path.size(); ++i) {
    if (words[from + i] != c.path[i]) return false;
  }
  return true;
}

const FlagSpec* FindGlobal(absl::string_view name) {
  for (const FlagSpec& f : GlobalFlags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// "--request-id" and "--request_id" are the same flag.
std::string FlagName(absl::string_view text) { return absl::StrReplaceAll(text, {{"-", "_"}}); }

}  // namespace

std::string Command::Name() const { return absl::StrJoin(path, " "); }

const FlagSpec* Command::FindFlag(absl::string_view name) const {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Command* Registry::Find(const std::vector<std::string>& words, size_t* used) const {
  for (size_t from : {size_t{0}, size_t{1}}) {
    if (from == 1 && (words.empty() || !IsServiceName(words[0]))) break;
    const Command* best = nullptr;
    for (const Command& c : commands_) {
      if (from == 1 && words[0] != ServiceName(c.service)) continue;
      if (PathMatches(c, words, from) && (best == nullptr || c.path.size() > best->path.size())) {
        best = &c;
      }
    }
    if (best != nullptr) {
      *used = from + best->path.size();
      return best;
    }
  }
  return nullptr;
}

std::vector<const Command*> Registry::WithNoun(const std::vector<std::string>& words) const {
  std::vector<const Command*> out;
  if (words.empty()) return out;
  size_t from = 0;
  if (IsServiceName(words[0]) && words.size() > 1) from = 1;
  for (const Command& c : commands_) {
    if (from == 1 && words[0] != ServiceName(c.service)) continue;
    if (c.path[0] == words[from]) out.push_back(&c);
  }
  if (out.empty() && IsServiceName(words[0])) {
    // "smpctl billing": every command of the service.
    for (const Command& c : commands_) {
      if (words[0] == ServiceName(c.service)) out.push_back(&c);
    }
  }
  return out;
}

bool Invocation::Has(absl::string_view name) const {
  return line_.flags.count(std::string(name)) > 0;
}

std::string Invocation::Get(absl::string_view name) const {
  auto it = line_.flags.find(std::string(name));
  if (it == line_.flags.end() || it->second.empty()) return "";
  return it->second.back();
}

std::vector<std::string> Invocation::AllRaw(absl::string_view name) const {
  auto it = line_.flags.find(std::string(name));
  if (it == line_.flags.end()) return {};
  return it->second;
}

std::vector<std::string> Invocation::All(absl::string_view name) const {
  std::vector<std::string> out;
  for (const std::string& v : AllRaw(name)) {
    for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      out.emplace_back(part);
    }
  }
  return out;
}

bool Invocation::Bool(absl::string_view name) const { return Has(name) && Get(name) == "true"; }

std::string Invocation::Arg() const {
  return line_.positionals.empty() ? "" : line_.positionals[0];
}

absl::StatusOr<int64_t> Invocation::Int(absl::string_view name, int64_t min, int64_t max,
                                        int64_t fallback) const {
  if (!Has(name)) return fallback;
  return ParseInt(name, Get(name), min, max);
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const std::vector<FlagSpec>* const flags = new std::vector<FlagSpec>{
      {"json", FlagKind::kBool, "", "print protobuf JSON, one message per line, for scripts"},
      {"timeout", FlagKind::kOptional, "DURATION",
       "deadline of each call (default 10s; report export 10m); env SMPCTL_TIMEOUT"},
      {"identity", FlagKind::kOptional, "HOST:PORT",
       "identity service (default 127.0.0.1:7001); env SMPCTL_IDENTITY"},
      {"scheduling", FlagKind::kOptional, "HOST:PORT",
       "scheduling service (default 127.0.0.1:7002); env SMPCTL_SCHEDULING"},
      {"inventory", FlagKind::kOptional, "HOST:PORT",
       "inventory service (default 127.0.0.1:7003); env SMPCTL_INVENTORY"},
      {"compliance", FlagKind::kOptional, "HOST:PORT",
       "compliance service (default 127.0.0.1:7004); env SMPCTL_COMPLIANCE"},
      {"billing", FlagKind::kOptional, "HOST:PORT",
       "billing service (default 127.0.0.1:7005); env SMPCTL_BILLING"},
      {"token_file", FlagKind::kOptional, "PATH",
       "where login keeps the token (default $XDG_CONFIG_HOME/smpctl/token or "
       "~/.config/smpctl/token); env SMPCTL_TOKEN_FILE"},
      {"request_id", FlagKind::kOptional, "KEY",
       "idempotency key of the change (default: a fresh random one); repeat a failed command "
       "with the same key to retry it safely"},
      {"tls_ca", FlagKind::kOptional, "FILE",
       "connect with TLS, trusting these PEM roots (default: plaintext); env SMPCTL_TLS_CA"},
      {"tls_cert", FlagKind::kOptional, "FILE",
       "PEM client certificate for mutual TLS; env SMPCTL_TLS_CERT"},
      {"tls_key", FlagKind::kOptional, "FILE", "its PEM private key; env SMPCTL_TLS_KEY"},
      {"help", FlagKind::kBool, "", "show help"},
  };
  return *flags;
}

absl::StatusOr<ParsedLine> ParseCommandLine(const std::vector<std::string>& args,
                                            const Registry& registry, const Command** named) {
  ParsedLine line;
  size_t i = 0;
  bool only_positionals = false;

  // Adds one flag occurrence; `spec` decides how its value is read.
  auto add_flag = [&](const FlagSpec& spec, absl::string_view given_name,
                      std::optional<std::string> value) -> absl::Status {
    if (spec.kind == FlagKind::kBool) {
      if (!value) {
        value = "true";
      } else {
        absl::StatusOr<bool> b = ParseBool(spec.name, *value);
        if (!b.ok()) return b.status();
        value = *b ? "true" : "false";
      }
    } else if (!value) {
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat("--", given_name, " needs a value (--", spec.name, "=",
                                       spec.value_name.empty() ? "VALUE" : spec.value_name, ")"));
      }
      value = args[++i];
    }
    std::vector<std::string>& values = line.flags[spec.name];
    if (!values.empty() && spec.kind != FlagKind::kRepeated) {
      return UsageError(absl::StrCat("--", spec.name, " given more than once"));
    }
    values.push_back(*value);
    if (spec.name == "help" && *value == "true") line.help = true;
    return absl::OkStatus();
  };

  // Splits "--name=value" / "--name".
  auto split = [](const std::string& arg, std::string* name, std::optional<std::string>* value) {
    const size_t eq = arg.find('=');
    *name = FlagName(arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
    if (eq != std::string::npos) *value = arg.substr(eq + 1);
  };

  // Global flags before the command.
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      line.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--") || arg == "--") break;
    std::string name;
    std::optional<std::string> value;
    split(arg, &name, &value);
    const FlagSpec* spec = FindGlobal(name);
    if (spec == nullptr) {
      return UsageError(
          absl::StrCat("unknown flag --", name, " (a command's own flags go after the command)"));
    }
    if (absl::Status s = add_flag(*spec, name, value); !s.ok()) return s;
  }
  if (i < args.size() && args[i] == "--") {
    ++i;
    only_positionals = true;
  }

  // The command's words.
  for (size_t j = i; j < args.size() && !absl::StartsWith(args[j], "-"); ++j) {
    line.words.push_back(args[j]);
  }
  if (line.words.empty()) return line;  // no command: general help
  if (line.words[0] == "help") {
    line.help = true;
    line.words.erase(line.words.begin());
    return line;
  }
  size_t used = 0;
  line.command = registry.Find(line.words, &used);
  if (line.command == nullptr) {
    if (line.help) return line;
    std::vector<const Command*> same_noun = registry.WithNoun(line.words);
    if (!same_noun.empty()) {
      if (line.words.size() == 1 ||
          (line.words.size() == 2 && same_noun[0]->path[0] != line.words[0])) {
        // "smpctl appointment": help on the noun.
        line.help = true;
        return line;
      }
      std::vector<std::string> verbs;
      for (const Command* c : same_noun) verbs.push_back(c->Name());
      return UsageError(absl::StrCat("unknown command \"", absl::StrJoin(line.words, " "),
                                     "\"; did you mean one of: ", absl::StrJoin(verbs, ", ")));
    }
    return UsageError(absl::StrCat("unknown command \"", line.words[0], "\""));
  }
  if (named != nullptr) *named = line.command;
  line.words.resize(used);
  i += used;

  // The command's flags (and global ones) and its positional argument.
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || !absl::StartsWith(arg, "--")) {
      if (arg == "-h") {
        line.help = true;
        continue;
      }
      line.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    std::string name;
    std::optional<std::string> value;
    split(arg, &name, &value);
    const FlagSpec* spec = line.command->FindFlag(name);
    if (spec == nullptr) spec = FindGlobal(name);
    if (spec == nullptr) {
      return UsageError(
          absl::StrCat("unknown flag --", name, " for `smpctl ", line.command->Name(), "`"));
    }
    if (absl::Status s = add_flag(*spec, name, value); !s.ok()) return s;
  }
  if (line.help) return line;

  const Command& c = *line.command;
  for (const FlagSpec& f : c.flags) {
    if (f.kind == FlagKind::kRequired && line.flags.count(f.name) == 0) {
      return UsageError(absl::StrCat("`smpctl ", c.Name(), "` needs --", f.name, "=",
                                     f.value_name.empty() ? "VALUE" : f.value_name));
    }
  }
  if (c.positional.empty() && !line.positionals.empty()) {
    return UsageError(absl::StrCat("unexpected argument \"", line.positionals[0], "\" for `smpctl ",
                                   c.Name(), "`"));
  }
  if (line.positionals.size() > 1) {
    return UsageError(absl::StrCat("unexpected argument \"", line.positionals[1], "\" for `smpctl ",
                                   c.Name(), "` (it takes one ", c.positional, ")"));
  }
  if (!c.positional.empty() && c.positional_required && line.positionals.empty()) {
    return UsageError(absl::StrCat("`smpctl ", c.Name(), "` needs its ", c.positional));
  }
  return line;
}

}  // namespace smp::smpctl
