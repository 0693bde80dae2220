// smp_loadgen: drives one built-in scenario against a running service and reports throughput,
// latency percentiles and errors by status code. See tools/bench/run.sh for the suite's
// benchmark, and --help for the flags (each also settable as SMP_<NAME>).
//
//   smp_loadgen --target=127.0.0.1:7001 --scenario=echo --concurrency=16 --channels=4 --json
//   smp_loadgen --target=... --scenario=identity.get_clinic --setup_code=... --rate=5000

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/server/flags_env.h"
#include "tools/loadgen/client_credentials.h"
#include "tools/loadgen/load.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/scenarios.h"
#include "tools/loadgen/task.h"

ABSL_FLAG(std::string, target, "",
          "Service to load, host:port (or a gRPC target such as ipv4:host:port,host:port). "
          "Required.");
ABSL_FLAG(std::string, lb_policy, "",
          "gRPC load balancing of every channel to --target: empty or pick_first (all calls of a "
          "channel to one address), or round_robin (calls take the addresses of a multi-address "
          "target in turn: --target=ipv4:127.0.0.1:7002,127.0.0.1:7012 for several replicas).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM roots of the services' certificates: every channel (target, identity_target) uses "
          "TLS. Empty: plaintext (loopback).");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, scenario, "echo",
          "Built-in scenario: echo, identity.get_clinic, scheduling.find_availability, "
          "scheduling.book, scheduling.book_contention, scheduling.get_appointment, "
          "scheduling.sync (tasks), inventory.issue, compliance.report (task), billing.balance. "
          "--list_scenarios describes them.");
ABSL_FLAG(bool, list_scenarios, false, "Print the built-in scenarios and exit.");
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
ABSL_FLAG(std::string, scheduling_target, "",
          "inventory.issue: the scheduling service (host:port) the target asks where an "
          "appointment is; the appointments issued to are booked there.");
ABSL_FLAG(double, max_error_ratio, smp::loadgen::kDefaultMaxErrorRatio,
          "A load run fails (exit 1, naming the scenario and the status codes) when more than "
          "this share of its measured calls failed; expected answers (e.g. the losers of "
          "scheduling.book_contention) are not failures.");
ABSL_FLAG(
    int64_t, booking_slots, 20000,
    "scheduling.book*, inventory.issue: distinct requests prepared; no run makes more calls.");
ABSL_FLAG(int64_t, sync_changes, 100000,
          "scheduling.sync: changes in the clinic's feed (bookings seeded through the API).");
ABSL_FLAG(int, fanout_watchers, 1000,
          "scheduling.watch_fanout: WatchChanges streams of one clinic held at once (the server's "
          "--max_streams_per_session and --max_streams must allow them).");
ABSL_FLAG(int64_t, fanout_changes, 100,
          "scheduling.watch_fanout: bookings made, one after another, while the streams watch.");
ABSL_FLAG(int64_t, report_procedures, 50000,
          "compliance.report: procedure records of the year (seeded through the API).");
ABSL_FLAG(int, report_clinics, 10, "compliance.report: clinics of the chain.");
ABSL_FLAG(std::string, bulk_seed_data_dir, "",
          "compliance.report: seed through compliance's store in large transactions into the "
          "SQLite database of this data directory (the running compliance's --data_dir) instead "
          "of the Record* RPCs (README, Benchmarks).");
ABSL_FLAG(int, seed_concurrency, 32, "Calls in flight while seeding data through the API.");
ABSL_FLAG(int, task_runs, 3, "Task scenarios: runs of each task (interleaved); median reported.");
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

