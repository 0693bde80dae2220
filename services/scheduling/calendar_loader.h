#ifndef SMP_SERVICES_SCHEDULING_CALENDAR_LOADER_H_
#define SMP_SERVICES_SCHEDULING_CALENDAR_LOADER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/db/database.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/scheduling_store.h"

namespace smp::scheduling {

// Everything FindSlots needs for one clinic over some local days, read in one transaction.
struct CalendarInputs {
  AvailabilityQuery query;  // duration, not_before/after and max_slots left for the caller
  std::vector<PractitionerCalendar> practitioners;
  std::vector<ChairCalendar> chairs;
};

struct CalendarScope {
  absl::CivilDay first_day;
  absl::CivilDay last_day;
  std::string only_practitioner;      // "" = every practitioner with hours at the clinic
  std::string only_chair;             // "" = every active chair
  std::string ignore_appointment_id;  // its own time, when rescheduling
  // Set: only busy blocks overlapping this interval are read (a booking checking one slot needs
  // only what overlaps its own block; the slot grid does not depend on other appointments).
  // Unset: every block overlapping the days.
  std::optional<Interval> busy_window = std::nullopt;
  // Set: no busy blocks are read at all, only the rules that lay out the slots (a booking's
  // pre-check from memory, slot_rules_cache.h, whose conflicts the occupancy keys decide).
  bool rules_only = false;
};

// Reads opening hours, working hours, exceptions, active chairs and busy blocks. A practitioner
// named in `scope` who has no hours at the clinic still appears (with no hours), so a booking for
// them finds no slot rather than an error about the list.
absl::StatusOr<CalendarInputs> LoadCalendars(const SchedulingStore& store, Transaction& txn,
                                             const v1::ClinicSchedule& schedule,
                                             const CalendarScope& scope, absl::Time now);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CALENDAR_LOADER_H_
