#ifndef SMP_COMMON_RPC_ENCODED_UNARY_H_
#define SMP_COMMON_RPC_ENCODED_UNARY_H_

// Unary RPCs whose operation answers with the response already encoded: bytes the service holds
// in wire form (stored protobuf records framed as a repeated field, say), so that the server
// neither parses nor serialises them again. Served on gRPC's raw callback API (the generated
// `WithRawCallbackMethod_<Method>`), with the frame's contract kept as RpcFrame::Serve keeps it:
// the caller authenticated and authorised for the method, every clinic the request names in the
// caller's scope before the operation runs, PERMISSION_DENIED counted as a refusal, the status
// mapped at the edge by FinishRpc. The operation (it reads a database) runs on the unit's own
// threads, not on gRPC's callback threads (unless it asks for Dispatch::kInlineWhenIdle, one at a
// time). A service's override is one statement:
//
//   grpc::ServerUnaryReactor* SchedulingServiceImpl::ListChanges(grpc::CallbackServerContext* ctx,
//                                                               const grpc::ByteBuffer* req,
//                                                               grpc::ByteBuffer* out) {
//     return encoded_.Serve<v1::ListChangesRequest>(
//         ctx, "ListChanges", req, out, [this](const Call& call, const auto& request) {
//           return feed_.ListEncoded(call, request);
//         });
//   }

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/rpc/call.h"
#include "common/rpc/finish.h"
#include "common/rpc/frame.h"
#include "common/rpc/inline_gate.h"
#include "common/rpc/stream_guard.h"

namespace smp {

// `bytes` as a ByteBuffer that owns them (no copy).
grpc::ByteBuffer ByteBufferOf(std::string bytes);
// The bytes of `buffer` (copied).
std::string StringOf(const grpc::ByteBuffer& buffer);

// `bytes` parsed as `Request`; INVALID_ARGUMENT naming the message type when they do not parse.
template <typename Request>
absl::StatusOr<Request> ParseRequest(const grpc::ByteBuffer& bytes) {
  Request request;
  if (!request.ParseFromString(StringOf(bytes))) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: does not parse as ", Request::descriptor()->full_name()));
  }
  return request;
}

class EncodedUnary {
 public:
  // `frame` must outlive this object; `threads` run the operations.
  EncodedUnary(const RpcFrame* frame, int threads) : frame_(frame), executor_(threads) {}

  template <typename Request>
  using Op = std::function<absl::StatusOr<std::string>(const Call& call, const Request& request)>;

  // Where the operation runs: on the unit's threads, or (a short read: answered from memory or
  // a few rows) at once on gRPC's thread while no other operation of this unit runs there
  // (InlineGate), else on the unit's threads.
  enum class Dispatch { kQueued, kInlineWhenIdle };

  // Parses `request` as `Request` (INVALID_ARGUMENT when it does not parse), admits the caller,
  // runs `op` and answers its bytes as the response.
  template <typename Request>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context, absl::string_view method,
                                  const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                  Op<Request> op, Dispatch dispatch = Dispatch::kQueued) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (dispatch == Dispatch::kInlineWhenIdle && inline_.TryEnter()) {
      grpc::Status status = Run<Request>(*context, std::string(method), *request, *response, op);
      inline_.Exit();
      reactor->Finish(std::move(status));
      return reactor;
    }
    executor_.Post([this, context, method = std::string(method), request, response, reactor,
                    op = std::move(op)] {
      reactor->Finish(Run<Request>(*context, method, *request, *response, op));
    });
    return reactor;
  }

 private:
  template <typename Request>
  grpc::Status Run(grpc::CallbackServerContext& context, const std::string& method,
                   const grpc::ByteBuffer& request_bytes, grpc::ByteBuffer& response,
                   const Op<Request>& op) const {
    absl::StatusOr<Request> parsed = ParseRequest<Request>(request_bytes);
    if (!parsed.ok()) return FinishRpc(context, method, parsed.status());
    const Request& request = *parsed;
    absl::StatusOr<Call> call = frame_->Admit(context, method, request);
    if (!call.ok()) return FinishRpc(context, method, call.status());
    absl::StatusOr<std::string> bytes = op(*call, request);
    if (!bytes.ok()) {
      if (absl::IsPermissionDenied(bytes.status())) {
        frame_->NoteRefusal(call->who, method, bytes.status());
      }
      return FinishRpc(context, method, bytes.status());
    }
    response = ByteBufferOf(*std::move(bytes));
    return FinishRpc(context, method, absl::OkStatus());
  }

  const RpcFrame* const frame_;
  StreamExecutor executor_;
  InlineGate inline_;
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_ENCODED_UNARY_H_
