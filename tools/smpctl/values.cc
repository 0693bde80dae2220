#include "tools/smpctl/values.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/money/money.h"
#include "common/util/local_date.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

// The prefix every named (non-zero) value of the enum shares, up to and including an underscore:
// "ROLE_" for ROLE_ADMIN, ROLE_FRONT_DESK, ...; "" for PROPOSED, BOOKED, ...
std::string CommonPrefix(const EnumDescriptor* d) {
  std::string prefix;
  bool first = true;
  for (int i = 0; i < d->value_count(); ++i) {
    const EnumValueDescriptor* v = d->value(i);
    if (v->number() == 0) continue;
    if (first) {
      prefix = v->name();
      first = false;
      continue;
    }
    size_t n = 0;
    while (n < prefix.size() && n < v->name().size() && prefix[n] == v->name()[n]) ++n;
    prefix.resize(n);
  }
  const size_t underscore = prefix.rfind('_');
  if (underscore == std::string::npos) return "";
  prefix.resize(underscore + 1);
  // A single-valued enum would otherwise lose its whole name.
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() != 0 && d->value(i)->name().size() <= prefix.size()) return "";
  }
  return prefix;
}

std::string ShortName(const EnumDescriptor* d, const EnumValueDescriptor* v) {
  std::string name = v->name();
  const std::string prefix = CommonPrefix(d);
  if (!prefix.empty() && absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string Quote(absl::string_view text) { return absl::StrCat("\"", text, "\""); }

absl::StatusOr<common::v1::DayOfWeek> ParseDay(absl::string_view flag, absl::string_view text) {
  static const char* const kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  for (int i = 0; i < 7; ++i) {
    if (lower.size() >= 3 && absl::StartsWith(lower, kDays[i])) {
      return static_cast<common::v1::DayOfWeek>(i + 1);
    }
  }
  return UsageError(absl::StrCat("--", flag, ": want a week day (mon..sun), got ", Quote(text)));
}

}  // namespace

std::string EnumName(const EnumDescriptor* descriptor, int value) {
  const EnumValueDescriptor* v = descriptor->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  if (value == 0) return "";
  return ShortName(descriptor, v);
}

std::string EnumChoices(const EnumDescriptor* descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() == 0) continue;
    names.push_back(ShortName(descriptor, descriptor->value(i)));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<int> ParseEnumValue(const EnumDescriptor* descriptor, absl::string_view flag,
                                   absl::string_view text) {
  std::string wanted = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  absl::StrReplaceAll({{"-", "_"}}, &wanted);
  const std::string prefix = CommonPrefix(descriptor);
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() == 0) continue;
    if (v->name() == wanted || v->name() == prefix + wanted) return v->number();
  }
  return UsageError(absl::StrCat("--", flag, ": unknown value ", Quote(text),
                                 "; one of: ", EnumChoices(descriptor)));
}

absl::StatusOr<int64_t> ParseInt(absl::string_view flag, absl::string_view text, int64_t min,
                                 int64_t max) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v)) {
    return UsageError(absl::StrCat("--", flag, ": want a whole number, got ", Quote(text)));
  }
  if (v < min || v > max) {
    return UsageError(absl::StrCat("--", flag, ": want ", min, "..", max, ", got ", v));
  }
  return v;
}

absl::StatusOr<bool> ParseBool(absl::string_view flag, absl::string_view text) {
  bool v = false;
  if (!absl::SimpleAtob(text, &v)) {
    return UsageError(absl::StrCat("--", flag, ": want true or false, got ", Quote(text)));
  }
  return v;
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view flag, absl::string_view text) {
  // The contract's own parse (exactly YYYY-MM-DD, a real day, years 1900..9999), as a usage error.
  absl::StatusOr<absl::CivilDay> day = ParseDayText(flag, text);
  if (!day.ok()) {
    return UsageError(absl::StrCat("--", flag, ": want a date YYYY-MM-DD (a real day, years ",
                                   kMinLocalYear, "..", kMaxLocalYear, "), got ", Quote(text)));
  }
  return day;
}

std::string FormatDate(const common::v1::LocalDate& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

absl::StatusOr<common::v1::LocalTime> ParseLocalTime(absl::string_view flag,
                                                     absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  int h = 0, m = 0;
  if (parts.size() != 2 || parts[0].empty() || parts[0].size() > 2 || parts[1].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) || h < 0 || h > 24 ||
      m < 0 || m > 59 || (h == 24 && m != 0)) {
    return UsageError(absl::StrCat("--", flag, ": want a time HH:MM, got ", Quote(text)));
  }
  common::v1::LocalTime t;
  t.set_hours(h);
  t.set_minutes(m);
  return t;
}

