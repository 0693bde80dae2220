#ifndef SMP_COMMON_RPC_STREAM_GUARD_H_
#define SMP_COMMON_RPC_STREAM_GUARD_H_

// Long-lived server streams ("watches": scheduling's WatchChanges, inventory's WatchLowStock) that
// neither outlive their caller's session nor hold a server thread each.
//
//  - StreamGuard: the rules. A stream is opened for an admitted Call and takes a slot of two caps
//    (per session, per service; RESOURCE_EXHAUSTED naming the cap). While it runs it re-checks its
//    caller at least every `recheck_interval` (the services pass --auth_cache_ttl), so a revoked
//    session, a disabled account or a removed role ends it (UNAUTHENTICATED / PERMISSION_DENIED).
//  - StreamExecutor: a few threads on which every watch of a service does its blocking work
//    (SQLite reads, Redis re-checks) and waits, as delayed tasks rather than blocked threads.
//  - WatchStreams: the two wired to gRPC's callback API. A service's override is one statement:
//
//      grpc::ServerWriteReactor<v1::Change>* SchedulingServiceImpl::WatchChanges(
//          grpc::CallbackServerContext* ctx, const v1::WatchChangesRequest* req) {
//        return streams_.Serve<v1::Change>(ctx, "WatchChanges", poll,
//                                          [this, req](const Call& call) {
//                                            return feed_.OpenWatch(call, *req);
//                                          });
//      }
//
//    The operation returns a WatchSource: Next() gives the next message or "nothing now"; the
//    stream then waits `poll_interval` (or until Wake(source's wake_key())) and asks again.
//    gRPC's callback threads never block: each step runs on the StreamExecutor.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/rpc/call.h"
#include "common/rpc/finish.h"
#include "common/rpc/frame.h"
#include "common/status/status_macros.h"

namespace smp {

struct StreamLimits {
  // Open streams of one session (one login), over all watch methods of the service.
  int max_per_session = 8;
  // Open streams of the whole service process.
  int max_per_service = 256;
  // A stream re-checks its caller's session at least this often; 0 = before every message.
  absl::Duration recheck_interval = absl::Milliseconds(500);
  // Threads of the service's StreamExecutor.
  int threads = 2;
};

// From the flags (each also SMP_<NAME>): --max_streams_per_session (8), --max_streams (256),
// --stream_threads (2), and --auth_cache_ttl as the re-check interval. Exits on a value < 1.
StreamLimits StreamLimitsFromFlags();

// The caps and the periodic re-check. Thread-safe.
class StreamGuard {
 public:
  // Checks a caller again: the Call of `method` for the authorization header value (what
  // RpcFrame::CallFor does), or the refusal.
  using Recheck = std::function<absl::StatusOr<Call>(absl::string_view authorization,
                                                     absl::string_view method)>;

  // One open stream's slot and its caller. Destroying it frees the slot.
  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // The caller as last checked; `now` is the time of the latest Recheck.
    const Call& call() const { return call_; }
    // Sets call().now to `now` and, when `recheck_interval` has passed since the last check, checks
    // the caller again: UNAUTHENTICATED once the session is revoked, expired or unknown (the
    // account was disabled, or logged out), PERMISSION_DENIED once its roles no longer allow the
    // method, UNAVAILABLE when the session store cannot answer. A refusal is final: the stream
    // must end with it.
    absl::Status Recheck(absl::Time now);
    // When the next Recheck will ask again.
    absl::Time next_check() const { return checked_ + guard_->limits_.recheck_interval; }

   private:
    friend class StreamGuard;
    Lease(StreamGuard* guard, Call call, std::string authorization, std::string session);

    StreamGuard* const guard_;
    Call call_;
    const std::string authorization_;
    const std::string session_;
    absl::Time checked_;
  };

  StreamGuard(StreamLimits limits, Recheck recheck);

  // Takes a slot for a stream of `admitted` (a Call the frame has just authorised at
  // admitted.now, from the `authorization` header value). RESOURCE_EXHAUSTED, naming the cap and
  // its flag, when the session or the service has no slot left.
  absl::StatusOr<std::unique_ptr<Lease>> Open(Call admitted, std::string authorization);

