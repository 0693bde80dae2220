#ifndef SMP_COMMON_SERVER_RPC_OBSERVER_H_
#define SMP_COMMON_SERVER_RPC_OBSERVER_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/server/log.h"

namespace smp {

// The metadata key that carries a request id, in both directions.
inline constexpr char kRequestIdHeader[] = "x-request-id";

// Server interceptor that gives every RPC a request id, metrics and one access-log line.
// RunningServer installs it; services do not need to.
//
// Per RPC:
//  - On receiving the client's initial metadata it starts the clock and takes the request id:
//    the client's `x-request-id` when present and non-empty after sanitising (kept: ASCII
//    letters, digits and `-_.:/+=@`; at most 128 characters kept), otherwise a new NewId().
//    The id is echoed in the server's initial metadata as `x-request-id`.
//  - When the handler's status is about to be sent it
//      counts   smp_grpc_server_handled_total{grpc_service,grpc_method,grpc_code}
//      observes smp_grpc_server_handling_seconds{grpc_service,grpc_method}
//               (buckets RpcLatencyBuckets(), 0.5 ms .. 10 s)
//    in Metrics() (an UNIMPLEMENTED call is labelled grpc_service="unknown",
//    grpc_method="unknown": its path is whatever the client sent) and logs
//    {"msg":"rpc","method":"/pkg.Svc/M","code":"NOT_FOUND","duration_ms":"1.234",
//    "request_id":"...","peer":"ipv4:...","error":"<status message, when not empty>"} at the
//    level of RpcLogLevel(code).
// An RPC that ends without the server sending a status (the transport fails first) is neither
// counted nor logged.
class RpcObserverFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

// The request id of the RPC served with `ctx` (same value as logged and echoed), for handlers
// that log. "" when the RPC has no RpcObserver (e.g. a server built without RunningServer).
// Valid from the handler's start until the call's context is destroyed.
std::string RequestIdOf(const grpc::ServerContextBase& ctx);

// The access-log level of an RPC ending with `code`:
//   info    OK, and codes a client causes by what it sends or does: CANCELLED, INVALID_ARGUMENT,
//           NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION,
//           ABORTED, OUT_OF_RANGE (they are normal traffic; alerting uses the metrics)
//   error   UNKNOWN, INTERNAL, DATA_LOSS (bugs or corruption on our side)
//   warning everything else: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNIMPLEMENTED, UNAVAILABLE
LogLevel RpcLogLevel(grpc::StatusCode code);

// "OK", "INVALID_ARGUMENT", ... (the label and log value of a code).
absl::string_view GrpcCodeName(grpc::StatusCode code);

// `value` sanitised as described above; "" when nothing usable remains.
std::string SanitizeRequestId(absl::string_view value);

namespace internal {
// Number of RPCs whose request id is currently tracked for RequestIdOf (tests check for leaks).
size_t TrackedRequestIdCount();
}  // namespace internal

}  // namespace smp

#endif  // SMP_COMMON_SERVER_RPC_OBSERVER_H_
