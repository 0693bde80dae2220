#include "common/status/grpc_status.h"

#include <string>

#include "common/status/error_details.h"

namespace smp {
namespace {

// Codes outside the known range (a peer built against a newer gRPC) are reported as UNKNOWN rather
// than cast blindly.
constexpr int kMaxKnownCode = static_cast<int>(absl::StatusCode::kUnauthenticated);

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  int code = static_cast<int>(status.code());
  if (code < 0 || code > kMaxKnownCode) code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(status.message()),
                      SerializeStatusDetails(status));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  int code = static_cast<int>(status.error_code());
  if (code < 0 || code > kMaxKnownCode) code = static_cast<int>(absl::StatusCode::kUnknown);
  return AttachStatusDetails(
      absl::Status(static_cast<absl::StatusCode>(code), status.error_message()),
      status.error_details());
}

}  // namespace smp
