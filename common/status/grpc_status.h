#ifndef SMP_COMMON_STATUS_GRPC_STATUS_H_
#define SMP_COMMON_STATUS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace smp {

// The one place absl::Status (inside the services) meets grpc::Status (on the wire). Abseil's and
// gRPC's codes are the same numbers, so the mapping keeps code and message; an OK status maps to
// OK. Structured details (error_details.h) travel in the binary error details both ways.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients of peer services: a peer's grpc::Status as an absl::Status.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace smp

#endif  // SMP_COMMON_STATUS_GRPC_STATUS_H_
