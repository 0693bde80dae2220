#include "services/scheduling/change_feed.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/status/status_macros.h"
#include "common/util/validation.h"

namespace smp::scheduling {
namespace {

constexpr int kChangesPageDefault = 500;
constexpr int kChangesPageMax = 5000;

using StoredChange = SchedulingStore::StoredChange;

absl::Status ValidateSince(int64_t since_sequence) {
  if (since_sequence < 0) {
    return absl::InvalidArgumentError("since_sequence: must not be negative");
  }
  return absl::OkStatus();
}

// The request checked as List answers it: the page size it asks for, or the refusal.
absl::StatusOr<int> CheckListRequest(const Call& call, const v1::ListChangesRequest& req) {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateSince(req.since_sequence()));
  if (req.page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return req.page_size() == 0 ? kChangesPageDefault : std::min(req.page_size(), kChangesPageMax);
}

void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

std::string EncodeChangesPage(const std::vector<StoredChange>& changes, int64_t head) {
  // Field 1 (changes, length-delimited: tag 0x0A) once per change in order, then field 2
  // (head_sequence, varint: tag 0x10) unless it is 0, as proto3 serialises the message.
  size_t size = 1 + 10;
  for (const StoredChange& c : changes) size += 1 + VarintSize(c.bytes.size()) + c.bytes.size();
  std::string out;
  out.reserve(size);
  for (const StoredChange& c : changes) {
    out.push_back('\x0A');
    AppendVarint(out, c.bytes.size());
    out.append(c.bytes);
  }
  if (head != 0) {
    out.push_back('\x10');
    AppendVarint(out, static_cast<uint64_t>(head));
  }
  return out;
}

size_t RecentChanges::Take(const std::string& clinic_id, int64_t seen, size_t max,
                           std::deque<StoredChange>& out) const {
  absl::MutexLock lock(&mu_);
  auto it = by_clinic_.find(clinic_id);
  if (it == by_clinic_.end() || it->second.held.empty()) return 0;
  const std::deque<StoredChange>& held = it->second.held;
  if (seen + 1 < held.front().sequence || seen >= held.back().sequence) return 0;
  size_t n = 0;
  for (size_t i = static_cast<size_t>(seen + 1 - held.front().sequence); i < held.size() && n < max;
       ++i, ++n) {
    out.push_back(held[i]);
  }
  return n;
}

void RecentChanges::Offer(const std::string& clinic_id, const std::vector<StoredChange>& page) {
  if (page.empty()) return;
  absl::MutexLock lock(&mu_);
  std::deque<StoredChange>& held = by_clinic_[clinic_id].held;
  for (const StoredChange& c : page) {
    if (!held.empty() && c.sequence <= held.back().sequence) continue;          // held, or older
    if (!held.empty() && c.sequence != held.back().sequence + 1) held.clear();  // a gap: restart
    held.push_back(c);
  }
  while (held.size() > kPerClinic) held.pop_front();
}

uint64_t RecentChanges::Generation(const std::string& clinic_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_clinic_.find(clinic_id);
  return it == by_clinic_.end() ? 0 : it->second.generation;
}

void RecentChanges::NoteEmpty(const std::string& clinic_id, int64_t seen, uint64_t generation,
                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  Clinic& clinic = by_clinic_[clinic_id];
  if (clinic.generation != generation) return;  // committed since the read began: it may be stale
  clinic.empty_after = seen;
  clinic.empty_generation = generation;
  clinic.empty_at = now;
}

bool RecentChanges::KnownEmpty(const std::string& clinic_id, int64_t seen, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = by_clinic_.find(clinic_id);
  if (it == by_clinic_.end()) return false;
  const Clinic& clinic = it->second;
  return clinic.empty_after == seen && clinic.empty_generation == clinic.generation &&
         now >= clinic.empty_at && now - clinic.empty_at < kEmptyFor;
}

void RecentChanges::Committed(const std::string& clinic_id) {
  absl::MutexLock lock(&mu_);
  ++by_clinic_[clinic_id].generation;
}

absl::StatusOr<v1::ListChangesResponse> ChangeFeed::List(const Call& call,
                                                         const v1::ListChangesRequest& req) const {
  ASSIGN_OR_RETURN(const int limit, CheckListRequest(call, req));
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

absl::StatusOr<std::string> ChangeFeed::ListEncoded(const Call& call,
                                                    const v1::ListChangesRequest& req) const {
  ASSIGN_OR_RETURN(const int limit, CheckListRequest(call, req));
  std::string out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto changes,
                     store_->ListStoredChanges(txn, req.clinic_id(), req.since_sequence(), limit));
    ASSIGN_OR_RETURN(int64_t head, store_->HeadSequence(txn, req.clinic_id()));
    out = EncodeChangesPage(changes, head);
    return absl::OkStatus();
  }));
  return out;
}

