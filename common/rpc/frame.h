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
//     return frame_.Serve(ctx, "GetInvoice", *req, out,
//                         [&](const Call& call) { return invoices_.Get(call, *req); });
//   }

#include <grpcpp/server_context.h>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/rpc/call.h"
#include "common/rpc/finish.h"
#include "common/rpc/refusal_log.h"
#include "common/util/clock.h"
#include "google/protobuf/message.h"

namespace smp {

class RpcFrame {
 public:
  // Every PERMISSION_DENIED the frame answers (a role without the method's permission, found
  // here; a clinic outside the caller's scope, or any other refusal the operation returns) goes to
  // the frame's RefusalLog: the smp_rpc_refusals_total counter, and per (caller, method, reason)
  // at most two summaries a window in the JSON log, each also handed to this hook (compliance
  // writes it to its audit log with the count). See refusal_log.h.
  using DeniedHook = RefusalLog::Sink;

  // `service_full_name` e.g. v1::BillingService::service_full_name(); aborts at start-up if the
  // contract lacks a permission on any method (see Authorizer). `authenticator` and `clock` must
  // outlive the frame.
  RpcFrame(absl::string_view service_full_name, Authenticator* authenticator, const Clock* clock,
           DeniedHook on_denied = nullptr);

  // Serves a unary RPC (or any RPC whose output is one message): `op`'s value becomes `*out`.
  // Before `op` runs, every clinic the request names (request_scope.h) must be in the caller's
  // scope, so that the scope answers before any validation or rule of the operation.
  template <typename Response>
  grpc::Status Serve(
      grpc::ServerContextBase* context, absl::string_view method,
      const google::protobuf::Message& request, Response* out,
      std::type_identity_t<absl::FunctionRef<absl::StatusOr<Response>(const Call&)>> op) const {
    return Run(context, method, request, [&](const Call& call) -> absl::Status {
      ASSIGN_OR_RETURN(*out, op(call));
      return absl::OkStatus();
    });
  }

  // Serve for an operation that answers later, from another thread (a write made durable while
  // no thread waits: Database::RunAsync). `op` gets the Call and the Answer to give; once it is
  // given, `*out` is set and `finish` gets the call's gRPC status. `method` must outlive the call
  // (a literal). `op` is not called, and `finish` is at once, when the caller is refused.
  template <typename Response>
  void ServeAsync(grpc::ServerContextBase* context, absl::string_view method,
                  const google::protobuf::Message& request, Response* out,
                  std::type_identity_t<absl::FunctionRef<void(const Call&, Answer<Response>)>> op,
                  absl::AnyInvocable<void(grpc::Status) &&> finish) const {
    absl::StatusOr<Call> call = Admit(*context, method, request);
    if (!call.ok()) return std::move(finish)(FinishRpc(*context, method, call.status()));
    op(*call, [this, context, method, out, who = call->who,
               finish = std::move(finish)](absl::StatusOr<Response> result) mutable {
      absl::Status status = result.status();
      if (result.ok()) *out = *std::move(result);
      if (absl::IsPermissionDenied(status)) NoteRefusal(who, method, status);
      std::move(finish)(FinishRpc(*context, method, std::move(status)));
    });
  }

  // Serve for a request that names no clinic (Logout, WhoAmI: the caller's own session).
  template <typename Response>
  grpc::Status Serve(
      grpc::ServerContextBase* context, absl::string_view method, Response* out,
      std::type_identity_t<absl::FunctionRef<absl::StatusOr<Response>(const Call&)>> op) const {
    return Run(context, method, [&](const Call& call) -> absl::Status {
      ASSIGN_OR_RETURN(*out, op(call));
      return absl::OkStatus();
    });
  }

  // Serves an RPC whose body writes its own output (server streams), with the clinic scope of
  // `request` checked first as in Serve.
  grpc::Status Run(grpc::ServerContextBase* context, absl::string_view method,
                   const google::protobuf::Message& request,
                   absl::FunctionRef<absl::Status(const Call&)> body) const;

  // Run for a request that names no clinic.
  grpc::Status Run(grpc::ServerContextBase* context, absl::string_view method,
                   absl::FunctionRef<absl::Status(const Call&)> body) const;

  // The first step of Run on its own, for RPCs served outside a sync handler (callback-API
  // streams, see stream_guard.h): authenticates and authorises the caller for `method` (refusals
  // reported to the DeniedHook as in Run) and builds the Call. The status is not yet mapped to gRPC
  // (FinishRpc does that).
  absl::StatusOr<Call> Admit(const grpc::ServerContextBase& context,
                             absl::string_view method) const;
  // Admit, then the clinic scope of `request` (request_scope.h; a refusal is reported as well).
  absl::StatusOr<Call> Admit(const grpc::ServerContextBase& context, absl::string_view method,
                             const google::protobuf::Message& request) const;

  // The Call a request would get, for paths outside a gRPC handler (tests, non-gRPC transports):
  // authorises `authorization` (the header value) for `method`.
  absl::StatusOr<Call> CallFor(absl::string_view authorization, absl::string_view method) const;

  // Counts a refusal the frame did not see itself (e.g. a stream's, after admission).
  void NoteRefusal(const Principal& who, absl::string_view method,
                   const absl::Status& refusal) const;

  const Authorizer& authorizer() const { return authorizer_; }
  const Clock& clock() const { return *clock_; }

 private:
  Authorizer authorizer_;
  Authenticator* authenticator_;
  const Clock* clock_;
  std::unique_ptr<RefusalLog> refusals_;
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_FRAME_H_
