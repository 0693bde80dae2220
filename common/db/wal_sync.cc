#include "common/db/wal_sync.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace smp {

absl::Status WalSync::AwaitDurable(int64_t ticket) {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (!failed_.ok()) {
      return absl::UnavailableError(
          absl::StrCat("the write-ahead log could not be synced to disk (", failed_.message(),
                       "); no write is acknowledged until the service restarts"));
    }
    if (durable_ >= ticket) return absl::OkStatus();
    if (!syncing_) break;
    // Another waiter's sync is running; it may have started before our append, so wait for it
    // and look again (a sync of our own follows if it did not cover us).
    auto sync_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !syncing_; };
    mu_.Await(absl::Condition(&sync_done));
  }
  // This waiter syncs for every append made so far, its own included.
  syncing_ = true;
  const int64_t covers = appended_;
  mu_.Unlock();
  absl::Status status = sync_();
  mu_.Lock();
  syncing_ = false;
  ++syncs_;
  if (!status.ok()) {
    failed_ = status;
    return status;
  }
  if (covers > durable_) durable_ = covers;
  return absl::OkStatus();
}

}  // namespace smp
