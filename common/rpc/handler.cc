#include "common/rpc/handler.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/rpc_observer.h"
#include "common/status/grpc_status.h"

namespace smp {

grpc::Status ServeRpc(const Authorizer& authorizer, grpc::ServerContext* context,
                      absl::string_view method,
                      absl::FunctionRef<absl::Status(const Principal&)> body) {
  absl::StatusOr<Principal> caller = authorizer.Authorize(*context, method);
  absl::Status status = caller.ok() ? body(*caller) : caller.status();
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

}  // namespace smp
