#ifndef SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
#define SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_

// Branch sync: a clinic's appointment changes in sequence order, pulled a page at a time
// (ListChanges) or streamed as they commit (WatchChanges).

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/scheduling/change_notifier.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class ChangeFeed {
 public:
  // How a Watch hands changes to its client and learns that the client went away.
  struct Stream {
    // Sends one change; false when the client is gone.
    std::function<bool(const v1::Change&)> write;
    // True once the client cancelled the call.
    std::function<bool()> cancelled;
  };

  // Every pointer must outlive the unit. Watchers look at the database every `poll_interval` for
  // changes other replicas committed (this process's commits wake them at once via `notifier`).
  ChangeFeed(Database* db, const SchedulingStore* store, ChangeNotifier* notifier,
             absl::Duration poll_interval)
      : db_(db), store_(store), notifier_(notifier), poll_interval_(poll_interval) {}

  // Up to page_size (default 500, at most 5000) changes after since_sequence, and the feed's head.
  absl::StatusOr<v1::ListChangesResponse> List(const Call& call,
                                               const v1::ListChangesRequest& req) const;
  // The backlog after since_sequence, then each change as it commits, until the client goes away
  // (CANCELLED) or the server drains (UNAVAILABLE: resume with the last sequence received).
  absl::Status Watch(const Call& call, const v1::WatchChangesRequest& req,
                     const Stream& stream) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
  ChangeNotifier* notifier_;
  absl::Duration poll_interval_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CHANGE_FEED_H_
