#ifndef SMP_COMMON_UTIL_CSV_H_
#define SMP_COMMON_UTIL_CSV_H_

// The one CSV cell writer of the suite: every CSV export (compliance's report export, and so
// smpctl's `report export --format=csv`) writes its cells through CsvField.

#include <string>

#include "absl/strings/string_view.h"

namespace smp {

// One RFC 4180 field, safe to open in a spreadsheet:
//  - a value that a spreadsheet would run as a formula (OWASP "CSV injection": it starts with
//    '=', '+', '-', '@', a tab or a carriage return) gets a leading apostrophe, so Excel,
//    LibreOffice and Google Sheets show it as text ("=HYPERLINK(...)" -> "'=HYPERLINK(...)");
//  - then it is quoted when it holds a comma, quote, CR or LF, with quotes doubled.
// Values the suite computes itself (ids, dates, enum names, counts) never start with those
// characters, so only user text (names, details, lots, shades) is ever changed.
std::string CsvField(absl::string_view value);

// True when a spreadsheet would treat `value` as a formula (see CsvField).
bool IsSpreadsheetFormula(absl::string_view value);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_CSV_H_