// A task scenario: setup, then each task --task_runs times; one JSON line per task on stdout
// with --json (a summary line each on stderr), else the summaries on stdout.
int RunTaskScenario(const Scenario& scenario, const ScenarioOptions& options,
                    const std::shared_ptr<grpc::Channel>& channel, const RunInfo& info,
                    const std::vector<Watched>& watched) {
  absl::StatusOr<TaskSet> set = scenario.prepare_tasks(options, channel);
  if (!set.ok()) {
    std::fprintf(stderr, "smp_loadgen: scenario %s setup failed: %s\n", info.scenario.c_str(),
                 set.status().ToString().c_str());
    return 1;
  }
  std::vector<WatchedProcess> processes;
  for (const Watched& w : watched) processes.push_back({w.name, w.pid});
  absl::StatusOr<std::vector<TaskReport>> reports =
      RunTasks(*set, absl::GetFlag(FLAGS_task_runs), processes);
  if (!reports.ok()) {
    std::fprintf(stderr, "smp_loadgen: scenario %s: %s\n", info.scenario.c_str(),
                 reports.status().ToString().c_str());
    return 1;
  }
  for (const TaskReport& report : *reports) {
    const std::string summary = FormatTaskSummary(info, report);
    if (absl::GetFlag(FLAGS_json)) {
      std::fprintf(stderr, "%s\n", summary.c_str());
      std::printf("%s\n", FormatTaskJson(info, report, set->setup).c_str());
    } else {
      std::printf("%s\n", summary.c_str());
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for the smp services: closed or open loop, latency percentiles, errors "
      "by status code.\nUsage: smp_loadgen --target=HOST:PORT [--scenario=NAME] [flags]");
  ParseFlagsWithEnvironment(argc, argv);
  // As in every server (common/server/server.cc): Debian's Abseil checks every mutex acquisition
  // for lock-order cycles; in this client that was 2.7% of its CPU while booking (perf), CPU the
  // servers it measures share.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::GetFlag(FLAGS_list_scenarios)) {
    for (const Scenario& scenario : Scenarios()) {
      std::printf("%s%s\n    %s\n", scenario.name.c_str(),
                  scenario.prepare_tasks != nullptr ? " (timed tasks)" : "",
                  scenario.description.c_str());
    }
    return 0;
  }

  if (!absl::GetFlag(FLAGS_tls_ca).empty() || !absl::GetFlag(FLAGS_tls_cert).empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = TlsClientCredentials(
        absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
    if (!tls.ok()) {
      std::fprintf(stderr, "smp_loadgen: %s\n", tls.status().ToString().c_str());
      return 2;
    }
    SetClientCredentials(*std::move(tls));
  }

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
  scenario_options.target = info.target;
  scenario_options.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  scenario_options.setup_code = absl::GetFlag(FLAGS_setup_code);
  scenario_options.username = absl::GetFlag(FLAGS_username);
  scenario_options.password = absl::GetFlag(FLAGS_password);
  scenario_options.identity_target = absl::GetFlag(FLAGS_identity_target);
  scenario_options.scheduling_target = absl::GetFlag(FLAGS_scheduling_target);
  scenario_options.booking_slots = absl::GetFlag(FLAGS_booking_slots);
  scenario_options.sync_changes = absl::GetFlag(FLAGS_sync_changes);
  scenario_options.fanout_watchers = absl::GetFlag(FLAGS_fanout_watchers);
  scenario_options.fanout_changes = absl::GetFlag(FLAGS_fanout_changes);
  scenario_options.report_procedures = absl::GetFlag(FLAGS_report_procedures);
  scenario_options.report_clinics = absl::GetFlag(FLAGS_report_clinics);
  scenario_options.bulk_seed_data_dir = absl::GetFlag(FLAGS_bulk_seed_data_dir);
  scenario_options.seed_concurrency = absl::GetFlag(FLAGS_seed_concurrency);
  absl::StatusOr<const Scenario*> scenario = FindScenario(info.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "smp_loadgen: %s\n", scenario.status().ToString().c_str());
    return 2;
  }
  // Setup and task calls may carry large pages (ListChanges of 5000 changes).
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  const std::string lb_policy = absl::GetFlag(FLAGS_lb_policy);
  if (!lb_policy.empty()) channel_args.SetLoadBalancingPolicyName(lb_policy);
  const std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(info.target, ClientCredentials(), channel_args);
  if ((*scenario)->prepare_tasks != nullptr) {
    return RunTaskScenario(**scenario, scenario_options, channel, info, *watched);
  }
  absl::StatusOr<CallSpec> call = PrepareScenario(info.scenario, scenario_options, channel);
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
  options.lb_policy = lb_policy;
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
  if (absl::Status budget =
          CheckErrorBudget(info.scenario, *result, absl::GetFlag(FLAGS_max_error_ratio));
      !budget.ok()) {
    std::fprintf(stderr, "smp_loadgen: scenario %s\n", std::string(budget.message()).c_str());
    return 1;
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
