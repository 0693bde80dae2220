#include "services/scheduling/change_feed.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/status/status_macros.h"
#include "common/util/validation.h"

namespace smp::scheduling {
namespace {

constexpr int kChangesPageDefault = 500;
constexpr int kChangesPageMax = 5000;

absl::Status ValidateSince(int64_t since_sequence) {
  if (since_sequence < 0) {
    return absl::InvalidArgumentError("since_sequence: must not be negative");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ListChangesResponse> ChangeFeed::List(const Call& call,
                                                         const v1::ListChangesRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateSince(req.since_sequence()));
  if (req.page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const int limit =
      req.page_size() == 0 ? kChangesPageDefault : std::min(req.page_size(), kChangesPageMax);
  v1::ListChangesResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto changes,
                     store_->ListChanges(txn, req.clinic_id(), req.since_sequence(), limit));
    for (v1::Change& c : changes) *out.add_changes() = std::move(c);
    ASSIGN_OR_RETURN(int64_t head, store_->HeadSequence(txn, req.clinic_id()));
    out.set_head_sequence(head);
    return absl::OkStatus();
  }));
  return out;
}

absl::Status ChangeFeed::Watch(const Call& call, const v1::WatchChangesRequest& req,
                               const Stream& stream) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateSince(req.since_sequence()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  int64_t seen = req.since_sequence();
  // Backlog first, then each change as it commits; the stream ends when the client goes away or
  // the server drains. A client resumes with the last sequence it received.
  while (!stream.cancelled() && !notifier_->stopped()) {
    std::vector<v1::Change> batch;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(batch, store_->ListChanges(txn, req.clinic_id(), seen, kChangesPageDefault));
      return absl::OkStatus();
    }));
    for (const v1::Change& c : batch) {
      if (!stream.write(c)) return absl::CancelledError("the watcher went away");
      seen = c.sequence();
    }
    if (static_cast<int>(batch.size()) == kChangesPageDefault) continue;  // more backlog
    notifier_->Wait(req.clinic_id(), seen, poll_interval_);
  }
  return stream.cancelled() ? absl::CancelledError("the watcher went away")
                            : absl::UnavailableError("the server is shutting down; resume later");
}

}  // namespace smp::scheduling
