#ifndef SMP_SERVICES_SCHEDULING_SLOT_RULES_CACHE_H_
#define SMP_SERVICES_SCHEDULING_SLOT_RULES_CACHE_H_

// What a booking's pre-check reads of a clinic besides appointments, kept in memory: the clinic's
// schedule and calendar version, and per (practitioner, chair, local day) the hours, exceptions,
// leave and chair that lay out the slot grid (CalendarScope::rules_only). Conflicts with other
// bookings are not here: the occupancy keys decide them in the write transaction.
//
// A stale answer costs a slower booking, never a wrong one. The pre-check carries the calendar
// version its rules were read at; the write transaction re-reads the version and, when it moved
// (a settings change in this process or another on the same database), checks everything itself
// and calls Forget. A rule that refuses from memory sends the booking to that full check too. An
// entry is re-read from the database once it is kMaxAge old, so a change made elsewhere stops
// costing the slow path within that time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "services/scheduling/calendar_loader.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// A clinic's slot rules for one booking, all as of `calendar_version`.
struct SlotRules {
  std::shared_ptr<const v1::ClinicSchedule> schedule;
  int64_t calendar_version = 0;
  // The practitioner's (and chair's) calendars on the start's local day, without busy blocks.
  std::shared_ptr<const CalendarInputs> day;
};

class SlotRulesCache {
 public:
  // How long a clinic's schedule and version answer from memory before they are re-read.
  static constexpr absl::Duration kMaxAge = absl::Seconds(1);

  // `store` must outlive the cache. At most `max_clinics` clinics and `max_days` day entries per
  // clinic are kept; past that, entries are dropped (a bound on memory, not a policy).
  explicit SlotRulesCache(const SchedulingStore* store, size_t max_clinics = 256,
                          size_t max_days = 4096)
      : store_(store), max_clinics_(max_clinics), max_days_(max_days) {}

  // The rules for booking `practitioner_id` in chair `chair_id` of `clinic_id` at `start`: from
  // memory when the clinic's entry was read less than kMaxAge before `now` and has the day, else
  // read in `txn` (a read transaction). nullopt when the clinic has no schedule.
  absl::StatusOr<std::optional<SlotRules>> Get(Transaction& txn, const std::string& clinic_id,
                                               const std::string& practitioner_id,
                                               const std::string& chair_id, absl::Time start,
                                               absl::Time now);

  // Get's answer from memory alone: nullopt when it would read the database.
  std::optional<SlotRules> Peek(const std::string& clinic_id, const std::string& practitioner_id,
                                const std::string& chair_id, absl::Time start,
                                absl::Time now) const;

  // Drops the clinic's entry: a write transaction found its calendar version moved.
  void Forget(absl::string_view clinic_id);

  // How many times a clinic's schedule and version, and a day's calendars, were read (tests).
  int64_t reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  struct ClinicEntry {
    std::shared_ptr<const v1::ClinicSchedule> schedule;
    absl::TimeZone zone;
    int64_t calendar_version = 0;
    absl::Time checked;  // when schedule and version were last read
    // By DayKey: the days' calendars, all read at calendar_version.
    absl::flat_hash_map<std::string, std::shared_ptr<const CalendarInputs>> days;
  };
  static std::string DayKey(absl::string_view practitioner_id, absl::string_view chair_id,
                            absl::CivilDay day);

  const SchedulingStore* store_;
  const size_t max_clinics_;
  const size_t max_days_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ClinicEntry> clinics_ ABSL_GUARDED_BY(mu_);
  int64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SLOT_RULES_CACHE_H_
