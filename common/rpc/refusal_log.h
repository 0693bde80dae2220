#ifndef SMP_COMMON_RPC_REFUSAL_LOG_H_
#define SMP_COMMON_RPC_REFUSAL_LOG_H_

// The record of refused attempts (PERMISSION_DENIED: a role without the method's permission, or a
// clinic outside the caller's scope) in every service, aggregated so that a caller hammering a
// refused method cannot flood the log or the audit trail.
//
// Every refusal increments the Prometheus counter
//   smp_rpc_refusals_total{method="...",reason="MISSING_PERMISSION"|"OUTSIDE_CLINIC_SCOPE"|...}
// and is counted per (caller, method, reason) in windows of `window` (--refusal_window, 1m).
// Each (caller, method, reason) produces at most two summaries per window: the first refusal at
// once (count 1, so an attempt is seen without delay), and at the window's end one summary of the
// rest (count = how many more), if any. A summary is written to the JSON log as a warning
// ("refused attempts") and handed to the sink (compliance writes it to its audit log as one
// AUDIT_ACTION_DENIED entry with the count).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/server/periodic_task.h"
#include "common/util/clock.h"

namespace smp {

struct RefusalSummary {
  Principal who;            // the caller, as at the first refusal of the window
  std::string method;       // the RPC's short name
  std::string reason;       // the refusal's stable reason, e.g. OUTSIDE_CLINIC_SCOPE
  std::string message;      // the first refusal's message
  absl::Time window_start;  // the window's first refusal
  absl::Time window_end;    // the latest refusal counted in this summary
  int64_t count = 0;        // refusals this summary stands for
};

// The window length from --refusal_window (1m).
absl::Duration RefusalWindowFromFlags();

// Thread-safe. Summaries are emitted outside the lock, from Record's thread (the first of a
// window) or the log's own flushing thread (the rest).
class RefusalLog {
 public:
  using Sink = std::function<void(const RefusalSummary&)>;

  // `sink` may be empty; `clock` (times of refusals and window ends) must outlive the log. Starts
  // a thread that closes windows every `window` / 2 (at least 100 ms).
  explicit RefusalLog(Sink sink = nullptr, const Clock* clock = &Clock::Real(),
                      absl::Duration window = RefusalWindowFromFlags());
  // Closes every window (emitting what is pending) and stops the thread.
  ~RefusalLog();
  RefusalLog(const RefusalLog&) = delete;
  RefusalLog& operator=(const RefusalLog&) = delete;

  // Counts one refusal of `method` for `who` (an unauthenticated caller counts as "anonymous").
  void Record(const Principal& who, absl::string_view method, const absl::Status& refusal);

  // Emits the summaries of windows that ended by the clock's now (the thread calls it); returns
  // how many.
  int Flush();

 private:
  struct Window {
    RefusalSummary first;
    absl::Time last;
    int64_t more = 0;  // refusals after the first, not yet emitted
  };
  int FlushAt(absl::Time now);
  void Emit(const RefusalSummary& summary) const;

  const Sink sink_;
  const Clock* const clock_;
  const absl::Duration window_;
  absl::Mutex mu_;
  // Key: caller \0 method \0 reason.
  absl::flat_hash_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PeriodicTask> flusher_;
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_REFUSAL_LOG_H_
