#ifndef SMP_TOOLS_SMPCTL_COMMAND_HELPERS_H_
#define SMP_TOOLS_SMPCTL_COMMAND_HELPERS_H_

// Small pieces the command files share: flag declarations, paging, "table or JSON".

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "google/protobuf/message.h"
#include "tools/smpctl/client.h"
#include "tools/smpctl/command.h"
#include "tools/smpctl/errors.h"
#include "tools/smpctl/output.h"
#include "tools/smpctl/values.h"

namespace smp::smpctl {

inline FlagSpec Req(std::string name, std::string value_name, std::string help) {
  return {std::move(name), FlagKind::kRequired, std::move(value_name), std::move(help)};
}
inline FlagSpec Opt(std::string name, std::string value_name, std::string help) {
  return {std::move(name), FlagKind::kOptional, std::move(value_name), std::move(help)};
}
inline FlagSpec Rep(std::string name, std::string value_name, std::string help) {
  return {std::move(name), FlagKind::kRepeated, std::move(value_name), std::move(help)};
}
inline FlagSpec Switch(std::string name, std::string help) {
  return {std::move(name), FlagKind::kBool, "", std::move(help)};
}

// --etag, for commands that change a resource: without it the command reads the resource first.
inline FlagSpec EtagFlag() {
  return Opt("etag", "ETAG", "the etag you read (default: read the resource now); stale -> exit 6");
}

// --page_size and --page_token appended to `flags`.
inline std::vector<FlagSpec> WithPaging(std::vector<FlagSpec> flags) {
  flags.push_back(Opt("page_size", "N", "results per page (default 50, at most 500)"));
  flags.push_back(Opt("page_token", "TOKEN", "the next page, from the previous output"));
  return flags;
}

// Sets page_size and page_token of a List request from the flags.
template <typename Request>
absl::Status ReadPaging(const Invocation& inv, Request& req) {
  ASSIGN_OR_RETURN(int64_t size, inv.Int("page_size", 1, 500, 0));
  req.set_page_size(static_cast<int32_t>(size));
  req.set_page_token(inv.Get("page_token"));
  return absl::OkStatus();
}

// --json: the message on one line; otherwise `human` prints it for people.
inline void Show(Invocation& inv, const google::protobuf::Message& message,
                 const std::function<void()>& human) {
  if (inv.out().json()) {
    inv.out().Json(message);
  } else {
    human();
  }
}

// A required positional id, or a required flag, as a usage error when empty.
inline absl::Status NotEmpty(absl::string_view what, const std::string& value) {
  if (value.empty()) return UsageError(absl::StrCat(what, " must not be empty"));
  return absl::OkStatus();
}

inline std::string Yes(bool b) { return b ? "yes" : "no"; }

// Enum names of a repeated enum field, comma-separated.
template <typename E, typename Repeated>
std::string EnumList(const Repeated& values) {
  std::vector<std::string> names;
  for (int v : values) names.push_back(EnumName(static_cast<E>(v)));
  return absl::StrJoin(names, ",");
}

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_COMMAND_HELPERS_H_
