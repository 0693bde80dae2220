#include "common/util/csv.h"

#include "absl/strings/str_cat.h"

namespace smp {

bool IsSpreadsheetFormula(absl::string_view value) {
  if (value.empty()) return false;
  switch (value.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

std::string CsvField(absl::string_view value) {
  std::string text = IsSpreadsheetFormula(value) ? absl::StrCat("'", value) : std::string(value);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace smp
