#ifndef SMP_COMMON_RPC_FINISH_H_
#define SMP_COMMON_RPC_FINISH_H_

#include <grpcpp/server_context.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smp {

// The last step of every RPC: maps `status` to gRPC (ToGrpcStatus, details included). INTERNAL,
// UNKNOWN and DATA_LOSS are logged with the method and the request id and answered as "internal
// error; quote request id <id>", so no internals (SQL, paths) reach a client.
grpc::Status FinishRpc(const grpc::ServerContextBase& context, absl::string_view method,
                       absl::Status status);

}  // namespace smp

#endif  // SMP_COMMON_RPC_FINISH_H_
