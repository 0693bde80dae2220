#ifndef SMP_TOOLS_LOADGEN_TASK_H_
#define SMP_TOOLS_LOADGEN_TASK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/loadgen/scenarios.h"

namespace smp::loadgen {

// A process whose CPU time and peak memory a measurement reports; pid 0 is this process.
struct WatchedProcess {
  std::string name;
  int pid = 0;
};

// The measurement of one task of a scenario.
struct TaskReport {
  std::string task;
  std::string unit;
  int64_t items = 0;            // what each run handled (the same every run)
  std::vector<double> seconds;  // wall time of each run
  // Per watched process: the median CPU seconds of a run, the highest resident set during any
  // run (VmHWM after clearing it before each run; the lifetime peak where clearing is refused),
  // and the resident set before the first run, in kB.
  std::vector<std::pair<std::string, double>> cpu_seconds;
  std::vector<std::pair<std::string, int64_t>> peak_rss_kb;
  std::vector<std::pair<std::string, int64_t>> rss_before_kb;
  // The task's own figures (Task::figures), each the median over runs.
  std::vector<std::pair<std::string, double>> figures;

  double median_seconds() const;
};

// Runs every task of `set` `runs` times, interleaved (task 1, task 2, task 1, ...), watching
// `watched`. The first failing run's error, or an error when a run's count differs from the first.
absl::StatusOr<std::vector<TaskReport>> RunTasks(const TaskSet& set, int runs,
                                                 const std::vector<WatchedProcess>& watched);

// Resident set and its high-water mark of a process (pid 0: this one), kB, from /proc.
absl::StatusOr<int64_t> ProcessRssKb(int pid);
absl::StatusOr<int64_t> ProcessPeakRssKb(int pid);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_TASK_H_
