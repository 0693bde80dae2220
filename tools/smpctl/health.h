#ifndef SMP_TOOLS_SMPCTL_HEALTH_H_
#define SMP_TOOLS_SMPCTL_HEALTH_H_

// `smpctl health`: asks a server's grpc.health.v1.Health/Check whether it is SERVING, without a
// session. It is the health check of the container image (deploy/image) and of the compose file:
// Debian has no grpc_health_probe, and smpctl is in the image anyway.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/smpctl/command.h"

namespace smp::smpctl {

// grpc.health.v1 ServingStatus, as numbered by the health proto.
enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// "SERVING", "NOT_SERVING", ...
const char* ServingStatusName(ServingStatus status);

// One Health/Check of `service` ("" = the server as a whole) over `channel`, within `timeout`.
// The request and response are hand-serialised (HealthCheckRequest{string service = 1},
// HealthCheckResponse{ServingStatus status = 1}): Debian's gRPC ships no health.proto to generate
// a stub from. A failed call comes back as its grpc::Status; a response that is not a
// HealthCheckResponse as INTERNAL.
absl::StatusOr<ServingStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                          const std::string& service, absl::Duration timeout);

// Registers `health` (README, "smpctl").
void AddHealthCommands(Registry& registry);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_HEALTH_H_
