#ifndef SMP_SERVICES_INVENTORY_APPOINTMENT_FEED_H_
#define SMP_SERVICES_INVENTORY_APPOINTMENT_FEED_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/db/database.h"
#include "services/inventory/appointment_place_cache.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/inventory_store.h"

namespace smp::inventory {

// Follows scheduling's change feed of every clinic with inventory settings and hands the place of
// each appointment it names to the cache, so that an issue to an appointment booked while this
// process runs asks scheduling nothing, and goes through while scheduling is down.
//
// A clinic is followed from the start of its feed, or from its latest `backlog` changes when it
// has more (older places would only push newer ones out of a cache of that size). Positions live
// in memory: a restarted process reads that backlog again. A change missed (not read yet, or
// before the backlog) costs nothing but the call the issue then makes, as without the feed.
class AppointmentFeed {
 public:
  // Changes read per call to scheduling (its ListChanges maximum), and pages per clinic per pass
  // (so one busy clinic's backlog does not hold up the others').
  static constexpr int kPageSize = 5000;
  static constexpr int kMaxPagesPerPass = 20;

  AppointmentFeed(Database* db, AppointmentChanges* changes, AppointmentPlaceCache* places,
                  int64_t backlog)
      : db_(db), changes_(changes), places_(places), backlog_(backlog) {}

  // One pass: every clinic's new changes, up to its head or kMaxPagesPerPass pages. Scheduling not
  // answering is logged once per outage, not returned (the next pass resumes where this one
  // stopped); an error reading inventory's own database is returned.
  absl::Status Poll();

  // Where the feed of `clinic_id` has been read to (its last change kept); 0 before the first page.
  int64_t position(const std::string& clinic_id) const;

 private:
  // Reads `clinic_id`'s new changes; the first error from scheduling, if any.
  absl::Status Follow(const std::string& clinic_id);

  Database* const db_;
  AppointmentChanges* const changes_;
  AppointmentPlaceCache* const places_;
  const int64_t backlog_;
  InventoryStore store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> positions_ ABSL_GUARDED_BY(mu_);
  bool failing_ = false;  // only Poll's thread touches it
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_APPOINTMENT_FEED_H_
