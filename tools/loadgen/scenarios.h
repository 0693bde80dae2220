#ifndef SMP_TOOLS_LOADGEN_SCENARIOS_H_
#define SMP_TOOLS_LOADGEN_SCENARIOS_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/loadgen/load.h"

namespace smp::loadgen {

// What a scenario's setup may need. Each scenario uses only its own fields.
struct ScenarioOptions {
  std::string target;      // the service under test (host:port), for setup loops that seed data
  int payload_bytes = 64;  // echo: bytes in EchoRequest.payload
  // identity.*: the one-time setup code of a fresh identity (BootstrapAdmin); empty when the
  // account already exists.
  std::string setup_code;
  std::string username = "bench-admin";  // identity.*: the account to create and log in as
  std::string password = "bench password 0123";
  // scheduling.*: the identity service (host:port) holding the accounts scheduling trusts.
  std::string identity_target;
  // inventory.issue: the scheduling service (host:port) the target asks where an appointment
  // is; the scenario books the appointments it issues to there.
  std::string scheduling_target;
  // scheduling.book*, inventory.issue: how many distinct requests to prepare (the most calls a
  // run makes).
  int64_t booking_slots = 20000;
  // scheduling.sync: appointment changes in the clinic's feed (one booking each, seeded through
  // BookAppointment).
  int64_t sync_changes = 100000;
  // scheduling.watch_fanout: watch streams of one clinic, and bookings made while they watch.
  int fanout_watchers = 1000;
  int64_t fanout_changes = 100;
  // compliance.report: procedure records of the chain's year (seeded through RecordProcedure,
  // with the consents, screenings, credentials and permits they need), over report_clinics.
  int64_t report_procedures = 50000;
  int report_clinics = 10;
  // compliance.report: when set, the records go in through compliance's store in large
  // transactions (compliance::BulkLoad) into the SQLite database of this data directory (the
  // running compliance's --data_dir) instead of through the Record* RPCs.
  std::string bulk_seed_data_dir;
  // Calls kept in flight while seeding data through the service's API.
  int seed_concurrency = 32;
  absl::Duration timeout = absl::Seconds(30);  // deadline of each setup call
};

// A timed job, for what is measured by how long one whole job takes rather than by calls per
// second: pulling a clinic's whole change feed, an auditor's year report.
// Figures a task measures itself in a run, e.g. {"reach_all_p50_ms", 3.1}.
using TaskFigures = std::vector<std::pair<std::string, double>>;

struct Task {
  std::string name;  // e.g. "list_changes"
  std::string unit;  // what run() counts, e.g. "changes"
  // Does the job once (it may run several times) and returns how many items it handled; an
  // error (or a count other than the first run's) fails the measurement.
  std::function<absl::StatusOr<int64_t>()> run;
  // Optional: the figures of the run that just ended (reported as the median over runs).
  std::function<TaskFigures()> figures = nullptr;
};

// What a task scenario's setup made: its tasks and figures about the setup itself.
struct TaskSet {
  std::vector<Task> tasks;
  // e.g. {"seed_s", 31.4}, {"seeded_calls", 100000}: reported with every task.
  std::vector<std::pair<std::string, double>> setup;
};

// One built-in scenario: a name for --scenario, a line for --help, and a setup that runs once
// against the target before the measurement and returns either the hot call (for the load loop)
// or the timed tasks. Adding a scenario is one more entry in Scenarios().
struct Scenario {
  std::string name;
  std::string description;
  // Exactly one of these is set.
  absl::StatusOr<CallSpec> (*prepare)(const ScenarioOptions& options,
                                      const std::shared_ptr<grpc::Channel>& channel) = nullptr;
  absl::StatusOr<TaskSet> (*prepare_tasks)(const ScenarioOptions& options,
                                           const std::shared_ptr<grpc::Channel>& channel) = nullptr;
};

// Every built-in scenario, in a stable order.
const std::vector<Scenario>& Scenarios();

// The scenario called `name`; NOT_FOUND listing the known names.
absl::StatusOr<const Scenario*> FindScenario(absl::string_view name);

// Runs the setup of the scenario called `name` over `channel`. NOT_FOUND (listing the known
// names) for an unknown name, INVALID_ARGUMENT for a task scenario; a failing setup call's
// status, prefixed with what was being done.
absl::StatusOr<CallSpec> PrepareScenario(absl::string_view name, const ScenarioOptions& options,
                                         const std::shared_ptr<grpc::Channel>& channel);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_SCENARIOS_H_
