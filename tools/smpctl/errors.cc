#include "tools/smpctl/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"

namespace smp::smpctl {
namespace {

// The exit code rides on the status as a payload when it is not the code's default.
constexpr char kExitPayload[] = "type.smp/smpctl.exit_code";

absl::Status WithExit(absl::Status status, int exit_code) {
  status.SetPayload(kExitPayload, absl::Cord(absl::StrCat(exit_code)));
  return status;
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  return WithExit(absl::InvalidArgumentError(message), kExitUsage);
}

bool IsUsageError(const absl::Status& status) { return ExitCodeFor(status) == kExitUsage; }

absl::Status LocalError(absl::string_view message) {
  return WithExit(absl::UnknownError(message), kExitOther);
}

absl::Status RpcError(absl::string_view rpc, absl::string_view service, absl::string_view address,
                      const grpc::Status& status) {
  const std::string server = status.error_message().empty()
                                 ? std::string("(no message from the server)")
                                 : status.error_message();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  // The server's structured details (reason, fields, rules) stay on the status for the commands.
  const absl::Status details =
      AttachStatusDetails(absl::Status(code, server), status.error_details());
  std::string text;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      text = rpc == "Login" ? absl::StrCat("login failed: ", server)
                            : absl::StrCat(
                                  "not logged in or the session has expired (run "
                                  "`smpctl login`): ",
                                  server);
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      text = absl::StrCat(rpc, " not allowed for your account: ", server);
      break;
    case grpc::StatusCode::NOT_FOUND:
      text = absl::StrCat(rpc, ": not found: ", server);
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      text = absl::StrCat(rpc, ": already exists: ", server);
      break;
    case grpc::StatusCode::ABORTED:
      text = absl::StrCat(rpc,
                          ": changed since it was read (read it again, or pass the current "
                          "--etag): ",
                          server);
      if (const std::string current = ErrorMetadata(details, "current_etag"); !current.empty()) {
        absl::StrAppend(&text, " [current --etag=", current, "]");
      }
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      text = absl::StrCat(rpc, " refused: ", server);
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
      text = absl::StrCat(rpc, ": the server rejected a value: ", server);
      break;
    case grpc::StatusCode::OUT_OF_RANGE:
      text = absl::StrCat(rpc, ": a value is out of range: ", server);
      break;
    case grpc::StatusCode::UNAVAILABLE:
      text = absl::StrCat(rpc, ": the ", service, " service at ", address,
                          " is unavailable (it, or a service it needs, cannot answer now; retry "
                          "later, or check that it runs and --",
                          service, "): ", server);
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      text = absl::StrCat(rpc, ": the ", service, " service at ", address,
                          " did not answer in time (see --timeout): ", server);
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      text = absl::StrCat(rpc, ": too many attempts or too large, try again later: ", server);
      break;
    case grpc::StatusCode::CANCELLED:
      text = absl::StrCat(rpc, " was cancelled: ", server);
      break;
    default:
      text = absl::StrCat(rpc, " failed (", absl::StatusCodeToString(code), "): ", server);
      break;
  }
  return AttachStatusDetails(absl::Status(code, text), status.error_details());
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (auto payload = status.GetPayload(kExitPayload)) {
    int code = kExitOther;
    if (absl::SimpleAtoi(std::string(*payload), &code)) return code;
    return kExitOther;
  }
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return kExitUnauthenticated;
    case absl::StatusCode::kPermissionDenied:
      return kExitPermissionDenied;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return kExitConflict;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalid;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitOther;
  }
}

std::string ErrorLine(const absl::Status& status) {
  std::string message(status.message());
  // One line, whatever the server sent.
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  // The stable reason, for scripts that grep the line (the exit code says the class of failure).
  if (const std::string reason = ErrorReason(status); !reason.empty()) {
    absl::StrAppend(&message, " (", reason, ")");
  }
  return absl::StrCat("smpctl: ", message);
}

}  // namespace smp::smpctl