std::string FormatLocalTime(const common::v1::LocalTime& time) {
  return absl::StrFormat("%02d:%02d", time.hours(), time.minutes());
}

absl::StatusOr<common::v1::LocalDateTime> ParseLocalDateTime(absl::string_view flag,
                                                             absl::string_view text) {
  std::string t = absl::StrReplaceAll(absl::StripAsciiWhitespace(text), {{" ", "T"}});
  absl::CivilMinute minute;
  absl::CivilSecond second;
  common::v1::LocalDateTime out;
  if (t.size() == 16 && absl::ParseCivilTime(t, &minute) && absl::FormatCivilTime(minute) == t) {
    second = absl::CivilSecond(minute);
  } else if (t.size() == 19 && absl::ParseCivilTime(t, &second) &&
             absl::FormatCivilTime(second) == t) {
  } else {
    return UsageError(absl::StrCat(
        "--", flag, ": want a local date and time YYYY-MM-DDTHH:MM, got ", Quote(text)));
  }
  *out.mutable_date() = ToLocalDate(absl::CivilDay(second));
  out.mutable_time()->set_hours(second.hour());
  out.mutable_time()->set_minutes(second.minute());
  return out;
}

std::string FormatLocalDateTime(const common::v1::LocalDateTime& time) {
  return absl::StrCat(FormatDate(time.date()), " ", FormatLocalTime(time.time()));
}

absl::Time TimeArg::Resolve(absl::TimeZone zone) const {
  if (instant) return *instant;
  return zone.At(local).pre;
}

