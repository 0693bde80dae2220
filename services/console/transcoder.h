#ifndef SMP_SERVICES_CONSOLE_TRANSCODER_H_
#define SMP_SERVICES_CONSOLE_TRANSCODER_H_

// HTTP/JSON <-> gRPC for the web console, generic over the contracts: a request to
// `POST /api/<package.Service>/<Method>` is found in the compiled-in descriptors of the services
// the gateway forwards to, its JSON body parsed with protobuf's JSON mapping (proto3:
// lowerCamelCase or original field names, enum value names, RFC 3339 timestamps, "1.5s" durations)
// into the request message, and the response message printed back as JSON. No RPC is written out by
// hand, so a new RPC in a contract is reachable from the console as soon as the gateway is rebuilt.
//
// The transcoder knows nothing about permissions or rules: it only changes the encoding.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace smp::console {

// One RPC the gateway may forward.
struct RpcRoute {
  const google::protobuf::MethodDescriptor* method = nullptr;
  // The gRPC method path, "/smp.identity.v1.IdentityService/WhoAmI".
  std::string grpc_path;
  // The service's full name, "smp.identity.v1.IdentityService" (selects the channel).
  std::string service;
  // True for server-streaming RPCs (WatchChanges, GenerateReport, ...): answered as Server-Sent
  // Events.
  bool server_streaming = false;
};

class Transcoder {
 public:
  // `services`: the contracts forwarded (descriptors of the generated pool, so that their
  // messages have generated prototypes). Client-streaming and bidirectional methods are left out
  // (the suite has none, and HTTP/1.1 cannot carry them).
  explicit Transcoder(const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The route for "smp.scheduling.v1.SchedulingService/BookAppointment" (the part of the URL after
  // "/api/"). NOT_FOUND naming it when no forwarded service has that method.
  absl::StatusOr<RpcRoute> Find(absl::string_view service_and_method) const;

  // The request message of `route` from its JSON body, serialized to protobuf binary. An empty
  // body is the empty message. INVALID_ARGUMENT with the parser's words (unknown field, wrong
  // type, bad enum name, not JSON) otherwise.
  absl::StatusOr<std::string> RequestToBinary(const RpcRoute& route, absl::string_view json) const;

  // A response message of `route` (protobuf binary) as JSON: lowerCamelCase names, enum names,
  // fields at their default values included (so a client sees `"count": 0` rather than nothing).
  // INTERNAL when the bytes do not parse as the response type.
  absl::StatusOr<std::string> ResponseToJson(const RpcRoute& route, absl::string_view binary) const;

  // Every route, sorted by gRPC path (for the console's own listing and tests).
  std::vector<RpcRoute> Routes() const;

 private:
  absl::flat_hash_map<std::string, RpcRoute> routes_;  // keyed by "pkg.Service/Method"
};

// Any message of the generated pool as JSON with the options ResponseToJson uses.
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message);

// The HTTP status for a gRPC/absl status code, following google.rpc.Code's mapping
// (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE 400; UNAUTHENTICATED 401; PERMISSION_DENIED
// 403; NOT_FOUND 404; ALREADY_EXISTS, ABORTED 409; RESOURCE_EXHAUSTED 429; CANCELLED 499;
// UNIMPLEMENTED 501; UNAVAILABLE 503; DEADLINE_EXCEEDED 504; others 500).
int HttpStatusForCode(absl::StatusCode code);

// The JSON error body for a failed call, in the shape of Google's HTTP/JSON APIs:
//   {"error":{"code":403,"status":"PERMISSION_DENIED","message":"...","details":[...]}}
// `details` are the google.rpc details the service sent (ErrorInfo with its reason and metadata,
// BadRequest field violations, PreconditionFailure), each with its "@type"; for INVALID_ARGUMENT
// without a BadRequest, one is derived from a "<field>: <problem>" message (common/status). The
// message is the service's own, unchanged.
std::string ErrorJson(const absl::Status& status);

}  // namespace smp::console

#endif  // SMP_SERVICES_CONSOLE_TRANSCODER_H_
