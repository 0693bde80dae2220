#include "services/inventory/appointment_feed.h"

#include <optional>
#include <utility>
#include <vector>

#include "common/server/log.h"
#include "common/status/status_macros.h"

namespace smp::inventory {

absl::Status AppointmentFeed::Poll() {
  std::vector<std::string> clinics;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(clinics, store_.ClinicsWithSettings(txn));
    return absl::OkStatus();
  }));
  absl::Status unanswered;
  for (const std::string& clinic : clinics) {
    absl::Status followed = Follow(clinic);
    if (!followed.ok() && unanswered.ok()) unanswered = std::move(followed);
  }
  if (!unanswered.ok() && !failing_) {
    LogWarning(
        "scheduling's change feed cannot be read; issues ask scheduling for each new appointment",
        {{"error", unanswered.ToString()}});
  } else if (unanswered.ok() && failing_) {
    LogInfo("scheduling's change feed is read again");
  }
  failing_ = !unanswered.ok();
  return absl::OkStatus();
}

absl::Status AppointmentFeed::Follow(const std::string& clinic_id) {
  std::optional<int64_t> position;  // empty until the clinic's start is known
  {
    absl::MutexLock lock(&mu_);
    auto it = positions_.find(clinic_id);
    if (it != positions_.end()) position = it->second;
  }
  absl::Status status;
  for (int page = 0; page < kMaxPagesPerPass; ++page) {
    const int64_t since = position.value_or(0);
    absl::StatusOr<PlacesPage> read = changes_->ListPlaces(clinic_id, since, kPageSize);
    if (!read.ok()) {
      status = read.status();
      break;
    }
    if (read->head_sequence < since) {
      // The feed is shorter than what was read of it (scheduling's database restored from a
      // backup): start over from its backlog.
      position.reset();
      continue;
    }
    if (!position.has_value() && read->head_sequence - since > backlog_) {
      position = read->head_sequence - backlog_;  // skip what the cache could not hold
      continue;
    }
    for (AppointmentPlace& place : read->places) places_->Remember(std::move(place));
    position = read->last_sequence;
    if (read->last_sequence >= read->head_sequence || read->last_sequence == since) break;
  }
  if (position.has_value()) {
    absl::MutexLock lock(&mu_);
    positions_[clinic_id] = *position;
  }
  return status;
}

int64_t AppointmentFeed::position(const std::string& clinic_id) const {
  absl::MutexLock lock(&mu_);
  auto it = positions_.find(clinic_id);
  return it == positions_.end() ? 0 : it->second;
}

}  // namespace smp::inventory
