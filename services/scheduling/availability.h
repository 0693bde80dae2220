#ifndef SMP_SERVICES_SCHEDULING_AVAILABILITY_H_
#define SMP_SERVICES_SCHEDULING_AVAILABILITY_H_

// Free-slot computation for FindAvailability (and the check BookAppointment repeats inside its
// transaction). Pure: no I/O, no clock; every input is a value. Local rules (opening hours, shifts,
// exceptions) are in the clinic's civil time; busy intervals and results are absolute instants, so
// DST changes are handled once, here.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace smp::scheduling {

// A half-open interval of instants [start, end).
struct Interval {
  absl::Time start;
  absl::Time end;
};

// A weekly recurring local interval: minutes since local midnight, 0 <= start_minute < end_minute
// <= 1440 (1440 is midnight at the end of the day). Never crosses midnight.
struct WeeklyShift {
  absl::Weekday day;
  int start_minute;
  int end_minute;
};

// A one-off local span [start, end) in the clinic's civil time (leave, closure, extra shift).
struct LocalSpan {
  absl::CivilMinute start;
  absl::CivilMinute end;
};

// One practitioner as FindSlots needs them.
struct PractitionerCalendar {
  std::string practitioner_id;
  std::vector<WeeklyShift> weekly;        // working hours at this clinic
  std::vector<LocalSpan> extra_shifts;    // EXTRA_SHIFT exceptions: work outside weekly hours
  std::vector<LocalSpan> leave;           // LEAVE exceptions: away
  std::vector<Interval> leave_elsewhere;  // LEAVE entered at other clinics: away everywhere
  std::vector<Interval> busy;             // appointments (any clinic) incl. their buffer, unsorted
};

struct ChairCalendar {
  std::string chair_id;
  std::vector<Interval> busy;  // appointments in this chair incl. their buffer, unsorted
};

struct AvailabilityQuery {
  absl::TimeZone zone;                     // the clinic's
  std::vector<WeeklyShift> opening_hours;  // the clinic's
  std::vector<LocalSpan> closures;         // CLOSURE exceptions
  absl::CivilDay first_day;                // local days searched, inclusive
  absl::CivilDay last_day;
  absl::Duration duration;      // of the appointment
  absl::Duration buffer_after;  // cleaning after it; may run past closing
  absl::Duration step =
      absl::Minutes(15);  // offered starts are local multiples of this from midnight
  absl::Time not_before = absl::InfinitePast();   // e.g. now, or a plan's earliest next session
  absl::Time not_after = absl::InfiniteFuture();  // latest allowed start (a plan's max interval)
  int max_slots = 200;
  // Local days of rules laid out at a time (availability.cc); any value gives the same slots.
  int prepare_days = 7;
};

// The ids are views of the ids in the calendars given to FindSlots (valid while those are): a page
// of 200 slots copied them 400 times, a tenth of FindAvailability's allocations.
struct Slot {
  absl::Time start;
  absl::Time end;  // start + duration
  absl::string_view practitioner_id;
  absl::string_view chair_id;
};

struct AvailabilityResult {
  std::vector<Slot> slots;  // by start, then practitioner_id
  bool truncated = false;   // more slots existed than max_slots
};

// Every (start, practitioner) such that:
//  - start is a local step boundary (a local time that does not exist because of a DST jump is not
//    offered; a local time that occurs twice is offered at each occurrence that qualifies);
//  - not_before <= start <= not_after;
//  - [start, start + duration) lies inside the clinic's opening hours and the practitioner's
//  working
//    time (weekly shifts plus extra shifts, minus leave) and outside every closure, all taken as
//    local spans and converted to instants;
//  - [start, start + duration + buffer_after) overlaps none of the practitioner's busy intervals;
//  - some chair is free for [start, start + duration + buffer_after) (the lowest chair_id is
//  named).
// Degenerate inputs give no slots rather than an error (validate at the edge): duration <= 0,
// step under one second (a step is taken in whole seconds), first_day > last_day,
// not_before > not_after, no chairs. A negative buffer_after counts as zero; a WeeklyShift outside
// its stated range is ignored; with max_slots <= 0 the result is empty and truncated says whether
// any slot qualified.
AvailabilityResult FindSlots(const AvailabilityQuery& query,
                             const std::vector<PractitionerCalendar>& practitioners,
                             const std::vector<ChairCalendar>& chairs);

// The instants a local span covers: start and end converted in `zone`. A boundary in a DST gap maps
// to the transition; a boundary in a repeated hour maps to the earlier instant for a start and the
// later instant for an end (the span covers the whole wall-clock period). An empty or inverted span
// (end <= start) gives the empty interval [start, start).
Interval ToInterval(const LocalSpan& span, absl::TimeZone zone);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_AVAILABILITY_H_
