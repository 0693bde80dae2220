#ifndef SMP_COMMON_SERVER_PERIODIC_TASK_H_
#define SMP_COMMON_SERVER_PERIODIC_TASK_H_

// A background job a service runs every so often (lapse booking holds, purge old idempotency keys,
// apply the retention policy): one thread, the job run once per interval, a failure logged and
// retried at the next tick, and a Stop() that returns promptly however long the interval is.

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smp {

class PeriodicTask {
 public:
  // `name` names the task in logs. The job runs first after `interval`, then every `interval`.
  PeriodicTask(std::string name, absl::Duration interval, std::function<absl::Status()> job);
  // Stops (as Stop) if still running.
  ~PeriodicTask();

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; at most once.
  void Start();
  // Wakes the thread and waits for it to end (a job already running finishes first). Idempotent.
  void Stop();
  // Runs the job now, on the caller's thread (tests, or an operator's "now").
  absl::Status RunOnce();
  // How many runs (on the thread or by RunOnce) have finished.
  int runs() const;

 private:
  void Loop();

  const std::string name_;
  const absl::Duration interval_;
  const std::function<absl::Status()> job_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace smp

#endif  // SMP_COMMON_SERVER_PERIODIC_TASK_H_