namespace {

// A watch of one clinic's feed, giving `Message`s: v1::Change (parsed) or grpc::ByteBuffer (the
// stored encoding as it is). It holds at most one page of the feed.
template <typename Message>
class ChangeWatch final : public WatchSource<Message> {
  // What a page of the feed is read as.
  using Item = std::conditional_t<std::is_same_v<Message, v1::Change>, v1::Change, StoredChange>;

 public:
  // `recent` (nullptr: none) is shared with the process's other watches of encoded changes.
  ChangeWatch(Database* db, const SchedulingStore* store, RecentChanges* recent,
              std::string clinic_id, int64_t seen)
      : db_(db), store_(store), recent_(recent), clinic_id_(std::move(clinic_id)), seen_(seen) {}

  absl::StatusOr<std::optional<Message>> Next(const Call& call) override {
    RETURN_IF_ERROR(call.who.CheckClinic(clinic_id_));
    [[maybe_unused]] uint64_t generation = 0;  // of RecentChanges, before a read
    if constexpr (std::is_same_v<Item, StoredChange>) {
      if (pending_.empty() && recent_ != nullptr) {
        if (recent_->Take(clinic_id_, seen_, ChangeFeed::kWatchPage, pending_) == 0) {
          if (recent_->KnownEmpty(clinic_id_, seen_, call.now)) return std::nullopt;
          generation = recent_->Generation(clinic_id_);
        }
      }
    }
    if (pending_.empty()) {
      std::vector<Item> page;
      RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
        if constexpr (std::is_same_v<Item, v1::Change>) {
          ASSIGN_OR_RETURN(page,
                           store_->ListChanges(txn, clinic_id_, seen_, ChangeFeed::kWatchPage));
        } else {
          ASSIGN_OR_RETURN(
              page, store_->ListStoredChanges(txn, clinic_id_, seen_, ChangeFeed::kWatchPage));
        }
        return absl::OkStatus();
      }));
      if constexpr (std::is_same_v<Item, StoredChange>) {
        if (recent_ != nullptr) {
          if (page.empty()) {
            recent_->NoteEmpty(clinic_id_, seen_, generation, call.now);
          } else {
            recent_->Offer(clinic_id_, page);
          }
        }
      }
      for (Item& item : page) pending_.push_back(std::move(item));
    }
    if (pending_.empty()) return std::nullopt;
    Item next = std::move(pending_.front());
    pending_.pop_front();
    if constexpr (std::is_same_v<Item, v1::Change>) {
      seen_ = next.sequence();
      return next;
    } else {
      seen_ = next.sequence;
      grpc::Slice slice(next.bytes);
      return grpc::ByteBuffer(&slice, 1);
    }
  }

  // The rest of the page read last: Next gives it without reading the database.
  bool buffered() const override { return !pending_.empty(); }

  std::string wake_key() const override { return clinic_id_; }

 private:
  Database* const db_;
  const SchedulingStore* const store_;
  RecentChanges* const recent_;
  const std::string clinic_id_;
  int64_t seen_;  // the last sequence read from the feed
  std::deque<Item> pending_;
};

// OpenWatch's checks: the request and the caller's scope.
absl::Status CheckWatchRequest(const Call& call, const v1::WatchChangesRequest& req) {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateSince(req.since_sequence()));
  return call.who.CheckClinic(req.clinic_id());
}

}  // namespace

absl::StatusOr<std::unique_ptr<WatchSource<v1::Change>>> ChangeFeed::OpenWatch(
    const Call& call, const v1::WatchChangesRequest& req) const {
  RETURN_IF_ERROR(CheckWatchRequest(call, req));
  return std::make_unique<ChangeWatch<v1::Change>>(db_, store_, nullptr, req.clinic_id(),
                                                   req.since_sequence());
}

absl::StatusOr<std::unique_ptr<WatchSource<grpc::ByteBuffer>>> ChangeFeed::OpenEncodedWatch(
    const Call& call, const v1::WatchChangesRequest& req) const {
  RETURN_IF_ERROR(CheckWatchRequest(call, req));
  return std::make_unique<ChangeWatch<grpc::ByteBuffer>>(db_, store_, recent_.get(),
                                                         req.clinic_id(), req.since_sequence());
}

}  // namespace smp::scheduling
