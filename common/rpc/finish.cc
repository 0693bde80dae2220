#include "common/rpc/finish.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/rpc_observer.h"
#include "common/status/grpc_status.h"

namespace smp {

grpc::Status FinishRpc(const grpc::ServerContextBase& context, absl::string_view method,
                       absl::Status status) {
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    const std::string request_id = RequestIdOf(context);
    LogError("internal error", {{"method", std::string(method)},
                                {"request_id", request_id},
                                {"error", status.ToString()}});
    status =
        absl::Status(status.code(), absl::StrCat("internal error; quote request id ", request_id));
  }
  return ToGrpcStatus(status);
}

}  // namespace smp
