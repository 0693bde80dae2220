#include "services/scheduling/change_notifier.h"

#include <algorithm>
#include <utility>

namespace smp::scheduling {

void ChangeNotifier::Notify(const std::string& clinic_id, int64_t head) {
  {
    absl::MutexLock lock(&mu_);
    int64_t& known = heads_[clinic_id];
    known = std::max(known, head);
  }
  if (listener_) listener_(clinic_id);
}

void ChangeNotifier::OnNotify(std::function<void(const std::string& clinic_id)> listener) {
  listener_ = std::move(listener);
}

void ChangeNotifier::Wait(const std::string& clinic_id, int64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto moved = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopped_) return true;
    auto it = heads_.find(clinic_id);
    return it != heads_.end() && it->second > seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&moved), timeout);
}

void ChangeNotifier::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

bool ChangeNotifier::stopped() const {
  absl::MutexLock lock(&mu_);
  return stopped_;
}

}  // namespace smp::scheduling
