#ifndef SMP_SERVICES_SCHEDULING_CLINIC_CALENDAR_CACHE_H_
#define SMP_SERVICES_SCHEDULING_CLINIC_CALENDAR_CACHE_H_

// FindAvailability's calendars of a clinic, kept in memory between calls and checked against the
// database on every use, so a repeated search reads two version rows instead of the clinic's
// hours, exceptions, chairs and weeks of busy blocks.
//
// An entry is the CalendarInputs one LoadCalendars read (a clinic, its local days and an optional
// practitioner) with what it depended on, read in the same transaction: the clinic's calendar
// version (schedule, chairs, hours, exceptions, and the leave of its practitioners anywhere; see
// SchedulingStore::CalendarVersion) and the change-feed heads of every clinic whose appointments
// can be among its busy blocks (the clinic itself, every clinic where its practitioners have hours
// or exceptions, and every clinic of a block it read). Each use re-reads those in the caller's
// transaction; anything moved (in this process or another on the same database) rebuilds the
// entry. Busy blocks include holds live when the entry was built, so an entry also lapses after
// kMaxAge: a lapsed hold is shown busy for at most that long. What a booking takes is still
// decided by the occupancy keys; this cache only answers searches.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "services/scheduling/calendar_loader.h"
#include "services/scheduling/scheduling_store.h"

namespace smp::scheduling {

class ClinicCalendarCache {
 public:
  // How long an entry answers at most (a hold lapsing meanwhile stays busy that long).
  static constexpr absl::Duration kMaxAge = absl::Seconds(1);

  // `store` must outlive the cache; at most `max_clinics` entries are kept (one per clinic).
  explicit ClinicCalendarCache(const SchedulingStore* store, size_t max_clinics = 256)
      : store_(store), max_clinics_(max_clinics) {}

  // LoadCalendars(store, txn, schedule, scope, now), answered from memory when the clinic's entry
  // is for the same days and practitioner, younger than kMaxAge and its versions are unchanged
  // in `txn`. Scopes with a busy window, a chair or an appointment to ignore (a booking's check)
  // go straight to LoadCalendars. Shared and read-only: copying a clinic's weeks of calendars for
  // every search was a twentieth of FindAvailability's CPU.
  absl::StatusOr<std::shared_ptr<const CalendarInputs>> Load(Transaction& txn,
                                                             const v1::ClinicSchedule& schedule,
                                                             const CalendarScope& scope,
                                                             absl::Time now);

  // How many times an entry was built (tests).
  int64_t builds() const {
    absl::MutexLock lock(&mu_);
    return builds_;
  }

 private:
  struct Entry {
    absl::CivilDay first_day, last_day;
    std::string practitioner;
    std::string schedule_etag;
    absl::Time built;
    int64_t calendar_version = 0;
    std::vector<std::string> clinics;  // whose feed heads it depends on, sorted
    std::vector<int64_t> heads;        // theirs, in that order
    std::shared_ptr<const CalendarInputs> inputs;
  };

  const SchedulingStore* store_;
  const size_t max_clinics_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Entry>> entries_ ABSL_GUARDED_BY(mu_);
  int64_t builds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CLINIC_CALENDAR_CACHE_H_
