#ifndef SMP_COMMON_SERVER_METRICS_H_
#define SMP_COMMON_SERVER_METRICS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace smp {

// Label name/value pairs of one time series, e.g. {{"grpc_method", "Check"}}. Order matters only
// for output: the same names in a different order are a different series, so callers should pass
// labels in a fixed order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A small in-process metrics registry rendered in the Prometheus text exposition format 0.0.4.
// Thread-safe. (Why not prometheus-cpp, which Debian 12 does package: see metrics_http.h.)
//
// Metric and label names are program constants and must match [a-zA-Z_:][a-zA-Z0-9_:]* (not
// checked). Label values and help text may be any bytes; they are escaped on output. A metric
// family is created by its first use; `help` (and for histograms `buckets`) of later calls are
// ignored. Using one name as two kinds (a counter and a histogram) is a programming error: the
// later kind's updates are dropped.
//
// Every update takes one mutex for a hash lookup and an add; the hot path is about once per RPC,
// well below where that lock would matter.
class MetricsRegistry {
 public:
  // `process_metrics`: also render process_resident_memory_bytes and process_start_time_seconds
  // (set for the process registry; tests use plain registries).
  explicit MetricsRegistry(bool process_metrics = false);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Adds `delta` (>= 0; negative deltas are ignored, counters only go up) to a counter.
  void IncrementCounter(absl::string_view name, absl::string_view help, const MetricLabels& labels,
                        double delta = 1);

  // Sets a gauge (a value that goes up and down, e.g. an outbox backlog).
  void SetGauge(absl::string_view name, absl::string_view help, const MetricLabels& labels,
                double value);

  // Records one observation. `buckets` are the upper bounds (le) of the histogram, used when the
  // family is created: sorted, de-duplicated, +Inf appended. NaN observations are ignored.
  void ObserveHistogram(absl::string_view name, absl::string_view help, const MetricLabels& labels,
                        double value, const std::vector<double>& buckets);

  // The whole registry in text format 0.0.4, families sorted by name and series by labels, each
  // family with # HELP and # TYPE lines; histograms with cumulative _bucket{le=...} series
  // (ending in le="+Inf"), _sum and _count; then the process metrics when enabled.
  std::string RenderPrometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;                   // counter / gauge
    std::vector<uint64_t> bucket_hits;  // histogram, per bucket (not cumulative); last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<double> bounds;  // histogram upper bounds, without +Inf
    // Keyed by the rendered label text (`a="x",b="y"`), which is also what output needs.
    absl::flat_hash_map<std::string, Series> series;
  };

  // The series for (name, labels), creating the family and series as needed; null when the name
  // is already used by another kind.
  Series* FindOrCreate(absl::string_view name, absl::string_view help, Kind kind,
                       const MetricLabels& labels, const std::vector<double>* buckets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool process_metrics_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// The process-wide registry (never destroyed). The RPC observer and the metrics endpoint use it.
MetricsRegistry& Metrics();

// Helpers for other text writers (exposed for tests).
// A label value escaped for the text format: \ -> \\, " -> \", newline -> \n.
std::string EscapeLabelValue(absl::string_view value);
// A sample value: integers up to 2^53 without exponent or fraction, +Inf, -Inf, NaN, otherwise
// the shortest text that reads back as the same double.
std::string FormatMetricValue(double value);

// Latency buckets for RPC handling, 0.5 ms .. 10 s.
const std::vector<double>& RpcLatencyBuckets();

}  // namespace smp

#endif  // SMP_COMMON_SERVER_METRICS_H_
