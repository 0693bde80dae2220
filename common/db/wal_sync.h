#ifndef SMP_COMMON_DB_WAL_SYNC_H_
#define SMP_COMMON_DB_WAL_SYNC_H_

// Makes committed write-ahead-log appends durable after the write lock is released, one fsync for
// every commit that finished before it started.
//
// SQLite with synchronous=FULL fsyncs the WAL inside COMMIT, while it still holds the write lock,
// so the next batch of writers waits for the disk as well as for the CPU. With synchronous=NORMAL
// COMMIT only appends; the SQLite backend then numbers each commit (Appended, under its write
// lock) and, after unlocking, waits here until a sync that started after that append has finished
// (AwaitDurable). A commit is acknowledged only then, so an acknowledged write survives power loss
// exactly as with FULL; what changes is that the next batch appends while this one syncs, and
// that commits waiting together share one sync (the first waiter syncs for all).
//
// A failed sync is sticky: after fsync reports an error, Linux may have dropped the dirty pages it
// could not write and a later fsync can succeed without them, so no commit after it may be called
// durable (PostgreSQL stops the server for the same reason). Every later AwaitDurable answers
// UNAVAILABLE until the process restarts and SQLite recovers the log from the file.

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace smp {

class WalSync {
 public:
  // `sync` flushes the log file to stable storage (fdatasync); it returns OK or why not.
  explicit WalSync(std::function<absl::Status()> sync) : sync_(std::move(sync)) {}
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // Records that a commit's frames are in the file (written, not yet synced); returns its ticket.
  // Call in the order of the appends (under the database's write lock).
  int64_t Appended() {
    absl::MutexLock lock(&mu_);
    return ++appended_;
  }

  // Returns once every append up to `ticket` is on stable storage: OK, or the sync's error (and,
  // after any failed sync, UNAVAILABLE).
  absl::Status AwaitDurable(int64_t ticket);

  // Syncs that ran (tests: commits waiting together share one).
  int64_t syncs() const {
    absl::MutexLock lock(&mu_);
    return syncs_;
  }

 private:
  const std::function<absl::Status()> sync_;
  mutable absl::Mutex mu_;
  int64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t durable_ ABSL_GUARDED_BY(mu_) = 0;  // every ticket up to this one is synced
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);  // the first failed sync's error, for good
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smp

#endif  // SMP_COMMON_DB_WAL_SYNC_H_
