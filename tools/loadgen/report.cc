#include "tools/loadgen/report.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/server/log.h"

namespace smp::loadgen {
namespace {

std::string Quote(absl::string_view s) { return absl::StrCat("\"", JsonEscape(s), "\""); }

}  // namespace

std::string FormatJson(const RunInfo& info, const LoadResult& result) {
  const Histogram& h = result.latency_us;
  std::string out = absl::StrCat(
      "{\"scenario\":", Quote(info.scenario), ",\"label\":", Quote(info.label),
      ",\"target\":", Quote(info.target), ",\"mode\":\"", info.rate > 0 ? "open" : "closed",
      "\",\"rate\":", absl::StrFormat("%.1f", info.rate), ",\"concurrency\":", info.concurrency,
      ",\"channels\":", info.channels, ",\"warmup_s\":", absl::StrFormat("%.3f", info.warmup_s),
      ",\"duration_s\":", absl::StrFormat("%.3f", result.measured_seconds),
      ",\"throughput_qps\":", absl::StrFormat("%.1f", result.qps()), ",\"ok\":", result.ok,
      ",\"error_count\":", result.error_count(), ",\"calls\":", result.calls(), ",\"errors\":{");
  const char* sep = "";
  for (const auto& [code, count] : result.errors) {
    absl::StrAppend(&out, sep, Quote(code), ":", count);
    sep = ",";
  }
  absl::StrAppend(&out, "}");
  if (!result.expected.empty()) {  // only scenarios that expect some error codes
    absl::StrAppend(&out, ",\"expected\":{");
    sep = "";
    for (const auto& [code, count] : result.expected) {
      absl::StrAppend(&out, sep, Quote(code), ":", count);
      sep = ",";
    }
    absl::StrAppend(&out, "}");
  }
  absl::StrAppend(&out, ",\"error_samples\":{");
  sep = "";
  for (const auto& [code, message] : result.error_samples) {
    absl::StrAppend(&out, sep, Quote(code), ":", Quote(message));
    sep = ",";
  }
  absl::StrAppend(&out, "},\"p50_us\":", h.ValueAtPercentile(50),
                  ",\"p90_us\":", h.ValueAtPercentile(90), ",\"p99_us\":", h.ValueAtPercentile(99),
                  ",\"p999_us\":", h.ValueAtPercentile(99.9), ",\"max_us\":", h.max(),
                  ",\"min_us\":", h.min(), ",\"mean_us\":", absl::StrFormat("%.1f", h.mean()),
                  ",\"capped\":", result.capped ? "true" : "false", ",\"started\":", result.started,
                  ",\"max_send_lag_us\":", result.max_send_lag_us, ",\"cpu_s\":{");
  sep = "";
  for (const auto& [name, seconds] : info.cpu_seconds) {
    absl::StrAppend(&out, sep, Quote(name), ":", absl::StrFormat("%.3f", seconds));
    sep = ",";
  }
  absl::StrAppend(&out, "},\"cpu_us_per_call\":{");
  sep = "";
  const int64_t calls = result.ok + result.expected_count() + result.error_count();
  for (const auto& [name, seconds] : info.cpu_seconds) {
    const double per_call = calls > 0 ? seconds * 1e6 / static_cast<double>(calls) : 0;
    absl::StrAppend(&out, sep, Quote(name), ":", absl::StrFormat("%.1f", per_call));
    sep = ",";
  }
  absl::StrAppend(&out, "}}");
  return out;
}

std::string FormatSummary(const RunInfo& info, const LoadResult& result) {
  const Histogram& h = result.latency_us;
  std::string mode =
      info.rate > 0 ? absl::StrFormat("open %.0f/s", info.rate) : std::string("closed");
  std::string out = absl::StrFormat(
      "%s%s c=%d ch=%d %s: %.1f qps over %.1f s, p50 %d p90 %d p99 %d p99.9 %d max %d us, ok %d, "
      "errors %d",
      info.scenario, info.label.empty() ? "" : absl::StrCat(" [", info.label, "]"),
      info.concurrency, info.channels, mode, result.qps(), result.measured_seconds,
      h.ValueAtPercentile(50), h.ValueAtPercentile(90), h.ValueAtPercentile(99),
      h.ValueAtPercentile(99.9), h.max(), result.ok, result.error_count());
  for (const auto& [code, count] : result.errors) absl::StrAppend(&out, " ", code, "=", count);
  for (const auto& [code, count] : result.expected) {
    absl::StrAppend(&out, ", expected ", code, "=", count);
  }
  if (result.capped) absl::StrAppend(&out, " (stopped by --max_requests)");
  return out;
}

namespace {

template <typename T>
void AppendObject(std::string* out, absl::string_view key,
                  const std::vector<std::pair<std::string, T>>& values, const char* format) {
  absl::StrAppend(out, ",\"", key, "\":{");
  const char* sep = "";
  for (const auto& [name, value] : values) {
    absl::StrAppend(out, sep, Quote(name), ":", absl::StrFormat(format, value));
    sep = ",";
  }
  absl::StrAppend(out, "}");
}

}  // namespace

std::string FormatTaskJson(const RunInfo& info, const TaskReport& report,
                           const std::vector<std::pair<std::string, double>>& setup) {
  const double median = report.median_seconds();
  std::string out = absl::StrCat(
      "{\"kind\":\"task\",\"scenario\":", Quote(info.scenario), ",\"label\":", Quote(info.label),
      ",\"target\":", Quote(info.target), ",\"task\":", Quote(report.task),
      ",\"unit\":", Quote(report.unit), ",\"items\":", report.items,
      ",\"runs\":", report.seconds.size(), ",\"seconds\":[");
  const char* sep = "";
  for (double s : report.seconds) {
    absl::StrAppend(&out, sep, absl::StrFormat("%.3f", s));
    sep = ",";
  }
  absl::StrAppend(
      &out, "],\"median_s\":", absl::StrFormat("%.3f", median), ",\"items_per_s\":",
      absl::StrFormat("%.1f", median > 0 ? static_cast<double>(report.items) / median : 0.0));
  AppendObject(&out, "setup", setup, "%.3f");
  AppendObject(&out, "cpu_s", report.cpu_seconds, "%.3f");
  AppendObject(&out, "peak_rss_kb", report.peak_rss_kb, "%d");
  AppendObject(&out, "rss_before_kb", report.rss_before_kb, "%d");
  if (!report.figures.empty()) AppendObject(&out, "figures", report.figures, "%.3f");
  absl::StrAppend(&out, "}");
  return out;
}

std::string FormatTaskSummary(const RunInfo& info, const TaskReport& report) {
  const double median = report.median_seconds();
  std::string out =
      absl::StrFormat("%s%s %s: %d %s in %.2f s (median of %d), %.0f %s/s", info.scenario,
                      info.label.empty() ? "" : absl::StrCat(" [", info.label, "]"), report.task,
                      report.items, report.unit, median, report.seconds.size(),
                      median > 0 ? static_cast<double>(report.items) / median : 0.0, report.unit);
  for (const auto& [name, kb] : report.peak_rss_kb) {
    absl::StrAppend(&out, absl::StrFormat(", %s peak %.1f MB", name, kb / 1024.0));
  }
  for (const auto& [name, value] : report.figures) {
    absl::StrAppend(&out, absl::StrFormat(", %s %.1f", name, value));
  }
  return out;
}

absl::StatusOr<double> ProcessCpuSeconds(int pid) {
  const std::string path = pid == 0 ? "/proc/self/stat" : absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const size_t close = stat.rfind(')');
  if (!in || close == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::NotFoundError(absl::StrCat("cannot parse ", path));
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace smp::loadgen
