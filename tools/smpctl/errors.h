#ifndef SMP_TOOLS_SMPCTL_ERRORS_H_
#define SMP_TOOLS_SMPCTL_ERRORS_H_

// How smpctl fails: every failure is an absl::Status whose exit code and one-line message are
// decided here, in one place. The exit codes are part of smpctl's interface (README, `smpctl
// help`):
//
//   0  success
//   1  anything else (a local file could not be written, RESOURCE_EXHAUSTED, INTERNAL, ...)
//   2  usage error: a bad flag, argument or value, caught before any call is made
//   3  not logged in, the session expired or was revoked, or the token file is unsafe
//      (UNAUTHENTICATED)
//   4  PERMISSION_DENIED: the role or the clinic scope does not allow it
//   5  NOT_FOUND
//   6  conflict: ALREADY_EXISTS, ABORTED (stale etag), FAILED_PRECONDITION (a domain rule refused)
//   7  the server rejected a value: INVALID_ARGUMENT, OUT_OF_RANGE
//   8  a service is unavailable or did not answer in time: UNAVAILABLE, DEADLINE_EXCEEDED

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smp::smpctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitOther = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnauthenticated = 3;
inline constexpr int kExitPermissionDenied = 4;
inline constexpr int kExitNotFound = 5;
inline constexpr int kExitConflict = 6;
inline constexpr int kExitInvalid = 7;
inline constexpr int kExitUnavailable = 8;

// A mistake in the command line, found before any call: exit code 2.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// A failure on this machine (a file, the terminal): exit code 1, whatever the code says.
absl::Status LocalError(absl::string_view message);

// A failed call: keeps the server's code and puts a plain-words explanation before the server's
// message, e.g. "BookAppointment refused (failed precondition): practitioner ... is booked".
// `service` and `address` name where the call went (used for UNAVAILABLE and DEADLINE_EXCEEDED).
// The server's structured details (common/status/error_details.h) stay on the returned status, so
// a command switches on ErrorReason(status), never on the text.
absl::Status RpcError(absl::string_view rpc, absl::string_view service, absl::string_view address,
                      const grpc::Status& status);

// The exit code of a failure (0 for OK).
int ExitCodeFor(const absl::Status& status);

// The one line printed on stderr for a failure: "smpctl: <message>", then " (<REASON>)" when the
// server gave a stable reason.
std::string ErrorLine(const absl::Status& status);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_ERRORS_H_
