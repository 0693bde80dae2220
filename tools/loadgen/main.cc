// smp_loadgen: drives one built-in scenario against a running service and reports throughput,
// latency percentiles and errors by status code. See tools/bench/run.sh for the suite's
// benchmark, and --help for the flags (each also settable as SMP_<NAME>).
//
//   smp_loadgen --target=127.0.0.1:7001 --scenario=echo --concurrency=16 --channels=4 --json
//   smp_loadgen --target=... --scenario=identity.get_clinic --setup_code=... --rate=5000

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/server/flags_env.h"
#include "tools/loadgen/load.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/scenarios.h"

ABSL_FLAG(std::string, target, "", "Service to load, host:port (plaintext). Required.");
ABSL_FLAG(std::string, scenario, "echo",
          "Built-in scenario: echo, identity.get_clinic, scheduling.find_availability, "
          "scheduling.book, scheduling.book_contention.");
ABSL_FLAG(int, concurrency, 1,
          "Closed loop: calls kept outstanding. Open loop (--rate): cap on outstanding calls.");
ABSL_FLAG(int, channels, 1,
          "Connections the calls are spread over (1..concurrency), each a distinct channel.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2), "Unmeasured period before the measurement.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured period.");
ABSL_FLAG(int64_t, max_requests, 10'000'000,
          "Hard cap on calls started, warm-up included; reaching it ends the run early.");
ABSL_FLAG(double, rate, 0,
          "Calls per second for an open loop (latency measured from each call's intended send "
          "time); 0 runs a closed loop.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Deadline of every call.");
ABSL_FLAG(int, payload_bytes, 64, "echo: payload size in bytes.");
ABSL_FLAG(std::string, setup_code, "",
          "identity.*: the identity service's one-time setup code, to create the benchmark "
          "admin on a fresh system; empty when it exists already.");
ABSL_FLAG(std::string, username, "bench-admin", "identity.*: account used by the scenario.");
ABSL_FLAG(std::string, password, "bench password 0123", "identity.*: its password.");
ABSL_FLAG(std::string, identity_target, "",
          "scheduling.*: the identity service (host:port) sharing Redis with the target, for "
          "setup (clinic, staff).");
ABSL_FLAG(int64_t, booking_slots, 20000,
          "scheduling.book*: distinct booking requests prepared; no run makes more calls.");
ABSL_FLAG(bool, json, false,
          "Print the result as one JSON line on stdout (the summary line goes to stderr).");
ABSL_FLAG(std::string, label, "", "Free text copied into the report (e.g. \"cache off\").");
ABSL_FLAG(std::string, watch_pids, "",
          "name:pid,... of processes whose CPU time during the measured window is reported "
          "(cpu_s, cpu_us_per_call); this process is always reported as \"loadgen\".");

namespace smp::loadgen {
namespace {

struct Watched {
  std::string name;
  int pid = 0;  // 0: this process
  double start = 0, end = 0;
};

absl::StatusOr<std::vector<Watched>> ParseWatchPids(const std::string& spec) {
  std::vector<Watched> watched = {{"loadgen", 0}};
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(item, absl::MaxSplits(':', 1));
    int pid = 0;
    if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &pid) || pid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--watch_pids: \"", item, "\" is not name:pid"));
    }
    watched.push_back({parts.first, pid});
  }
  return watched;
}

void SampleCpu(std::vector<Watched>& watched, bool start) {
  for (Watched& w : watched) {
    absl::StatusOr<double> cpu = ProcessCpuSeconds(w.pid);
    (start ? w.start : w.end) = cpu.ok() ? *cpu : 0;
  }
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for the smp services: closed or open loop, latency percentiles, errors "
      "by status code.\nUsage: smp_loadgen --target=HOST:PORT [--scenario=NAME] [flags]");
  ParseFlagsWithEnvironment(argc, argv);

  RunInfo info;
  info.scenario = absl::GetFlag(FLAGS_scenario);
  info.label = absl::GetFlag(FLAGS_label);
  info.target = absl::GetFlag(FLAGS_target);
  info.concurrency = absl::GetFlag(FLAGS_concurrency);
  info.channels = absl::GetFlag(FLAGS_channels);
  info.rate = absl::GetFlag(FLAGS_rate);
  info.warmup_s = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_warmup));
  if (info.target.empty()) {
    std::fprintf(stderr, "smp_loadgen: --target is required\n");
    return 2;
  }
  absl::StatusOr<std::vector<Watched>> watched = ParseWatchPids(absl::GetFlag(FLAGS_watch_pids));
  if (!watched.ok()) {
    std::fprintf(stderr, "smp_loadgen: %s\n", watched.status().ToString().c_str());
    return 2;
  }

  ScenarioOptions scenario_options;
  scenario_options.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  scenario_options.setup_code = absl::GetFlag(FLAGS_setup_code);
  scenario_options.username = absl::GetFlag(FLAGS_username);
  scenario_options.password = absl::GetFlag(FLAGS_password);
  scenario_options.identity_target = absl::GetFlag(FLAGS_identity_target);
  scenario_options.booking_slots = absl::GetFlag(FLAGS_booking_slots);
  absl::StatusOr<CallSpec> call =
      PrepareScenario(info.scenario, scenario_options,
                      grpc::CreateChannel(info.target, grpc::InsecureChannelCredentials()));
  if (!call.ok()) {
    std::fprintf(stderr, "smp_loadgen: scenario %s setup failed: %s\n", info.scenario.c_str(),
                 call.status().ToString().c_str());
    return 1;
  }

  LoadOptions options;
  options.target = info.target;
  options.concurrency = info.concurrency;
  options.channels = info.channels;
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.max_requests = absl::GetFlag(FLAGS_max_requests);
  options.rate = info.rate;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.on_measure_start = [&] { SampleCpu(*watched, true); };
  options.on_measure_end = [&] { SampleCpu(*watched, false); };
  absl::StatusOr<LoadResult> result = RunLoad(options, *call);
  if (!result.ok()) {
    std::fprintf(stderr, "smp_loadgen: %s\n", result.status().ToString().c_str());
    return absl::IsInvalidArgument(result.status()) ? 2 : 1;
  }
  for (const Watched& w : *watched) info.cpu_seconds.emplace_back(w.name, w.end - w.start);

  const std::string summary = FormatSummary(info, *result);
  if (absl::GetFlag(FLAGS_json)) {
    std::fprintf(stderr, "%s\n", summary.c_str());
    std::printf("%s\n", FormatJson(info, *result).c_str());
  } else {
    std::printf("%s\n", summary.c_str());
  }
  if (call->verify) {
    if (absl::Status status = call->verify(); !status.ok()) {
      std::fprintf(stderr, "smp_loadgen: scenario %s verification failed: %s\n",
                   info.scenario.c_str(), status.ToString().c_str());
      return 1;
    }
  }
  if (result->measured_seconds <= 0) {
    std::fprintf(stderr,
                 "smp_loadgen: --max_requests was reached during the warm-up; nothing "
                 "was measured\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace smp::loadgen

int main(int argc, char** argv) { return smp::loadgen::Main(argc, argv); }
