// Every built-in scenario of smp_loadgen, briefly, against the real services, as
// tools/bench/run.sh runs them: the setup through the services' own RPCs, then a bounded load
// (at most 200 calls, or 1 s) in which no call may fail, and each timed task once. A rule change
// that makes a scenario's calls fail (as the patient becoming a booked resource did to
// scheduling.book) then fails here rather than in the next benchmark, where a row of refusals
// would be measured as if it were work.

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"
#include "tools/loadgen/load.h"
#include "tools/loadgen/scenarios.h"

namespace smp::testing {
namespace {

using ::smp::loadgen::CallSpec;
using ::smp::loadgen::LoadOptions;
using ::smp::loadgen::LoadResult;
using ::smp::loadgen::Scenario;
using ::smp::loadgen::ScenarioOptions;
using ::smp::loadgen::TaskSet;

// "CODE xN (first message), ..." of a run's failed calls.
std::string Failures(const LoadResult& result) {
  std::string out;
  for (const auto& [code, count] : result.errors) {
    absl::StrAppend(&out, code, " x", count, " (", result.error_samples.at(code), ") ");
  }
  return out;
}

class LoadgenScenariosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    const std::string dir = MakeTempDir("loadgen-scenarios");
    const std::string redis = harness_.RedisFlag();
    auto start = [](const char* binary, std::vector<std::string> flags) {
      absl::StatusOr<std::unique_ptr<ServiceProcess>> p = ServiceProcess::Start(binary, flags);
      EXPECT_OK(p.status()) << binary;
      return p.ok() ? *std::move(p) : nullptr;
    };
    echo_ = start(SMP_SMP_ECHO_SERVER_BINARY, {});
    // As run.sh: scheduling without compliance (consultations only); inventory asking scheduling
    // where each issue's appointment is, as its service account.
    scheduling_ = start(SMP_SCHEDULING_BINARY, {"--data_dir=" + dir + "/scheduling", redis});
    ASSERT_NE(scheduling_, nullptr);
    std::vector<std::string> inventory = harness_.MakeServiceAccount("svc.inventory");
    inventory.insert(inventory.end(), {"--data_dir=" + dir + "/inventory", redis,
                                       "--scheduling_address=" + scheduling_->address()});
    inventory_ = start(SMP_INVENTORY_BINARY, inventory);
    compliance_ =
        start(SMP_COMPLIANCE_BINARY, {"--data_dir=" + dir + "/compliance", redis,
                                      "--checkpoint_key_file=" + dir + "/checkpoint.key"});
    billing_ = start(SMP_BILLING_BINARY, {"--data_dir=" + dir + "/billing", redis});
    ASSERT_TRUE(echo_ && inventory_ && compliance_ && billing_);
  }

  // The process a scenario loads, by its name's prefix; "" for one this test does not know (a
  // new area's scenario must be added here, or the test fails).
  std::string TargetOf(const std::string& scenario) {
    if (scenario == "echo") return echo_->address();
    if (absl::StartsWith(scenario, "identity.")) return harness_.identity().address();
    if (absl::StartsWith(scenario, "scheduling.")) return scheduling_->address();
    if (absl::StartsWith(scenario, "inventory.")) return inventory_->address();
    if (absl::StartsWith(scenario, "compliance.")) return compliance_->address();
    if (absl::StartsWith(scenario, "billing.")) return billing_->address();
    return "";
  }

  IdentityHarness harness_;
  std::unique_ptr<ServiceProcess> echo_, scheduling_, inventory_, compliance_, billing_;
};

TEST_F(LoadgenScenariosTest, EveryScenarioSucceedsAgainstTheRealServices) {
  const absl::Time began = absl::Now();
  int loads = 0, tasks = 0;
  for (const Scenario& scenario : loadgen::Scenarios()) {
    SCOPED_TRACE(scenario.name);
    const std::string target = TargetOf(scenario.name);
    ASSERT_FALSE(target.empty()) << "no service for scenario " << scenario.name;
    ScenarioOptions options;
    options.target = target;
    options.username = "root";  // the harness's first admin
    options.password = IdentityHarness::kPassword;
    options.identity_target = harness_.identity().address();
    options.scheduling_target = scheduling_->address();
    options.booking_slots = 200;
    options.sync_changes = 300;
    options.fanout_watchers = 4;  // within the default cap per session (8)
    options.fanout_changes = 5;
    options.report_procedures = 200;
    options.report_clinics = 2;
    options.seed_concurrency = 8;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // ListChanges pages of 5000
    const std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);

    if (scenario.prepare_tasks != nullptr) {
      // Each scenario is checked even when an earlier one failed: the report lists them all.
      absl::StatusOr<TaskSet> set = scenario.prepare_tasks(options, channel);
      EXPECT_OK(set.status());
      if (!set.ok()) continue;
      EXPECT_FALSE(set->tasks.empty());
      for (const loadgen::Task& task : set->tasks) {
        absl::StatusOr<int64_t> items = task.run();
        EXPECT_OK(items.status()) << task.name;
        if (items.ok()) {
          EXPECT_GT(*items, 0) << task.name;
        }
        ++tasks;
      }
      continue;
    }
    absl::StatusOr<CallSpec> call = scenario.prepare(options, channel);
    EXPECT_OK(call.status());
    if (!call.ok()) continue;
    LoadOptions load;
    load.target = target;
    load.concurrency = 4;
    load.channels = 2;
    load.warmup = absl::ZeroDuration();
    load.duration = absl::Seconds(1);
    load.max_requests = 200;
    load.timeout = absl::Seconds(10);
    absl::StatusOr<LoadResult> result = loadgen::RunLoad(load, *call);
    EXPECT_OK(result.status());
    if (!result.ok()) continue;
    EXPECT_EQ(result->error_count(), 0) << Failures(*result);
    EXPECT_OK(loadgen::CheckErrorBudget(scenario.name, *result, 0.0));
    // Answered: OK, or the scenario's expected refusal (the losers of one contended slot, a
    // spent needle presented again).
    EXPECT_GT(result->ok, 0);
    if (call->verify) {
      EXPECT_OK(call->verify());
    }
    ++loads;
  }
  EXPECT_GE(loads, 8) << "scenarios whose setup failed are not counted";
  EXPECT_GE(tasks, 3);  // list_changes, watch_changes, report
  std::printf("every scenario in %s\n", absl::FormatDuration(absl::Now() - began).c_str());
}

}  // namespace
}  // namespace smp::testing
