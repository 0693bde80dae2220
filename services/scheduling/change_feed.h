#ifndef SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
#define SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_

// Branch sync: a clinic's appointment changes in sequence order, pulled a page at a time
// (ListChanges) or streamed as they commit (WatchChanges).
//
// The feed stores each change's `Change` encoding when it commits. The service serves both RPCs
// from those bytes (ListEncoded, OpenEncodedWatch): a page is the stored encodings framed as field
// 1 of ListChangesResponse plus the head, and a stream message is one stored encoding, so no change
// is parsed and serialised again on the way out. List and OpenWatch give the same changes as
// messages (tests, in-process callers); the encoded forms are byte-identical to their
// serialisation.

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "common/rpc/stream_guard.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// The latest changes read from the feed, per clinic, shared by a process's watches: the watchers
// a commit wakes read the database once between them, not once each. It holds only runs of
// changes as read from the database, in order and without gaps (a clinic's writers commit one at
// a time, so the feed has none), at most kPerClinic (the latest) per clinic. Thread-safe.
class RecentChanges {
 public:
  static constexpr size_t kPerClinic = 500;

  // Appends to `out` the changes after `seen` that it holds, at most `max`, in order; how many.
  size_t Take(const std::string& clinic_id, int64_t seen, size_t max,
              std::deque<SchedulingStore::StoredChange>& out) const;
  // Records `page`, a run of the clinic's changes as read from the database. A run that follows
  // the held one extends it; a later one with a gap replaces it; older ones change nothing.
  void Offer(const std::string& clinic_id, const std::vector<SchedulingStore::StoredChange>& page);

  // Empty reads. After each change, every watch of the clinic asks the database once more and
  // finds nothing; one such answer serves the others. A watch takes Generation() before its read;
  // NoteEmpty(..., generation) records that nothing followed `seen`, unless this process committed
  // to the clinic since (Committed moves the generation on, before the watches are woken).
  // KnownEmpty is true while that record stands, for at most kEmptyFor (other replicas' commits
  // are seen by the poll, which is far longer).
  static constexpr absl::Duration kEmptyFor = absl::Milliseconds(50);
  uint64_t Generation(const std::string& clinic_id) const;
  void NoteEmpty(const std::string& clinic_id, int64_t seen, uint64_t generation, absl::Time now);
  bool KnownEmpty(const std::string& clinic_id, int64_t seen, absl::Time now) const;
  // This process committed a change to the clinic's feed (call before waking its watches).
  void Committed(const std::string& clinic_id);

 private:
  struct Clinic {
    std::deque<SchedulingStore::StoredChange> held;
    uint64_t generation = 0;
    int64_t empty_after = -1;       // a read after this sequence found nothing...
    uint64_t empty_generation = 0;  // ...in this generation...
    absl::Time empty_at;            // ...at this time
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Clinic> by_clinic_ ABSL_GUARDED_BY(mu_);
};

class ChangeFeed {
 public:
  // Changes a WatchChanges stream reads from the database at a time (its backlog in pages of this
  // many, each stream holding at most one page).
  static constexpr int kWatchPage = 500;

  // Every pointer must outlive the unit.
  ChangeFeed(Database* db, const SchedulingStore* store) : db_(db), store_(store) {}

  // Up to page_size (default 500, at most 5000) changes after since_sequence, and the feed's head.
  absl::StatusOr<v1::ListChangesResponse> List(const Call& call,
                                               const v1::ListChangesRequest& req) const;
  // List's answer as the bytes of a ListChangesResponse, built from the stored encodings (the
  // same validation, scope check and errors as List).
  absl::StatusOr<std::string> ListEncoded(const Call& call,
                                          const v1::ListChangesRequest& req) const;

  // A WatchChanges stream of the clinic's changes after since_sequence: the backlog, then each
  // change as it commits. Validates the request and the caller's clinic scope now; the source
  // checks the scope again at every step (with the caller as re-checked by the stream) and reads
  // pages of the feed as it is asked. Its wake key is the clinic id (ChangeNotifier wakes it when
  // this process commits; the stream's poll interval finds other replicas' commits).
  absl::StatusOr<std::unique_ptr<WatchSource<v1::Change>>> OpenWatch(
      const Call& call, const v1::WatchChangesRequest& req) const;
  // This process committed a change to the clinic's feed: call before waking its watches.
  void Committed(const std::string& clinic_id) const { recent_->Committed(clinic_id); }

  // OpenWatch giving each change as its stored encoding (what the stream writes as it is). The
  // feed's watches share their reads through one RecentChanges.
  absl::StatusOr<std::unique_ptr<WatchSource<grpc::ByteBuffer>>> OpenEncodedWatch(
      const Call& call, const v1::WatchChangesRequest& req) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
  std::unique_ptr<RecentChanges> recent_ = std::make_unique<RecentChanges>();
};

// The bytes of a ListChangesResponse whose `changes` are the given encodings of `Change` (in
// order) and whose head_sequence is `head`: what serialising the parsed response gives.
std::string EncodeChangesPage(const std::vector<SchedulingStore::StoredChange>& changes,
                              int64_t head);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
