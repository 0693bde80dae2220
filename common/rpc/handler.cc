#include "common/rpc/handler.h"

#include <utility>

#include "common/rpc/finish.h"

namespace smp {

namespace {

grpc::Status Finish(grpc::ServerContext* context, absl::string_view method, absl::Status status) {
  return FinishRpc(*context, method, std::move(status));
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
