#ifndef SMP_SERVICES_SCHEDULING_CHANGE_NOTIFIER_H_
#define SMP_SERVICES_SCHEDULING_CHANGE_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smp::scheduling {

// Wakes WatchChanges streams when this process commits a change to a clinic's feed. Streams also
// poll the database at a short interval, which is how they see changes other replicas commit.
class ChangeNotifier {
 public:
  // Records that `clinic_id`'s feed reached `head` and wakes its watchers.
  void Notify(const std::string& clinic_id, int64_t head);
  // Returns when the clinic's feed passes `seen`, `timeout` passes, or Stop() is called.
  void Wait(const std::string& clinic_id, int64_t seen, absl::Duration timeout);
  // Wakes every watcher for good (shutdown).
  void Stop();
  bool stopped() const;
  // Also calls `listener` with the clinic id after each Notify (outside the lock): WatchChanges
  // streams on the callback API wait as delayed tasks, not in Wait. Set before serving.
  void OnNotify(std::function<void(const std::string& clinic_id)> listener);

 private:
  std::function<void(const std::string&)> listener_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> heads_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CHANGE_NOTIFIER_H_
