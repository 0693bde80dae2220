#include "services/scheduling/change_feed.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
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

namespace {

class ChangeWatch final : public WatchSource<v1::Change> {
 public:
  ChangeWatch(Database* db, const SchedulingStore* store, std::string clinic_id, int64_t seen)
      : db_(db), store_(store), clinic_id_(std::move(clinic_id)), seen_(seen) {}

  absl::StatusOr<std::optional<v1::Change>> Next(const Call& call) override {
    RETURN_IF_ERROR(call.who.CheckClinic(clinic_id_));
    if (pending_.empty()) {
      std::vector<v1::Change> batch;
      RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(batch, store_->ListChanges(txn, clinic_id_, seen_, kChangesPageDefault));
        return absl::OkStatus();
      }));
      for (v1::Change& c : batch) pending_.push_back(std::move(c));
    }
    if (pending_.empty()) return std::nullopt;
    v1::Change next = std::move(pending_.front());
    pending_.pop_front();
    seen_ = next.sequence();
    return next;
  }

  std::string wake_key() const override { return clinic_id_; }

 private:
  Database* const db_;
  const SchedulingStore* const store_;
  const std::string clinic_id_;
  int64_t seen_;  // the last sequence read from the feed
  std::deque<v1::Change> pending_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WatchSource<v1::Change>>> ChangeFeed::OpenWatch(
    const Call& call, const v1::WatchChangesRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateSince(req.since_sequence()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return std::make_unique<ChangeWatch>(db_, store_, req.clinic_id(), req.since_sequence());
}

}  // namespace smp::scheduling
