#include "tools/smpctl/output.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace smp::smpctl {
namespace {

// Display width: UTF-8 code points (continuation bytes do not count).
size_t Width(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::string& c : cells) c = OneLine(std::move(c));
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = Width(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& row, bool upper) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell = upper ? absl::AsciiStrToUpper(row[i]) : row[i];
      if (i + 1 < row.size()) cell.append(widths[i] - Width(cell) + 2, ' ');
      line += cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print_row(headers_, true);
  for (const auto& row : rows_) print_row(row, false);
  if (rows_.empty()) out << "(none)\n";
}

void PrintFields(std::ostream& out, const Fields& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) {
    if (!value.empty()) width = std::max(width, Width(name));
  }
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    out << name << ":" << std::string(width - Width(name) + 2, ' ') << OneLine(value) << "\n";
  }
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return "{}";
  }
  return json;
}

void Output::Line(absl::string_view text) {
  if (!json_) out_ << text << "\n";
}

void Output::Note(absl::string_view text) { err_ << text << "\n"; }

void Output::NextPage(const std::string& token) {
  if (!token.empty() && !json_)
    Note(absl::StrCat("more results: repeat with --page_token=", token));
}

}  // namespace smp::smpctl
