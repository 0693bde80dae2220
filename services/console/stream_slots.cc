#include "services/console/stream_slots.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"

namespace smp::console {

StreamSlots::StreamSlots(int max_total, int max_per_session)
    : max_total_(max_total), max_per_session_(max_per_session) {
  if (max_total <= 0 || max_per_session <= 0) {
    std::fprintf(stderr, "StreamSlots: limits must be positive (total %d, per session %d)\n",
                 max_total, max_per_session);
    std::abort();
  }
}

StreamSlots::Slot::~Slot() { owner_->Release(session_); }

absl::StatusOr<std::unique_ptr<StreamSlots::Slot>> StreamSlots::Acquire(
    const std::string& session) {
  absl::MutexLock lock(&mu_);
  int& mine = per_session_[session];
  if (mine >= max_per_session_) {
    if (mine == 0) per_session_.erase(session);
    return WithErrorInfo(
        absl::UnavailableError(absl::StrCat(
            "this session already has ", max_per_session_,
            " live streams open (calendars, reports) in the console, the most it may; close "
            "another console tab or wait for a report to finish, then try again")),
        kReasonTooManyStreams, {{"limit", "session"}});
  }
  if (open_ >= max_total_) {
    if (mine == 0) per_session_.erase(session);
    return WithErrorInfo(
        absl::UnavailableError(absl::StrCat(
            "the console is serving ", max_total_,
            " live streams, the most it may at once; try again in a moment (ordinary pages "
            "still work)")),
        kReasonTooManyStreams, {{"limit", "console"}});
  }
  ++mine;
  ++open_;
  return std::unique_ptr<Slot>(new Slot(this, session));
}

void StreamSlots::Release(const std::string& session) {
  absl::MutexLock lock(&mu_);
  --open_;
  auto it = per_session_.find(session);
  if (it != per_session_.end() && --it->second <= 0) per_session_.erase(it);
}

int StreamSlots::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

}  // namespace smp::console
