#ifndef SMP_TOOLS_SMPCTL_VALUES_H_
#define SMP_TOOLS_SMPCTL_VALUES_H_

// Flag values in and field values out: enums by short name, dates, times, durations, money. Every
// parser names the flag in its usage error ("--start: want ...").
//
// Times. A date is a clinic-local calendar day, YYYY-MM-DD. An instant is either RFC 3339 with an
// offset (2026-12-01T15:00:00Z, 2026-12-01T10:00:00-05:00) or a clinic-local wall-clock time
// (2026-12-01T10:00 or "2026-12-01 10:00"), which the command resolves in the clinic's time zone.
// Timestamps print in the clinic's zone when the command knows it, else in UTC, always with the
// offset: "2026-12-01 10:00 -05:00".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/util/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "smp/common/v1/dates.pb.h"
#include "smp/common/v1/money.pb.h"

namespace smp::smpctl {

// ---- enums: "front_desk" for ROLE_FRONT_DESK, "booked" for BOOKED, "draft" for INVOICE_DRAFT.

// The short, lower-case name of an enum value (the prefix all of the enum's values share is
// dropped); the number when the value is unknown.
std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int value);
template <typename E>
std::string EnumName(E value) {
  return EnumName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
// Every short name but the UNSPECIFIED one, comma-separated (for help and errors).
std::string EnumChoices(const google::protobuf::EnumDescriptor* descriptor);

// Accepts the short or full name in any case, with '-' for '_'; never the UNSPECIFIED value.
absl::StatusOr<int> ParseEnumValue(const google::protobuf::EnumDescriptor* descriptor,
                                   absl::string_view flag, absl::string_view text);
template <typename E>
absl::StatusOr<E> ParseEnum(absl::string_view flag, absl::string_view text) {
  absl::StatusOr<int> v = ParseEnumValue(google::protobuf::GetEnumDescriptor<E>(), flag, text);
  if (!v.ok()) return v.status();
  return static_cast<E>(*v);
}

// ---- numbers

absl::StatusOr<int64_t> ParseInt(absl::string_view flag, absl::string_view text, int64_t min,
                                 int64_t max);
absl::StatusOr<bool> ParseBool(absl::string_view flag, absl::string_view text);

// ---- dates and times

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view flag, absl::string_view text);
// "2026-12-01"; "" when unset.
std::string FormatDate(const common::v1::LocalDate& date);

// "HH:MM" (24:00 allowed, meaning the end of the day).
absl::StatusOr<common::v1::LocalTime> ParseLocalTime(absl::string_view flag,
                                                     absl::string_view text);
std::string FormatLocalTime(const common::v1::LocalTime& time);

// "YYYY-MM-DDTHH:MM" (or with a space, or with seconds): a clinic-local date and time.
absl::StatusOr<common::v1::LocalDateTime> ParseLocalDateTime(absl::string_view flag,
                                                             absl::string_view text);
std::string FormatLocalDateTime(const common::v1::LocalDateTime& time);

// An instant as given on the command line: absolute (RFC 3339 with an offset) or clinic-local.
struct TimeArg {
  std::optional<absl::Time> instant;
  absl::CivilSecond local;
  // True when the command must know the clinic's zone to resolve it.
  bool needs_zone() const { return !instant.has_value(); }
  absl::Time Resolve(absl::TimeZone zone) const;
};
absl::StatusOr<TimeArg> ParseTimeArg(absl::string_view flag, absl::string_view text);

// "2026-12-01 10:00 -05:00" in `zone`; "" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts, absl::TimeZone zone);
std::string FormatInstant(absl::Time t, absl::TimeZone zone);

// Week days and shifts: "mon-fri/09:00-18:00", "sat,sun/10:00-14:00", "tue/09:00-12:00".
struct WeeklySpan {
  common::v1::DayOfWeek day;
  common::v1::LocalTime start;
  common::v1::LocalTime end;
};
absl::StatusOr<std::vector<WeeklySpan>> ParseWeekly(absl::string_view flag, absl::string_view text);
// "mon 09:00-18:00".
std::string FormatWeekly(common::v1::DayOfWeek day, const common::v1::LocalTime& start,
                         const common::v1::LocalTime& end);

// ---- durations

// "90m", "4h30m", "45m"; positive.
absl::StatusOr<google::protobuf::Duration> ParseDuration(absl::string_view flag,
                                                         absl::string_view text);
// "1h30m", "45m", "" when zero.
std::string FormatDuration(const google::protobuf::Duration& d);

// ---- money

// "4350.00 USD", "USD 4350.00", or "4350.00" with `default_currency` (the usual case: the command
// knows the clinic's currency). Exact: never through floating point; no more decimals than the
// currency has.
absl::StatusOr<common::v1::Money> ParseMoney(absl::string_view flag, absl::string_view text,
                                             absl::string_view default_currency);
// "USD 4350.00"; "" when unset.
std::string FormatMoneyOrEmpty(const common::v1::Money& money);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_VALUES_H_
