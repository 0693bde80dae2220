#ifndef SMP_COMMON_PEER_PEER_CALL_H_
#define SMP_COMMON_PEER_PEER_CALL_H_

// One call to a peer service as the service's own account: a deadline, the service credentials'
// bearer token, the answer shown back to the credentials (so a revoked session logs in again) and
// the peer's status as an absl::Status with its structured details (a peer's reason survives).
//
// Each service's clients of its peers (scheduling's billing and compliance deliverers, inventory's
// compliance deliverer, ...) live with that service and are built from these two functions:
//
//   return CallPeer(*credentials_, deadline_, request, &response,
//                   [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
//                     return stub_->RecordChargeEvent(ctx, req, resp);
//                   });

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/peer/service_credentials.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace smp {

// Calls `rpc(context, request, response)` as the service account with `deadline`.
template <typename Request, typename Response, typename Rpc>
absl::Status CallPeer(ServiceCredentials& credentials, absl::Duration deadline,
                      const Request& request, Response* response, Rpc rpc) {
  grpc::ClientContext context;
  SetTimeout(context, deadline);
  RETURN_IF_ERROR(credentials.Authorize(context));
  const grpc::Status status = rpc(&context, request, response);
  credentials.Observe(status);
  return FromGrpcStatus(status);
}

// An outbox event whose payload is the peer's request itself: parses it (DATA_LOSS naming the event
// when it does not parse, so the event stays visible in the outbox), lets `prepare` stamp the
// event's id as the peer's deduplication key, and delivers it with CallPeer. ALREADY_EXISTS counts
// as delivered: the peer had it.
template <typename Request, typename Response, typename Prepare, typename Rpc>
absl::Status DeliverEvent(const OutboxEvent& event, ServiceCredentials& credentials,
                          absl::Duration deadline, Prepare prepare, Rpc rpc) {
  Request request;
  if (!request.ParseFromString(event.payload)) {
    return absl::DataLossError(absl::StrCat("outbox event ", event.id, " (", event.kind,
                                            ") does not hold a ", Request::descriptor()->name()));
  }
  prepare(request, event);
  Response response;
  absl::Status status = CallPeer(credentials, deadline, request, &response, rpc);
  return absl::IsAlreadyExists(status) ? absl::OkStatus() : status;
}

}  // namespace smp

#endif  // SMP_COMMON_PEER_PEER_CALL_H_
