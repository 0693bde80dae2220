#include "tools/loadgen/task.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tools/loadgen/report.h"

namespace smp::loadgen {
namespace {

std::string ProcPath(int pid, absl::string_view file) {
  return pid == 0 ? absl::StrCat("/proc/self/", file) : absl::StrCat("/proc/", pid, "/", file);
}

absl::StatusOr<int64_t> StatusFieldKb(int pid, absl::string_view field) {
  std::ifstream in(ProcPath(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kb = 0;
    if (absl::SimpleAtoi(rest, &kb)) return kb;
  }
  return absl::NotFoundError(absl::StrCat("no ", field, " in ", ProcPath(pid, "status")));
}

// Resets VmHWM to the current resident set (Linux: "5" to clear_refs). False when refused.
bool ResetPeakRss(int pid) {
  std::ofstream out(ProcPath(pid, "clear_refs"));
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

absl::StatusOr<int64_t> ProcessRssKb(int pid) { return StatusFieldKb(pid, "VmRSS"); }
absl::StatusOr<int64_t> ProcessPeakRssKb(int pid) { return StatusFieldKb(pid, "VmHWM"); }

double TaskReport::median_seconds() const {
  if (seconds.empty()) return 0;
  std::vector<double> s = seconds;
  std::sort(s.begin(), s.end());
  const size_t n = s.size();
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

absl::StatusOr<std::vector<TaskReport>> RunTasks(const TaskSet& set, int runs,
                                                 const std::vector<WatchedProcess>& watched) {
  if (runs < 1) return absl::InvalidArgumentError("runs must be at least 1");
  std::vector<TaskReport> reports(set.tasks.size());
  // cpu[task][process] = CPU seconds of each run.
  std::vector<std::vector<std::vector<double>>> cpu(
      set.tasks.size(), std::vector<std::vector<double>>(watched.size()));
  // figures[task] = each run's figures.
  std::vector<std::vector<TaskFigures>> figures(set.tasks.size());
  for (size_t t = 0; t < set.tasks.size(); ++t) {
    reports[t].task = set.tasks[t].name;
    reports[t].unit = set.tasks[t].unit;
    for (const WatchedProcess& w : watched) {
      reports[t].peak_rss_kb.emplace_back(w.name, 0);
      absl::StatusOr<int64_t> rss = ProcessRssKb(w.pid);
      reports[t].rss_before_kb.emplace_back(w.name, rss.ok() ? *rss : 0);
    }
  }
  for (int r = 0; r < runs; ++r) {
    for (size_t t = 0; t < set.tasks.size(); ++t) {
      std::vector<double> cpu_start;
      for (const WatchedProcess& w : watched) {
        ResetPeakRss(w.pid);
        absl::StatusOr<double> c = ProcessCpuSeconds(w.pid);
        cpu_start.push_back(c.ok() ? *c : 0);
      }
      const absl::Time start = absl::Now();
      absl::StatusOr<int64_t> items = set.tasks[t].run();
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      if (!items.ok()) {
        return absl::Status(items.status().code(),
                            absl::StrCat("task ", set.tasks[t].name, " run ", r + 1, ": ",
                                         items.status().message()));
      }
      TaskReport& report = reports[t];
      if (r > 0 && *items != report.items) {
        return absl::InternalError(absl::StrCat("task ", set.tasks[t].name, " run ", r + 1,
                                                " handled ", *items, " ", report.unit,
                                                ", the first run ", report.items));
      }
      report.items = *items;
      report.seconds.push_back(seconds);
      if (set.tasks[t].figures) figures[t].push_back(set.tasks[t].figures());
      for (size_t w = 0; w < watched.size(); ++w) {
        absl::StatusOr<double> c = ProcessCpuSeconds(watched[w].pid);
        cpu[t][w].push_back(c.ok() ? *c - cpu_start[w] : 0);
        absl::StatusOr<int64_t> peak = ProcessPeakRssKb(watched[w].pid);
        if (peak.ok()) {
          report.peak_rss_kb[w].second = std::max(report.peak_rss_kb[w].second, *peak);
        }
      }
    }
  }
  for (size_t t = 0; t < set.tasks.size(); ++t) {
    for (size_t w = 0; w < watched.size(); ++w) {
      std::vector<double> c = cpu[t][w];
      std::sort(c.begin(), c.end());
      reports[t].cpu_seconds.emplace_back(watched[w].name, c[c.size() / 2]);
    }
    if (figures[t].empty()) continue;
    for (size_t f = 0; f < figures[t].front().size(); ++f) {
      std::vector<double> values;
      for (const TaskFigures& run : figures[t]) {
        if (f < run.size()) values.push_back(run[f].second);
      }
      std::sort(values.begin(), values.end());
      reports[t].figures.emplace_back(figures[t].front()[f].first, values[values.size() / 2]);
    }
  }
  return reports;
}

}  // namespace smp::loadgen
