#include "common/server/periodic_task.h"

#include <utility>

#include "common/server/log.h"

namespace smp {

PeriodicTask::PeriodicTask(std::string name, absl::Duration interval,
                           std::function<absl::Status()> job)
    : name_(std::move(name)), interval_(interval), job_(std::move(job)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status PeriodicTask::RunOnce() {
  absl::Status status = job_();
  if (!status.ok()) {
    LogWarning("periodic task failed; retrying at the next tick",
               {{"task", name_}, {"error", status.ToString()}});
  }
  absl::MutexLock lock(&mu_);
  ++runs_;
  return status;
}

int PeriodicTask::runs() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

void PeriodicTask::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Sleeps for the interval unless Stop() wakes it first.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_);
      if (stopping_) return;
    }
    RunOnce().IgnoreError();
  }
}

}  // namespace smp
