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
    if (it != places_.end()) return PlaceOf(it->first, it->second);
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
  if (capacity_ == 0) return;
  // One lookup: try_emplace leaves the key unmoved when the place is known already.
  auto [kept, added] = places_.try_emplace(std::move(place.appointment_id));
  if (!added) return;
  auto [clinic, new_clinic] = clinic_index_.try_emplace(place.clinic_id, clinics_.size());
  if (new_clinic) clinics_.push_back(std::move(place.clinic_id));
  kept->second = Kept{clinic->second, std::move(place.patient_id)};
  oldest_first_.push_back(&kept->first);
  if (oldest_first_.size() > capacity_) {
    places_.erase(places_.find(*oldest_first_.front()));  // the key goes with its node
    oldest_first_.pop_front();
  }
}

AppointmentPlace AppointmentPlaceCache::PlaceOf(const std::string& appointment_id,
                                                const Kept& kept) const {
  return AppointmentPlace{appointment_id, clinics_[kept.clinic], kept.patient_id};
}

size_t AppointmentPlaceCache::size() const {
  absl::MutexLock lock(&mu_);
  return places_.size();
}

}  // namespace smp::inventory
