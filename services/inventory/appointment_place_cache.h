#ifndef SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_
#define SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
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
  // What is kept of a place besides its appointment id (the map's key): the clinic as an index
  // into clinics_ (a chain has few clinics and many appointments), and the patient.
  struct Kept {
    uint32_t clinic;
    std::string patient_id;
  };

  void KeepLocked(AppointmentPlace place) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  AppointmentPlace PlaceOf(const std::string& appointment_id, const Kept& kept) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<AppointmentSource> source_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  // Nodes, so that a key stays where it is while the map grows: oldest_first_ points at them.
  // About 200 bytes of heap a place with scheduling's 26-character ids (197 measured for 50,000
  // places of 100 clinics; 274 when each place held its clinic id and its key twice more).
  absl::node_hash_map<std::string, Kept> places_ ABSL_GUARDED_BY(mu_);
  std::deque<const std::string*> oldest_first_ ABSL_GUARDED_BY(mu_);  // keys of places_
  std::vector<std::string> clinics_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> clinic_index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_APPOINTMENT_PLACE_CACHE_H_
