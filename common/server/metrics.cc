#include "common/server/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace smp {
namespace {

std::string RenderLabels(const MetricLabels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out.push_back(',');
    absl::StrAppend(&out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  return out;
}

// HELP text escapes only backslash and newline (format 0.0.4).
std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void AppendSample(std::string* out, absl::string_view name, absl::string_view labels,
                  double value) {
  absl::StrAppend(out, name);
  if (!labels.empty()) absl::StrAppend(out, "{", labels, "}");
  absl::StrAppend(out, " ", FormatMetricValue(value), "\n");
}

void AppendHeader(std::string* out, absl::string_view name, absl::string_view help,
                  absl::string_view type) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type, "\n");
}

double ResidentMemoryBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// Start time from the kernel (boot time + the process's start in clock ticks after boot), so it
// is right even though the registry is created lazily. Falls back to the first call's time.
double ComputeStartTimeSeconds() {
  const double fallback = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return fallback;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); starttime is field 22.
  uint64_t start_ticks = 0;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &start_ticks)) return fallback;
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  uint64_t boot_time = 0;
  while (std::getline(proc_stat, line)) {
    if (absl::StartsWith(line, "btime ") && absl::SimpleAtoi(line.substr(6), &boot_time)) break;
  }
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (boot_time == 0 || ticks_per_second <= 0) return fallback;
  return static_cast<double>(boot_time) +
         static_cast<double>(start_ticks) / static_cast<double>(ticks_per_second);
}

double StartTimeSeconds() {
  static const double start = ComputeStartTimeSeconds();
  return start;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) <= 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[32];
  for (int precision : {15, 17}) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, value);
    if (precision == 17 || std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

const std::vector<double>& RpcLatencyBuckets() {
  static const auto* buckets = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

MetricsRegistry::MetricsRegistry(bool process_metrics) : process_metrics_(process_metrics) {
  if (process_metrics_) StartTimeSeconds();  // Read /proc once, early.
}

MetricsRegistry::Series* MetricsRegistry::FindOrCreate(absl::string_view name,
                                                       absl::string_view help, Kind kind,
                                                       const MetricLabels& labels,
                                                       const std::vector<double>* buckets) {
  auto [family_it, created] = families_.try_emplace(name);
  Family& family = family_it->second;
  if (created) {
    family.kind = kind;
    family.help = std::string(help);
    if (buckets != nullptr) {
      for (double b : *buckets) {
        if (std::isfinite(b)) family.bounds.push_back(b);
      }
      std::sort(family.bounds.begin(), family.bounds.end());
      family.bounds.erase(std::unique(family.bounds.begin(), family.bounds.end()),
                          family.bounds.end());
    }
  } else if (family.kind != kind) {
    return nullptr;
  }
  auto [series_it, new_series] = family.series.try_emplace(RenderLabels(labels));
  if (new_series && kind == Kind::kHistogram) {
    series_it->second.bucket_hits.assign(family.bounds.size() + 1, 0);
  }
  return &series_it->second;
}

void MetricsRegistry::IncrementCounter(absl::string_view name, absl::string_view help,
                                       const MetricLabels& labels, double delta) {
  if (!(delta >= 0)) return;
  absl::MutexLock lock(&mu_);
  if (Series* s = FindOrCreate(name, help, Kind::kCounter, labels, nullptr)) s->value += delta;
}

void MetricsRegistry::SetGauge(absl::string_view name, absl::string_view help,
                               const MetricLabels& labels, double value) {
  absl::MutexLock lock(&mu_);
  if (Series* s = FindOrCreate(name, help, Kind::kGauge, labels, nullptr)) s->value = value;
}

void MetricsRegistry::ObserveHistogram(absl::string_view name, absl::string_view help,
                                       const MetricLabels& labels, double value,
                                       const std::vector<double>& buckets) {
  if (std::isnan(value)) return;
  absl::MutexLock lock(&mu_);
  Series* s = FindOrCreate(name, help, Kind::kHistogram, labels, &buckets);
  if (s == nullptr) return;
  const auto& bounds = families_.find(name)->second.bounds;
  // First bucket whose upper bound is >= value ("le"); past the end is +Inf.
  const size_t index = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++s->bucket_hits[index];
  s->sum += value;
  ++s->count;
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::string out;
  {
    absl::MutexLock lock(&mu_);
    std::vector<const std::pair<const std::string, Family>*> families;
    families.reserve(families_.size());
    for (const auto& entry : families_) families.push_back(&entry);
    std::sort(families.begin(), families.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* entry : families) {
      const std::string& name = entry->first;
      const Family& family = entry->second;
      std::vector<const std::pair<const std::string, Series>*> series;
      series.reserve(family.series.size());
      for (const auto& s : family.series) series.push_back(&s);
      std::sort(series.begin(), series.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      switch (family.kind) {
        case Kind::kCounter:
        case Kind::kGauge:
          AppendHeader(&out, name, family.help,
                       family.kind == Kind::kCounter ? "counter" : "gauge");
          for (const auto* s : series) AppendSample(&out, name, s->first, s->second.value);
          break;
        case Kind::kHistogram: {
          AppendHeader(&out, name, family.help, "histogram");
          const std::string bucket_name = name + "_bucket";
          for (const auto* s : series) {
            const std::string prefix = s->first.empty() ? "" : s->first + ",";
            uint64_t cumulative = 0;
            for (size_t i = 0; i <= family.bounds.size(); ++i) {
              cumulative += s->second.bucket_hits[i];
              const std::string le =
                  i < family.bounds.size() ? FormatMetricValue(family.bounds[i]) : "+Inf";
              AppendSample(&out, bucket_name, absl::StrCat(prefix, "le=\"", le, "\""),
                           static_cast<double>(cumulative));
            }
            AppendSample(&out, name + "_sum", s->first, s->second.sum);
            AppendSample(&out, name + "_count", s->first, static_cast<double>(s->second.count));
          }
          break;
        }
      }
    }
  }
  if (process_metrics_) {
    AppendHeader(&out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    AppendSample(&out, "process_resident_memory_bytes", "", ResidentMemoryBytes());
    AppendHeader(&out, "process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", "gauge");
    AppendSample(&out, "process_start_time_seconds", "", StartTimeSeconds());
  }
  return out;
}

MetricsRegistry& Metrics() {
  static MetricsRegistry* registry = new MetricsRegistry(/*process_metrics=*/true);
  return *registry;
}

}  // namespace smp
