#ifndef SMP_TOOLS_SMPCTL_OUTPUT_H_
#define SMP_TOOLS_SMPCTL_OUTPUT_H_

// What smpctl prints on stdout. By default, for people: aligned tables (one row per item) and
// "field: value" blocks (one item). With --json, for scripts: each response message as ONE line of
// protobuf JSON (the standard proto3 JSON mapping, lowerCamelCase field names, fields with default
// values included); commands that stream (report generate) print one line per streamed message.
// Nothing else goes to stdout in --json mode; notes (next page token, progress) go to stderr.

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace smp::smpctl {

// Columns left-aligned, two spaces apart, a header row in capitals; "(none)" under the header
// when there are no rows.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "name:   value" lines, names padded to one width; empty values are left out.
using Fields = std::vector<std::pair<std::string, std::string>>;
void PrintFields(std::ostream& out, const Fields& fields);

// The message as one line of protobuf JSON.
std::string ToJsonLine(const google::protobuf::Message& message);

class Output {
 public:
  Output(std::ostream& out, std::ostream& err, bool json) : out_(out), err_(err), json_(json) {}

  bool json() const { return json_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  void Json(const google::protobuf::Message& message) { out_ << ToJsonLine(message) << "\n"; }
  void Print(const Table& table) { table.Print(out_); }
  void Print(const Fields& fields) { PrintFields(out_, fields); }
  // One line for people on stdout (table mode only).
  void Line(absl::string_view text);
  // A note on stderr, e.g. "more: --page_token=...".
  void Note(absl::string_view text);
  // A list page's continuation, as a note; nothing when `token` is empty.
  void NextPage(const std::string& token);

 private:
  std::ostream& out_;
  std::ostream& err_;
  bool json_;
};

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_OUTPUT_H_