absl::StatusOr<TimeArg> ParseTimeArg(absl::string_view flag, absl::string_view text) {
  // "2026-12-01 10:00 -05:00" (how smpctl prints times) is accepted as well.
  std::string t(absl::StripAsciiWhitespace(text));
  if (t.size() > 7 && t[t.size() - 7] == ' ' &&
      (t[t.size() - 6] == '+' || t[t.size() - 6] == '-')) {
    t.erase(t.size() - 7, 1);
  }
  if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
  TimeArg arg;
  absl::Time instant;
  std::string err;
  for (const char* format : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M%Ez"}) {
    const bool has_offset = absl::EndsWith(t, "Z") || absl::EndsWith(t, "z") ||
                            (t.size() > 6 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-'));
    if (has_offset && absl::ParseTime(format, t, &instant, &err)) {
      arg.instant = instant;
      return arg;
    }
  }
  const std::string local = absl::StrReplaceAll(t, {{" ", "T"}});
  absl::CivilSecond second;
  absl::CivilMinute minute;
  absl::CivilDay day;
  if (local.size() == 19 && absl::ParseCivilTime(local, &second) &&
      absl::FormatCivilTime(second) == local) {
    arg.local = second;
  } else if (local.size() == 16 && absl::ParseCivilTime(local, &minute) &&
             absl::FormatCivilTime(minute) == local) {
    arg.local = minute;
  } else if (local.size() == 10 && absl::ParseCivilTime(local, &day) &&
             absl::FormatCivilTime(day) == local) {
    arg.local = day;
  } else {
    return UsageError(absl::StrCat(
        "--", flag,
        ": want an RFC 3339 time (2026-12-01T15:00:00Z) or a clinic-local one (2026-12-01T10:00), "
        "got ",
        Quote(text)));
  }
  if (arg.local.year() < 1900 || arg.local.year() > 9999) {
    return UsageError(absl::StrCat("--", flag, ": year out of range in ", Quote(text)));
  }
  return arg;
}

std::string FormatInstant(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Ez", t, zone);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts, absl::TimeZone zone) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return FormatInstant(absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()), zone);
}

absl::StatusOr<std::vector<WeeklySpan>> ParseWeekly(absl::string_view flag,
                                                    absl::string_view text) {
  std::vector<absl::string_view> halves = absl::StrSplit(text, '/');
  const std::string bad = absl::StrCat(
      "--", flag, ": want DAYS/HH:MM-HH:MM such as mon-fri/09:00-18:00, got ", Quote(text));
  if (halves.size() != 2) return UsageError(bad);
  std::vector<absl::string_view> times = absl::StrSplit(halves[1], '-');
  if (times.size() != 2) return UsageError(bad);
  absl::StatusOr<common::v1::LocalTime> start = ParseLocalTime(flag, times[0]);
  absl::StatusOr<common::v1::LocalTime> end = ParseLocalTime(flag, times[1]);
  if (!start.ok() || !end.ok()) return UsageError(bad);
  std::vector<common::v1::DayOfWeek> days;
  for (absl::string_view item : absl::StrSplit(halves[0], ',')) {
    std::vector<absl::string_view> range = absl::StrSplit(item, '-');
    if (range.size() == 1) {
      absl::StatusOr<common::v1::DayOfWeek> d = ParseDay(flag, range[0]);
      if (!d.ok()) return d.status();
      days.push_back(*d);
    } else if (range.size() == 2) {
      absl::StatusOr<common::v1::DayOfWeek> from = ParseDay(flag, range[0]);
      absl::StatusOr<common::v1::DayOfWeek> to = ParseDay(flag, range[1]);
      if (!from.ok()) return from.status();
      if (!to.ok()) return to.status();
      for (int d = *from;; d = d % 7 + 1) {
        days.push_back(static_cast<common::v1::DayOfWeek>(d));
        if (d == *to) break;
      }
    } else {
      return UsageError(bad);
    }
  }
  std::vector<WeeklySpan> out;
  for (common::v1::DayOfWeek d : days) out.push_back({d, *start, *end});
  return out;
}

std::string FormatWeekly(common::v1::DayOfWeek day, const common::v1::LocalTime& start,
                         const common::v1::LocalTime& end) {
  static const char* const kDays[] = {"?", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  const int d = static_cast<int>(day);
  return absl::StrCat(d >= 1 && d <= 7 ? kDays[d] : "?", " ", FormatLocalTime(start), "-",
                      FormatLocalTime(end));
}

absl::StatusOr<google::protobuf::Duration> ParseDuration(absl::string_view flag,
                                                         absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(absl::StripAsciiWhitespace(text), &d) || d <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat(
        "--", flag, ": want a positive duration such as 45m or 4h30m, got ", Quote(text)));
  }
  google::protobuf::Duration out;
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

std::string FormatDuration(const google::protobuf::Duration& d) {
  if (d.seconds() == 0 && d.nanos() == 0) return "";
  return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

absl::StatusOr<common::v1::Money> ParseMoney(absl::string_view flag, absl::string_view text,
                                             absl::string_view default_currency) {
  const std::string bad = absl::StrCat(
      "--", flag, ": want an amount such as 4350.00 or \"4350.00 USD\", got ", Quote(text));
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  std::string currency(default_currency);
  absl::string_view number;
  if (words.size() == 1) {
    number = words[0];
  } else if (words.size() == 2) {
    const bool first_is_code = !words[0].empty() && absl::ascii_isalpha(words[0][0]);
    currency = std::string(first_is_code ? words[0] : words[1]);
    number = first_is_code ? words[1] : words[0];
  } else {
    return UsageError(bad);
  }
  if (currency.empty()) {
    return UsageError(absl::StrCat("--", flag, ": say the currency, e.g. \"", text, " USD\""));
  }
  absl::StatusOr<int> digits = CurrencyMinorDigits(absl::StrCat("--", flag), currency);
  if (!digits.ok()) return UsageError(digits.status().message());
  std::vector<absl::string_view> parts = absl::StrSplit(number, '.');
  if (parts.size() > 2 || parts[0].empty() || parts[0].size() > 15) return UsageError(bad);
  if (parts.size() == 2 && (parts[1].empty() || static_cast<int>(parts[1].size()) > *digits)) {
    return UsageError(absl::StrCat("--", flag, ": ", currency, " has ", *digits,
                                   " decimal places, got ", Quote(text)));
  }
  for (absl::string_view p : parts) {
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return UsageError(bad);
    }
  }
  int64_t whole = 0;
  if (!absl::SimpleAtoi(parts[0], &whole)) return UsageError(bad);
  std::string frac = parts.size() == 2 ? std::string(parts[1]) : "";
  frac.resize(static_cast<size_t>(*digits), '0');
  int64_t minor = whole;
  for (int i = 0; i < *digits; ++i) {
    if (minor > kMaxAmountMinor) break;  // too large either way; never overflow
    minor *= 10;
  }
  int64_t f = 0;
  if (!frac.empty() && !absl::SimpleAtoi(frac, &f)) return UsageError(bad);
  minor += f;
  if (minor > kMaxAmountMinor) return UsageError(absl::StrCat("--", flag, ": amount too large"));
  return MakeMoney(minor, currency);
}

std::string FormatMoneyOrEmpty(const common::v1::Money& money) {
  if (money.currency_code().empty()) return "";
  return FormatMoney(money);
}

}  // namespace smp::smpctl
