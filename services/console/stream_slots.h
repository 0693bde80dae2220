#ifndef SMP_SERVICES_CONSOLE_STREAM_SLOTS_H_
#define SMP_SERVICES_CONSOLE_STREAM_SLOTS_H_

// How many event streams (WatchChanges, report generation) the gateway serves at once. cpp-httplib
// (0.11, Debian 12) writes a response from the worker thread that serves its request, and has no
// way to hand a long response back to an event loop, so each open stream holds one of the
// gateway's `--http_threads` workers until it ends (the gRPC side is a callback reactor and holds
// no thread). Without a bound, a few browsers with many tabs would take every worker and the
// console would stop answering even logins. So streams are counted: at most `max_total` at once
// (kept below the worker count, so ordinary requests always find a worker) and at most
// `max_per_session` for one session; beyond that a stream is refused at once with UNAVAILABLE
// (HTTP 503) saying which limit is full, and the page retries later. Thread-safe.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace smp::console {

// ErrorInfo reason of the refusal (metadata `limit`: "session" or "console").
inline constexpr char kReasonTooManyStreams[] = "TOO_MANY_STREAMS";

class StreamSlots {
 public:
  // Held while a stream is open; gives its slot back when destroyed.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    friend class StreamSlots;
    Slot(StreamSlots* owner, std::string session) : owner_(owner), session_(std::move(session)) {}
    StreamSlots* owner_;
    std::string session_;
  };

  // Both limits must be positive (aborts otherwise: bad configuration).
  StreamSlots(int max_total, int max_per_session);

  // A slot for one more stream of `session` (any stable key of the session; "" for requests
  // without one), or UNAVAILABLE (reason TOO_MANY_STREAMS) naming the limit that is full.
  absl::StatusOr<std::unique_ptr<Slot>> Acquire(const std::string& session);

  int open() const;

 private:
  void Release(const std::string& session);

  const int max_total_, max_per_session_;
  mutable absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_session_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp::console

#endif  // SMP_SERVICES_CONSOLE_STREAM_SLOTS_H_
