#ifndef SMP_COMMON_UTIL_LOCAL_DATE_H_
#define SMP_COMMON_UTIL_LOCAL_DATE_H_

// Clinic-local calendar days as the contracts carry them (smp.common.v1.LocalDate, DateRange) and
// as the stores keep them (ISO "YYYY-MM-DD" text). The one place a date from outside is checked
// against the range dates.proto promises: years 1900..9999, a real day of a real month.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "smp/common/v1/dates.pb.h"

namespace smp {

inline constexpr int kMinLocalYear = 1900;
inline constexpr int kMaxLocalYear = 9999;

// A request's date as a day; INVALID_ARGUMENT naming `field` when unset (all zero), outside
// 1900..9999 or not a calendar date (2026-02-30).
absl::StatusOr<absl::CivilDay> ParseLocalDate(absl::string_view field,
                                              const common::v1::LocalDate& date);

// "YYYY-MM-DD" (as typed by a person or stored by a store) as a day; INVALID_ARGUMENT naming
// `field` for any other shape or a date outside the contract's range.
absl::StatusOr<absl::CivilDay> ParseDayText(absl::string_view field, absl::string_view text);

// The day as "YYYY-MM-DD", the form stores keep (it sorts as the calendar does).
std::string DayText(absl::CivilDay day);

// An inclusive period [first, last]: INVALID_ARGUMENT naming `field` when last is before first or
// it spans more than `max_days` days.
absl::Status ValidatePeriod(absl::string_view field, absl::CivilDay first, absl::CivilDay last,
                            int max_days);

// A first and last day, both included.
struct LocalPeriod {
  absl::CivilDay first;
  absl::CivilDay last;
};

// A request's DateRange: both dates parsed (as "<field>.start_date", "<field>.end_date") and the
// period checked as ValidatePeriod.
absl::StatusOr<LocalPeriod> ParseDateRange(absl::string_view field,
                                           const common::v1::DateRange& range, int max_days);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_LOCAL_DATE_H_
