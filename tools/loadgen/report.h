#ifndef SMP_TOOLS_LOADGEN_REPORT_H_
#define SMP_TOOLS_LOADGEN_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/loadgen/load.h"
#include "tools/loadgen/task.h"

namespace smp::loadgen {

// What a run was, for its report.
struct RunInfo {
  std::string scenario;
  std::string label;  // free text from --label ("" when not given)
  std::string target;
  int concurrency = 1;
  int channels = 1;
  double rate = 0;  // 0: closed loop
  double warmup_s = 0;
  // CPU seconds each watched process (and "loadgen" itself) used during the measured window.
  std::vector<std::pair<std::string, double>> cpu_seconds;
};

// One JSON object on one line (no trailing newline):
//   {"scenario":..,"label":..,"target":..,"mode":"closed"|"open","rate":..,"concurrency":..,
//    "channels":..,"warmup_s":..,"duration_s":<measured>,"throughput_qps":<OK calls/s>,"ok":..,
//    "error_count":..,"calls":<measured: ok + expected +
//    errors>,"errors":{"CODE":n,..},"error_samples":{"CODE":"first message",..},
//    "p50_us":..,"p90_us":..,"p99_us":..,"p999_us":..,"max_us":..,"min_us":..,"mean_us":..,
//    "capped":bool,"started":..,"max_send_lag_us":..,"cpu_s":{"name":s,..},
//    "cpu_us_per_call":{"name":us,..}}
// Latencies are of OK calls only; cpu_us_per_call divides by every call measured (OK or not).
std::string FormatJson(const RunInfo& info, const LoadResult& result);

// One line for people, e.g.
//   echo c=16 ch=4 closed: 25012.3 qps, p50 512 us, p90 .. p99 .. p99.9 .. max .. us, ok 250123,
//   errors 0
std::string FormatSummary(const RunInfo& info, const LoadResult& result);

// One JSON object on one line per task of a task scenario:
//   {"kind":"task","scenario":..,"label":..,"target":..,"task":..,"unit":..,"items":..,"runs":..,
//    "seconds":[..],"median_s":..,"items_per_s":<items / median_s>,"setup":{"name":v,..},
//    "cpu_s":{"name":s,..},"peak_rss_kb":{"name":kb,..},"rss_before_kb":{"name":kb,..}}
std::string FormatTaskJson(const RunInfo& info, const TaskReport& report,
                           const std::vector<std::pair<std::string, double>>& setup);

// One line for people, e.g.
//   scheduling.sync list_changes: 100000 changes in 1.52 s (median of 3), 65789 changes/s
std::string FormatTaskSummary(const RunInfo& info, const TaskReport& report);

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat; pid 0 means this
// process. NOT_FOUND when there is no such process.
absl::StatusOr<double> ProcessCpuSeconds(int pid);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_REPORT_H_
