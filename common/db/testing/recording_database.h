#ifndef SMP_COMMON_DB_TESTING_RECORDING_DATABASE_H_
#define SMP_COMMON_DB_TESTING_RECORDING_DATABASE_H_

// Test-only: a Database that passes every transaction to another one and remembers which write
// queue (WriteQueue, common/db/database.h) each write transaction named, so that a unit test can
// check that an operation advancing a hot row queues its writers on the right key.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/db/database.h"

namespace smp::testing {

class RecordingDatabase final : public Database {
 public:
  // `inner` must outlive this.
  explicit RecordingDatabase(Database* inner) : inner_(inner) {}

  SqlDialect dialect() const override { return inner_->dialect(); }

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    if (mode != TxMode::kRead) Record("");
    return inner_->Begin(mode);
  }

  absl::StatusOr<std::unique_ptr<Transaction>> BeginQueued(TxMode mode,
                                                           const WriteQueue& queue) override {
    if (mode != TxMode::kRead) Record(queue.key);
    return inner_->BeginQueued(mode, queue);
  }

  // The queue key of every write transaction begun so far ("" for none), in order; and forgets
  // them.
  std::vector<std::string> TakeWriteQueues() {
    std::vector<std::string> taken;
    absl::MutexLock lock(&mu_);
    taken.swap(write_queues_);
    return taken;
  }

 private:
  void Record(const std::string& key) {
    absl::MutexLock lock(&mu_);
    write_queues_.push_back(key);
  }

  Database* inner_;
  absl::Mutex mu_;
  std::vector<std::string> write_queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp::testing

#endif  // SMP_COMMON_DB_TESTING_RECORDING_DATABASE_H_
