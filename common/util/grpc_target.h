#ifndef SMP_COMMON_UTIL_GRPC_TARGET_H_
#define SMP_COMMON_UTIL_GRPC_TARGET_H_

// What a gRPC target string names, for the clients that open channels to the services (the peer
// channels of common/peer and smpctl). A target of several replicas is a comma-separated list
// under the `ipv4:` or `ipv6:` scheme ("ipv4:10.0.0.2:7001,10.0.0.3:7001"); channels to such a
// target spread calls over every address that answers (gRPC's round_robin policy) instead of
// gRPC's default, which sends everything to the first address that connects.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace smp {

// The addresses of an `ipv4:` / `ipv6:` list target, in order ("ipv4:a:1,b:2" -> {"a:1", "b:2"});
// for any other target (host:port, dns:, unix:) the target itself as the one element.
std::vector<std::string> TargetAddresses(absl::string_view target);

// True when calls to `target` should be spread over its addresses: a list of two or more.
bool IsReplicaList(absl::string_view target);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_GRPC_TARGET_H_
