#ifndef SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
#define SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_

// Branch sync: a clinic's appointment changes in sequence order, pulled a page at a time
// (ListChanges) or streamed as they commit (WatchChanges).

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "common/rpc/stream_guard.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class ChangeFeed {
 public:
  // Every pointer must outlive the unit.
  ChangeFeed(Database* db, const SchedulingStore* store) : db_(db), store_(store) {}

  // Up to page_size (default 500, at most 5000) changes after since_sequence, and the feed's head.
  absl::StatusOr<v1::ListChangesResponse> List(const Call& call,
                                               const v1::ListChangesRequest& req) const;
  // A WatchChanges stream of the clinic's changes after since_sequence: the backlog, then each
  // change as it commits. Validates the request and the caller's clinic scope now; the source
  // checks the scope again at every step (with the caller as re-checked by the stream) and reads
  // pages of the feed as it is asked. Its wake key is the clinic id (ChangeNotifier wakes it when
  // this process commits; the stream's poll interval finds other replicas' commits).
  absl::StatusOr<std::unique_ptr<WatchSource<v1::Change>>> OpenWatch(
      const Call& call, const v1::WatchChangesRequest& req) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
