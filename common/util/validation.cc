#include "common/util/validation.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/util/ids.h"

namespace smp {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool HasControlCharacter(absl::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool Utf8Length(absl::string_view value, size_t* length) {
  size_t count = 0;
  size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<uint8_t>(value[i]);
    size_t extra;
    uint32_t code;
    if (c < 0x80) {
      extra = 0;
      code = c;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= value.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(value[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      return false;
    }
    i += extra + 1;
    ++count;
  }
  *length = count;
  return true;
}

absl::Status ValidateOptionalText(absl::string_view field, absl::string_view value,
                                  size_t max_chars) {
  size_t length = 0;
  if (!Utf8Length(value, &length)) return Invalid(field, "is not valid UTF-8");
  if (length > max_chars) {
    return Invalid(field, absl::StrCat("is longer than ", max_chars, " characters"));
  }
  if (HasControlCharacter(value)) return Invalid(field, "contains control characters");
  return absl::OkStatus();
}

absl::Status ValidateRequiredText(absl::string_view field, absl::string_view value,
                                  size_t max_chars) {
  if (absl::StripAsciiWhitespace(value).empty()) return Invalid(field, "is required");
  return ValidateOptionalText(field, value, max_chars);
}

absl::Status ValidateOptionalId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  return ValidateId(field, value);
}

absl::Status ValidateId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return Invalid(field, "is required");
  if (!IsWellFormedId(value)) {
    return Invalid(field, absl::StrCat("\"", value.substr(0, 64), "\" is not a valid id"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return Invalid(field, "is required (an idempotency key, e.g. a UUID)");
  if (value.size() > 128) return Invalid(field, "is longer than 128 characters");
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') {
      return Invalid(field, "may contain only letters, digits and . _ : -");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::TimeZone> ValidateTimeZone(absl::string_view field, absl::string_view name) {
  if (name.empty()) return Invalid(field, "is required (an IANA name such as America/New_York)");
  // Only tz database names: letters, digits and _ + - /; no "localtime", no paths.
  bool plausible = name.size() <= 64 && name != "localtime" && name[0] != '/' &&
                   name.find("..") == absl::string_view::npos;
  for (char c : name) {
    plausible &= absl::ascii_isalnum(c) || c == '_' || c == '+' || c == '-' || c == '/';
  }
  absl::TimeZone zone;
  if (!plausible || !absl::LoadTimeZone(std::string(name), &zone)) {
    return Invalid(field, absl::StrCat("unknown IANA time zone \"", name.substr(0, 64), "\""));
  }
  return zone;
}

absl::Status ValidateOptionalEmail(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  const size_t at = value.find('@');
  const bool shaped = value.size() <= 254 && at != absl::string_view::npos && at > 0 &&
                      value.find('@', at + 1) == absl::string_view::npos &&
                      value.find('.', at + 2) != absl::string_view::npos && value.back() != '.' &&
                      value.find(' ') == absl::string_view::npos;
  if (!shaped || HasControlCharacter(value)) {
    return Invalid(field, "is not an email address");
  }
  return absl::OkStatus();
}

absl::Status ValidateOptionalPhone(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  bool shaped = value.size() >= 8 && value.size() <= 16 && value[0] == '+' && value[1] != '0';
  for (size_t i = 1; i < value.size(); ++i) shaped &= absl::ascii_isdigit(value[i]);
  if (!shaped) return Invalid(field, "must be in E.164 form, e.g. +15125550100");
  return absl::OkStatus();
}

}  // namespace smp
