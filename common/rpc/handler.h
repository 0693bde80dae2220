#ifndef SMP_COMMON_RPC_HANDLER_H_
#define SMP_COMMON_RPC_HANDLER_H_

#include <grpcpp/server_context.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/auth/principal.h"

namespace smp {

// The frame of every RPC handler: authorise the caller for `method` (its permission is declared in
// the contract), run `body` with the caller's Principal, and map the absl::Status to gRPC at the
// edge. Internal errors are logged with the request id and reach the client as a short message
// without internals.
//
//   grpc::Status FooService::GetBar(grpc::ServerContext* ctx, const GetBarRequest* req, Bar* out) {
//     return ServeRpc(authorizer_, ctx, "GetBar", [&](const Principal& who) -> absl::Status {...});
//   }
grpc::Status ServeRpc(const Authorizer& authorizer, grpc::ServerContext* context,
                      absl::string_view method,
                      absl::FunctionRef<absl::Status(const Principal&)> body);

// As ServeRpc, and when an authenticated caller's roles lack the method's permission, calls
// `on_denied` with the caller and the refusal before answering PERMISSION_DENIED (the compliance
// service records such attempts in its audit log).
grpc::Status ServeRpc(const Authorizer& authorizer, Authenticator& authenticator,
                      grpc::ServerContext* context, absl::string_view method,
                      absl::FunctionRef<absl::Status(const Principal&)> body,
                      absl::FunctionRef<void(const Principal&, const absl::Status&)> on_denied);

}  // namespace smp

#endif  // SMP_COMMON_RPC_HANDLER_H_
