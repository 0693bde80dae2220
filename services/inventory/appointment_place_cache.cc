#include "services/inventory/appointment_place_cache.h"

#include <utility>

namespace smp::inventory {

AppointmentPlaceCache::AppointmentPlaceCache(std::unique_ptr<AppointmentSource> source,
                                             size_t capacity)
    : source_(std::move(source)), capacity_(capacity) {}

absl::StatusOr<std::vector<ProcedureAppointment>> AppointmentPlaceCache::ListProcedures(
    const std::string& clinic_id, absl::Time from, absl::Time to) {
  return source_->ListProcedures(clinic_id, from, to);
}

absl::StatusOr<AppointmentPlace> AppointmentPlaceCache::PlaceAppointment(
    const std::string& appointment_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = places_.find(appointment_id);
    if (it != places_.end()) return it->second;
  }
  // Asked outside the lock: a slow answer holds up no other lookup.
  absl::StatusOr<AppointmentPlace> place = source_->PlaceAppointment(appointment_id);
  if (!place.ok()) return place;
  absl::MutexLock lock(&mu_);
  KeepLocked(*place);
  return place;
}

void AppointmentPlaceCache::Remember(AppointmentPlace place) {
  absl::MutexLock lock(&mu_);
  KeepLocked(std::move(place));
}

void AppointmentPlaceCache::KeepLocked(AppointmentPlace place) {
  if (capacity_ == 0 || places_.contains(place.appointment_id)) return;
  oldest_first_.push_back(place.appointment_id);
  std::string key = place.appointment_id;
  places_.emplace(std::move(key), std::move(place));
  if (oldest_first_.size() > capacity_) {
    places_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
}

size_t AppointmentPlaceCache::size() const {
  absl::MutexLock lock(&mu_);
  return places_.size();
}

}  // namespace smp::inventory
