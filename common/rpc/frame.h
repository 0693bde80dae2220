#ifndef SMP_COMMON_RPC_FRAME_H_
#define SMP_COMMON_RPC_FRAME_H_

// The frame every gRPC override of the suite runs in. It authorises the caller for the method (the
// permission is declared in the contract), builds the Call (caller, "now" read once, method name),
// runs the operation and maps its absl::Status to gRPC at the edge: internal errors are logged with
// the request id and reach the client without internals; structured details (error_details.h) ride
// in the standard trailer. An override is one statement:
//
//   grpc::Status BillingServiceImpl::GetInvoice(grpc::ServerContext* ctx,
//                                               const v1::GetInvoiceRequest* req, v1::Invoice* out)
//                                               {
//     return frame_.Serve(ctx, "GetInvoice", out,
//                         [&](const Call& call) { return invoices_.Get(call, *req); });
//   }

#include <grpcpp/server_context.h>

#include <functional>
#include <type_traits>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/rpc/call.h"
#include "common/util/clock.h"

namespace smp {

class RpcFrame {
 public:
  // Called with the caller, the method and the refusal when an authenticated caller's roles lack
  // a method's permission, before PERMISSION_DENIED is answered (compliance audits such attempts).
  using DeniedHook =
      std::function<void(const Principal&, absl::string_view method, const absl::Status&)>;

  // `service_full_name` e.g. v1::BillingService::service_full_name(); aborts at start-up if the
  // contract lacks a permission on any method (see Authorizer). `authenticator` and `clock` must
  // outlive the frame.
  RpcFrame(absl::string_view service_full_name, Authenticator* authenticator, const Clock* clock,
           DeniedHook on_denied = nullptr);

  // Serves a unary RPC (or any RPC whose output is one message): `op`'s value becomes `*out`.
  template <typename Response>
  grpc::Status Serve(
      grpc::ServerContext* context, absl::string_view method, Response* out,
      std::type_identity_t<absl::FunctionRef<absl::StatusOr<Response>(const Call&)>> op) const {
    return Run(context, method, [&](const Call& call) -> absl::Status {
      ASSIGN_OR_RETURN(*out, op(call));
      return absl::OkStatus();
    });
  }

  // Serves an RPC whose body writes its own output (server streams).
  grpc::Status Run(grpc::ServerContext* context, absl::string_view method,
                   absl::FunctionRef<absl::Status(const Call&)> body) const;

  // The Call a request would get, for paths outside a gRPC handler (tests, non-gRPC transports):
  // authorises `authorization` (the header value) for `method`.
  absl::StatusOr<Call> CallFor(absl::string_view authorization, absl::string_view method) const;

  const Authorizer& authorizer() const { return authorizer_; }
  const Clock& clock() const { return *clock_; }

 private:
  Authorizer authorizer_;
  Authenticator* authenticator_;
  const Clock* clock_;
  DeniedHook on_denied_;
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_FRAME_H_
