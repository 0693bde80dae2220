#ifndef SMP_COMMON_RPC_CALLBACK_UNARY_H_
#define SMP_COMMON_RPC_CALLBACK_UNARY_H_

// The unary RPCs of a service that also has callback-API methods (streams that hold no thread,
// raw encoded answers), served on the callback API as well: one API per server. gRPC 1.51
// (Debian 12) stalls a sync-API call of a server that mixes both about 100 ms now and then; on
// the benchmark's bookings that was a p99.9 of 106-133 ms, where the same handler served here
// showed 17-44 ms (README, "Benchmarks").
//
// The handler is the sync override's body, RpcFrame::Serve and all; it reads and writes a
// database and waits for the log's sync, so it runs on this unit's threads, not on gRPC's
// callback threads (ServeRead lets a short read run there, one at a time). A service's override
// is one statement:
//
//   grpc::ServerUnaryReactor* SchedulingServiceImpl::GetPatient(grpc::CallbackServerContext* ctx,
//                                                               const v1::GetPatientRequest* req,
//                                                               v1::Patient* out) {
//     return unary_.Serve(ctx, [=, this] {
//       return frame_.Serve(ctx, "GetPatient", *req, out,
//                           [&](const Call& call) { return patients_.Get(call, *req); });
//     });
//   }
//
// `req` and `out` stay valid until the reactor finishes, which is after the handler returned.
// A write that is answered later (Database::RunAsync: BookAppointment, IssueToProcedure) goes
// through ServeAsync and RpcFrame::ServeAsync instead, and holds no thread while it is synced.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "common/rpc/inline_gate.h"
#include "common/rpc/stream_guard.h"

namespace smp {

class CallbackUnary {
 public:
  // `threads` run the handlers: enough for the writes waiting together on one log sync (group
  // commit) at the concurrency a service expects; a call beyond them waits in the queue.
  explicit CallbackUnary(int threads) : executor_(threads) {}

  // Runs `handler` on this unit's threads and finishes the call with its status.
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  std::function<grpc::Status()> handler) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    executor_.Post([reactor, handler = std::move(handler)] { reactor->Finish(handler()); });
    return reactor;
  }

  // As Serve, for a handler that finishes the call later through the callback it is given (an
  // operation whose write is answered by Database::RunAsync): no thread is held while the write is
  // made durable. What runs before the write is short (checks, in the common case from memory), so
  // the handler runs at once on gRPC's thread while no other handler of this unit does
  // (InlineGate), saving two thread switches a call (tools/bench's bookings at c=16: 10-25% more a
  // second); else on this unit's threads.
  grpc::ServerUnaryReactor* ServeAsync(
      grpc::CallbackServerContext* context,
      std::function<void(absl::AnyInvocable<void(grpc::Status) &&>)> handler) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto finish = [reactor](grpc::Status status) { reactor->Finish(std::move(status)); };
    if (inline_.TryEnter()) {
      handler(finish);
      inline_.Exit();
      return reactor;
    }
    executor_.Post([handler = std::move(handler), finish] { handler(finish); });
    return reactor;
  }

  // As Serve, for a short read (no write, no log sync to wait for): runs it at once on gRPC's
  // thread while no other read of this unit does (InlineGate), else on this unit's threads.
  grpc::ServerUnaryReactor* ServeRead(grpc::CallbackServerContext* context,
                                      std::function<grpc::Status()> handler) {
    if (!inline_.TryEnter()) return Serve(context, std::move(handler));
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    grpc::Status status = handler();
    inline_.Exit();
    reactor->Finish(std::move(status));
    return reactor;
  }

 private:
  StreamExecutor executor_;
  InlineGate inline_;
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_CALLBACK_UNARY_H_
