#include "tools/loadgen/report.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace smp::loadgen {
namespace {

TEST(ReportTest, JsonHasEveryFieldOnOneLine) {
  RunInfo info;
  info.scenario = "echo";
  info.label = "cache \"off\"";
  info.target = "127.0.0.1:1";
  info.concurrency = 16;
  info.channels = 4;
  info.warmup_s = 2;
  info.cpu_seconds = {{"loadgen", 1.5}, {"server", 3.0}};
  LoadResult result;
  for (int v = 1; v <= 100; ++v) result.latency_us.Record(v);
  result.ok = 100;
  result.errors = {{"RESOURCE_EXHAUSTED", 50}};
  result.error_samples = {{"RESOURCE_EXHAUSTED", "Server Threadpool Exhausted"}};
  result.measured_seconds = 10;
  result.started = 180;
  EXPECT_EQ(FormatJson(info, result),
            "{\"scenario\":\"echo\",\"label\":\"cache \\\"off\\\"\",\"target\":\"127.0.0.1:1\","
            "\"mode\":\"closed\",\"rate\":0.0,\"concurrency\":16,\"channels\":4,"
            "\"warmup_s\":2.000,\"duration_s\":10.000,\"throughput_qps\":10.0,\"ok\":100,"
            "\"error_count\":50,\"calls\":150,\"errors\":{\"RESOURCE_EXHAUSTED\":50},"
            "\"error_samples\":{\"RESOURCE_EXHAUSTED\":\"Server Threadpool Exhausted\"},"
            "\"p50_us\":50,\"p90_us\":90,\"p99_us\":99,\"p999_us\":100,\"max_us\":100,"
            "\"min_us\":1,\"mean_us\":50.5,\"capped\":false,\"started\":180,"
            "\"max_send_lag_us\":0,\"cpu_s\":{\"loadgen\":1.500,\"server\":3.000},"
            "\"cpu_us_per_call\":{\"loadgen\":10000.0,\"server\":20000.0}}");
  const std::string summary = FormatSummary(info, result);
  EXPECT_TRUE(absl::StrContains(summary, "10.0 qps")) << summary;
  EXPECT_TRUE(absl::StrContains(summary, "RESOURCE_EXHAUSTED=50")) << summary;
}

TEST(ReportTest, TaskJsonHasEveryFieldOnOneLine) {
  RunInfo info;
  info.scenario = "scheduling.sync";
  info.target = "127.0.0.1:1";
  TaskReport report;
  report.task = "list_changes";
  report.unit = "changes";
  report.items = 1000;
  report.seconds = {2.0, 1.0, 4.0};
  report.cpu_seconds = {{"server", 0.5}};
  report.peak_rss_kb = {{"server", 2048}};
  report.rss_before_kb = {{"server", 1024}};
  EXPECT_EQ(FormatTaskJson(info, report, {{"seed_s", 3.25}}),
            "{\"kind\":\"task\",\"scenario\":\"scheduling.sync\",\"label\":\"\","
            "\"target\":\"127.0.0.1:1\",\"task\":\"list_changes\",\"unit\":\"changes\","
            "\"items\":1000,\"runs\":3,\"seconds\":[2.000,1.000,4.000],\"median_s\":2.000,"
            "\"items_per_s\":500.0,\"setup\":{\"seed_s\":3.250},\"cpu_s\":{\"server\":0.500},"
            "\"peak_rss_kb\":{\"server\":2048},\"rss_before_kb\":{\"server\":1024}}");
  const std::string summary = FormatTaskSummary(info, report);
  EXPECT_TRUE(absl::StrContains(summary, "1000 changes in 2.00 s")) << summary;
  EXPECT_TRUE(absl::StrContains(summary, "server peak 2.0 MB")) << summary;
}

TEST(ReportTest, CpuSecondsOfThisProcess) {
  absl::StatusOr<double> cpu = ProcessCpuSeconds(0);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_GE(*cpu, 0);
  EXPECT_FALSE(ProcessCpuSeconds(999'999'999).ok());
}

}  // namespace
}  // namespace smp::loadgen
