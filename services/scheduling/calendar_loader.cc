#include "services/scheduling/calendar_loader.h"

#include "absl/container/flat_hash_map.h"
#include "common/status/status_macros.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {

absl::StatusOr<CalendarInputs> LoadCalendars(const SchedulingStore& store, Transaction& txn,
                                             const v1::ClinicSchedule& schedule,
                                             const CalendarScope& scope, absl::Time now) {
  CalendarInputs in;
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(schedule.time_zone(), &zone)) {
    return absl::InternalError("stored clinic time zone does not load: " + schedule.time_zone());
  }
  in.query.zone = zone;
  in.query.opening_hours = ToShifts(schedule.opening_hours());
  in.query.first_day = scope.first_day;
  in.query.last_day = scope.last_day;
  in.query.buffer_after = ToDuration(schedule.buffer_after());
  in.query.step = ToDuration(schedule.slot_step());
  // A day either side, so that blocks and exceptions reaching over midnight or a DST edge count.
  const Interval window{zone.At(absl::CivilSecond(scope.first_day - 1)).pre,
                        zone.At(absl::CivilSecond(scope.last_day + 2)).pre};

  // One practitioner (a booking): read that row, not the clinic's whole staff.
  std::vector<v1::WorkingHours> hours;
  if (scope.only_practitioner.empty()) {
    ASSIGN_OR_RETURN(hours, store.ListWorkingHours(txn, schedule.clinic_id()));
  } else {
    ASSIGN_OR_RETURN(std::optional<v1::WorkingHours> one,
                     store.GetWorkingHours(txn, scope.only_practitioner, schedule.clinic_id()));
    if (one.has_value()) hours.push_back(*std::move(one));
  }
  absl::flat_hash_map<std::string, size_t> index;
  for (const v1::WorkingHours& h : hours) {
    if (!scope.only_practitioner.empty() && h.practitioner_id() != scope.only_practitioner)
      continue;
    index[h.practitioner_id()] = in.practitioners.size();
    in.practitioners.push_back(
        PractitionerCalendar{h.practitioner_id(), ToShifts(h.intervals()), {}, {}, {}, {}});
  }
  if (!scope.only_practitioner.empty() && in.practitioners.empty()) {
    index[scope.only_practitioner] = 0;
    in.practitioners.push_back(PractitionerCalendar{scope.only_practitioner, {}, {}, {}, {}, {}});
  }

  ASSIGN_OR_RETURN(std::vector<v1::ScheduleException> exceptions,
                   store.ListExceptions(txn, schedule.clinic_id(), window));
  for (const v1::ScheduleException& e : exceptions) {
    ASSIGN_OR_RETURN(LocalSpan span, ValidateException(e));
    if (e.kind() == v1::CLOSURE) {
      in.query.closures.push_back(span);
      continue;
    }
    auto it = index.find(e.practitioner_id());
    if (it == index.end()) continue;
    PractitionerCalendar& p = in.practitioners[it->second];
    (e.kind() == v1::LEAVE ? p.leave : p.extra_shifts).push_back(span);
  }

  // Leave is the practitioner's, not the branch's: leave entered at another clinic (in that
  // clinic's zone, stored as instants) keeps them away here too.
  std::vector<std::string> ids;
  for (const PractitionerCalendar& p : in.practitioners) ids.push_back(p.practitioner_id);
  ASSIGN_OR_RETURN(std::vector<PractitionerLeave> elsewhere,
                   store.LeaveElsewhere(txn, schedule.clinic_id(), ids, window));
  for (const PractitionerLeave& l : elsewhere) {
    if (auto it = index.find(l.practitioner_id); it != index.end()) {
      in.practitioners[it->second].leave_elsewhere.push_back(l.span);
    }
  }

  std::vector<v1::Chair> chairs;
  if (scope.only_chair.empty()) {
    ASSIGN_OR_RETURN(chairs, store.ListChairs(txn, schedule.clinic_id()));
  } else {
    absl::StatusOr<v1::Chair> one = store.GetChair(txn, scope.only_chair);
    if (!one.ok() && !absl::IsNotFound(one.status())) return one.status();
    if (one.ok() && one->clinic_id() == schedule.clinic_id()) chairs.push_back(*std::move(one));
  }
  absl::flat_hash_map<std::string, size_t> chair_index;
  for (const v1::Chair& c : chairs) {
    if (!c.active()) continue;
    if (!scope.only_chair.empty() && c.id() != scope.only_chair) continue;
    chair_index[c.id()] = in.chairs.size();
    in.chairs.push_back(ChairCalendar{c.id(), {}});
  }

  if (scope.rules_only) return in;
  std::vector<std::string> practitioner_ids, chair_ids;
  for (const PractitionerCalendar& p : in.practitioners)
    practitioner_ids.push_back(p.practitioner_id);
  for (const ChairCalendar& c : in.chairs) chair_ids.push_back(c.chair_id);
  ASSIGN_OR_RETURN(
      std::vector<BusyBlock> blocks,
      store.BusyBlocks(txn, practitioner_ids, chair_ids, scope.busy_window.value_or(window), now));
  for (const BusyBlock& b : blocks) {
    if (b.appointment_id == scope.ignore_appointment_id) continue;
    if (auto it = index.find(b.practitioner_id); it != index.end()) {
      in.practitioners[it->second].busy.push_back(b.block);
    }
    if (auto it = chair_index.find(b.chair_id); it != chair_index.end()) {
      in.chairs[it->second].busy.push_back(b.block);
    }
  }
  return in;
}

}  // namespace smp::scheduling
