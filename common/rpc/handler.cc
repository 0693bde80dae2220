#include "common/rpc/handler.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/rpc_observer.h"
#include "common/status/grpc_status.h"

namespace smp {

namespace {

// Maps the outcome to gRPC; internal errors are logged with the request id and answered without
// internals.
grpc::Status Finish(grpc::ServerContext* context, absl::string_view method, absl::Status status) {
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    const std::string request_id = RequestIdOf(*context);
    LogError("internal error", {{"method", std::string(method)},
                                {"request_id", request_id},
                                {"error", status.ToString()}});
    status =
        absl::Status(status.code(), absl::StrCat("internal error; quote request id ", request_id));
  }
  return ToGrpcStatus(status);
}

}  // namespace

grpc::Status ServeRpc(const Authorizer& authorizer, grpc::ServerContext* context,
                      absl::string_view method,
                      absl::FunctionRef<absl::Status(const Principal&)> body) {
  absl::StatusOr<Principal> caller = authorizer.Authorize(*context, method);
  return Finish(context, method, caller.ok() ? body(*caller) : caller.status());
}

grpc::Status ServeRpc(const Authorizer& authorizer, Authenticator& authenticator,
                      grpc::ServerContext* context, absl::string_view method,
                      absl::FunctionRef<absl::Status(const Principal&)> body,
                      absl::FunctionRef<void(const Principal&, const absl::Status&)> on_denied) {
  if (authorizer.RequiredPermission(method) == common::v1::PERMISSION_PUBLIC) {
    return ServeRpc(authorizer, context, method, body);
  }
  absl::StatusOr<Principal> caller = authenticator.Authenticate(*context);
  if (!caller.ok()) return Finish(context, method, caller.status());
  absl::Status allowed = authorizer.Check(*caller, method);
  if (absl::IsPermissionDenied(allowed)) on_denied(*caller, allowed);
  return Finish(context, method, allowed.ok() ? body(*caller) : allowed);
}

}  // namespace smp