  int open_streams() const;
  const StreamLimits& limits() const { return limits_; }

 private:
  void Release(const std::string& session);

  const StreamLimits limits_;
  const Recheck recheck_;
  mutable absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_session_ ABSL_GUARDED_BY(mu_);
};

// A few threads running tasks now or at a time, for blocking work off gRPC's callback threads.
// Thread-safe.
class StreamExecutor {
 public:
  explicit StreamExecutor(int threads);
  // Stop(), runs what is still queued, joins the threads. Nothing may be posted afterwards.
  ~StreamExecutor();

  // Runs `task` soon.
  void Post(std::function<void()> task);
  // Runs `task` at `when`, or earlier at Wake(key) (an empty key is woken only by Stop).
  void PostAt(absl::Time when, std::string key, std::function<void()> task);
  // Runs now the tasks waiting with `key`.
  void Wake(absl::string_view key);
  // From now on every waiting and future delayed task runs at once, and stopping() is true.
  void Stop();
  bool stopping() const;

 private:
  struct Delayed {
    std::string key;
    std::function<void()> task;
  };
  void Work();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> ready_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, Delayed> waiting_ ABSL_GUARDED_BY(mu_);
  uint64_t earliest_changed_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool exit_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// What a watch sends. Its methods run one at a time, on the StreamExecutor, except that Next runs
// on gRPC's callback thread (right after the previous write completed) when buffered() said it
// would not block.
template <typename Response>
class WatchSource {
 public:
  virtual ~WatchSource() = default;
  // The next message, or nullopt when there is none now (the stream asks again after its poll
  // interval or a Wake of wake_key()). An error ends the stream with it. `call` is the caller as
  // re-checked, with `now` the time of this step.
  virtual absl::StatusOr<std::optional<Response>> Next(const Call& call) = 0;
  // True when the next Next() has its message at hand: it neither reads a database nor waits. The
  // stream then writes it at once, corked with the ones before (buffer hint), without a trip
  // through the StreamExecutor.
  virtual bool buffered() const { return false; }
  // The key whose Wake makes a waiting stream ask again at once ("" = none).
  virtual std::string wake_key() const { return ""; }
};

// A service's watch streams: its StreamGuard and StreamExecutor and the callback-API reactor that
// runs them. Must outlive the gRPC server that serves its streams (declare it in the service).
class WatchStreams {
 public:
  template <typename Response>
  using Opener =
      std::function<absl::StatusOr<std::unique_ptr<WatchSource<Response>>>(const Call& call)>;

  // `frame` (admission, re-checks, clock) must outlive this object.
  WatchStreams(const RpcFrame* frame, StreamLimits limits);

  // The reactor of one watch: admits the caller (frame), takes a slot (guard), opens the source
  // with the admitted Call (its error ends the stream), then sends what the source gives,
  // re-checking the caller at the guard's interval. Ends with CANCELLED when the client goes,
  // UNAVAILABLE
  // ("resume later") after Stop(), or the first refusal or error. `poll_interval` bounds how long
  // an idle stream waits before asking its source again.
  template <typename Response>
  grpc::ServerWriteReactor<Response>* Serve(grpc::CallbackServerContext* context,
                                            absl::string_view method, absl::Duration poll_interval,
                                            Opener<Response> open);

  // Makes waiting streams whose source's wake_key() is `key` ask again now.
  void Wake(absl::string_view key) { executor_.Wake(key); }
  // Ends every stream with UNAVAILABLE (call before draining the server). Idempotent.
  void Stop() { executor_.Stop(); }

  StreamGuard& guard() { return guard_; }
  StreamExecutor& executor() { return executor_; }
  const RpcFrame& frame() const { return *frame_; }

