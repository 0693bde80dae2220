#ifndef SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_
#define SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/inventory/appointment_source.h"

namespace smp::inventory {

// Keeps the places of the appointments scheduling has answered for (an AppointmentPlace never
// changes), so that the several issues of one procedure ask scheduling once, and an issue to an
// appointment seen before goes through while scheduling cannot answer. Errors are not kept (an
// unknown id may be a booking scheduling has not committed yet, or a typo); ListProcedures goes
// to `source` every time. Places also come in from scheduling's change feed (AppointmentFeed
// calls Remember), so that even a procedure's first issue usually asks nothing. At most
// `capacity` places are kept, the one learnt first dropped first. Thread-safe.
class AppointmentPlaceCache final : public AppointmentSource {
 public:
  AppointmentPlaceCache(std::unique_ptr<AppointmentSource> source, size_t capacity);

  absl::StatusOr<std::vector<ProcedureAppointment>> ListProcedures(const std::string& clinic_id,
                                                                   absl::Time from,
                                                                   absl::Time to) override;
  absl::StatusOr<AppointmentPlace> PlaceAppointment(const std::string& appointment_id) override;

  // Keeps `place` (from scheduling's change feed), unless it is known already.
  void Remember(AppointmentPlace place);

  size_t size() const;

 private:
  void KeepLocked(AppointmentPlace place) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<AppointmentSource> source_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, AppointmentPlace> places_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> oldest_first_ ABSL_GUARDED_BY(mu_);  // the keys of places_
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_
