#include "common/util/local_date.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smp {
namespace {

absl::Status BadDate(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Checks the parts before absl::CivilDay normalises them (month 13 would become next January).
absl::StatusOr<absl::CivilDay> DayFromParts(absl::string_view field, int64_t year, int month,
                                            int day) {
  if (year < kMinLocalYear || year > kMaxLocalYear) {
    return BadDate(field,
                   absl::StrCat("year ", year, " is outside ", kMinLocalYear, "..", kMaxLocalYear));
  }
  const absl::CivilDay civil(year, month, day);
  if (month < 1 || month > 12 || day < 1 || civil.month() != month || civil.day() != day) {
    return BadDate(field,
                   absl::StrFormat("%04d-%02d-%02d is not a calendar date", year, month, day));
  }
  return civil;
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseLocalDate(absl::string_view field,
                                              const common::v1::LocalDate& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) {
    return BadDate(field, "required (a date as year, month, day)");
  }
  return DayFromParts(field, date.year(), date.month(), date.day());
}

absl::StatusOr<absl::CivilDay> ParseDayText(absl::string_view field, absl::string_view text) {
  // Exactly YYYY-MM-DD: absl::ParseCivilTime would also take "2026-1-5" and years beyond 9999.
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-';
  int year = 0, month = 0, day = 0;
  if (!shaped || !absl::ascii_isdigit(text[0]) || !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::ascii_isdigit(text[5]) || !absl::SimpleAtoi(text.substr(5, 2), &month) ||
      !absl::ascii_isdigit(text[8]) || !absl::SimpleAtoi(text.substr(8, 2), &day)) {
    return BadDate(field, absl::StrCat("\"", text, "\" is not a date as YYYY-MM-DD"));
  }
  return DayFromParts(field, year, month, day);
}

std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::Status ValidatePeriod(absl::string_view field, absl::CivilDay first, absl::CivilDay last,
                            int max_days) {
  if (last < first) return BadDate(field, "end_date is before start_date");
  if (last - first + 1 > max_days) {
    return BadDate(field, absl::StrCat("spans ", last - first + 1, " days; at most ", max_days));
  }
  return absl::OkStatus();
}

absl::StatusOr<LocalPeriod> ParseDateRange(absl::string_view field,
                                           const common::v1::DateRange& range, int max_days) {
  absl::StatusOr<absl::CivilDay> first =
      ParseLocalDate(absl::StrCat(field, ".start_date"), range.start_date());
  if (!first.ok()) return first.status();
  absl::StatusOr<absl::CivilDay> last =
      ParseLocalDate(absl::StrCat(field, ".end_date"), range.end_date());
  if (!last.ok()) return last.status();
  if (absl::Status s = ValidatePeriod(field, *first, *last, max_days); !s.ok()) return s;
  return LocalPeriod{*first, *last};
}

}  // namespace smp
