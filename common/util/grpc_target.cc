#include "common/util/grpc_target.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace smp {

std::vector<std::string> TargetAddresses(absl::string_view target) {
  absl::string_view list = target;
  if (!absl::ConsumePrefix(&list, "ipv4:") && !absl::ConsumePrefix(&list, "ipv6:")) {
    return {std::string(target)};
  }
  return absl::StrSplit(list, ',');
}

bool IsReplicaList(absl::string_view target) { return TargetAddresses(target).size() > 1; }

}  // namespace smp