 private:
  const RpcFrame* const frame_;
  StreamGuard guard_;
  StreamExecutor executor_;
};

// The authorization header of a call ("" if absent).
std::string AuthorizationOf(const grpc::ServerContextBase& context);

namespace internal {

template <typename Response>
class WatchReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  WatchReactor(WatchStreams* streams, grpc::CallbackServerContext* context,
               absl::string_view method, absl::Duration poll_interval,
               WatchStreams::Opener<Response> open)
      : streams_(streams),
        context_(context),
        method_(method),
        poll_interval_(poll_interval),
        open_(std::move(open)) {
    streams_->executor().Post([this] { Step(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) gone_.store(true);
    // The source's next message is at hand and the caller is not due for a re-check: write it
    // from this callback, which neither blocks nor touches the StreamExecutor.
    if (ok && source_->buffered()) {
      const absl::Time now = streams_->frame().clock().Now();
      if (now < lease_->next_check()) {
        Step(now);
        return;
      }
    }
    streams_->executor().Post([this] { Step(); });
  }
  void OnCancel() override { gone_.store(true); }
  void OnDone() override { delete this; }

 private:
  // Exactly one continuation of a stream is pending at a time (a posted step, a delayed step or a
  // write), so steps never overlap, and after Finish nothing of this object is touched again.
  void Step() { Step(streams_->frame().clock().Now()); }
  void Step(absl::Time now) {
    absl::Status status = Advance(now);
    if (status.ok()) return;
    // A scope refusal after admission (the frame recorded the role refusals of Admit).
    if (absl::IsPermissionDenied(status) && lease_ != nullptr) {
      streams_->frame().NoteRefusal(lease_->call().who, method_, status);
    }
    source_.reset();
    lease_.reset();  // frees the slot before the client sees the end
    this->Finish(FinishRpc(*context_, method_, std::move(status)));
  }

  // OK when a write was started or the next step scheduled; otherwise how the stream ends.
  absl::Status Advance(absl::Time now) {
    if (gone_.load()) return absl::CancelledError("the watcher went away");
    if (streams_->executor().stopping()) {
      return absl::UnavailableError("the server is shutting down; resume later");
    }
    if (lease_ == nullptr) {
      ASSIGN_OR_RETURN(Call admitted, streams_->frame().Admit(*context_, method_));
      ASSIGN_OR_RETURN(lease_,
                       streams_->guard().Open(std::move(admitted), AuthorizationOf(*context_)));
      ASSIGN_OR_RETURN(source_, open_(lease_->call()));
    } else {
      RETURN_IF_ERROR(lease_->Recheck(now));
    }
    ASSIGN_OR_RETURN(std::optional<Response> next, source_->Next(lease_->call()));
    if (next.has_value()) {
      message_ = *std::move(next);
      // More at hand: let gRPC hold this one and send the run together (a write without the hint
      // flushes it). Never the first message: gRPC (1.51) then holds the response headers back
      // too, and once the held run passes its write buffer (64 KiB) it completes no write of
      // it, so a first page of that size stalled the watch until its deadline.
      grpc::WriteOptions options;
      if (sent_any_ && source_->buffered()) options.set_buffer_hint();
      sent_any_ = true;
      this->StartWrite(&message_, options);
      return absl::OkStatus();
    }
    // Ask again after the poll interval, or sooner when the caller is due for a re-check (with
    // a zero interval every step re-checks, and steps come at least every poll interval).
    absl::Time wake = now + poll_interval_;
    if (streams_->guard().limits().recheck_interval > absl::ZeroDuration()) {
      wake = std::min(wake, lease_->next_check());
    }
    streams_->executor().PostAt(wake, source_->wake_key(), [this] { Step(); });
    return absl::OkStatus();
  }

  WatchStreams* const streams_;
  grpc::CallbackServerContext* const context_;
  const std::string method_;
  const absl::Duration poll_interval_;
  const WatchStreams::Opener<Response> open_;
  std::atomic<bool> gone_{false};
  bool sent_any_ = false;  // a message was written (the response headers went with it)
  std::unique_ptr<StreamGuard::Lease> lease_;
  std::unique_ptr<WatchSource<Response>> source_;
  Response message_;
};

}  // namespace internal

template <typename Response>
grpc::ServerWriteReactor<Response>* WatchStreams::Serve(grpc::CallbackServerContext* context,
                                                        absl::string_view method,
                                                        absl::Duration poll_interval,
                                                        Opener<Response> open) {
  return new internal::WatchReactor<Response>(this, context, method, poll_interval,
                                              std::move(open));
}

}  // namespace smp

#endif  // SMP_COMMON_RPC_STREAM_GUARD_H_
