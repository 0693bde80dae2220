#ifndef SMP_TOOLS_LOADGEN_SCENARIOS_H_
#define SMP_TOOLS_LOADGEN_SCENARIOS_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/loadgen/load.h"

namespace smp::loadgen {

// What a scenario's setup may need. Each scenario uses only its own fields.
struct ScenarioOptions {
  int payload_bytes = 64;  // echo: bytes in EchoRequest.payload
  // identity.*: the one-time setup code of a fresh identity (BootstrapAdmin); empty when the
  // account already exists.
  std::string setup_code;
  std::string username = "bench-admin";  // identity.*: the account to create and log in as
  std::string password = "bench password 0123";
  // scheduling.*: the identity service (host:port) holding the accounts scheduling trusts.
  std::string identity_target;
  // scheduling.book*: how many distinct booking requests to prepare (the most calls a run makes).
  int64_t booking_slots = 20000;
  absl::Duration timeout = absl::Seconds(30);  // deadline of each setup call
};

// One built-in scenario: a name for --scenario, a line for --help, and a setup that runs once
// against the target before the measured loop and returns the hot call. Adding a scenario (a
// scheduling booking, an inventory issue, ...) is one more entry in Scenarios().
struct Scenario {
  std::string name;
  std::string description;
  absl::StatusOr<CallSpec> (*prepare)(const ScenarioOptions& options,
                                      const std::shared_ptr<grpc::Channel>& channel);
};

// Every built-in scenario, in a stable order.
const std::vector<Scenario>& Scenarios();

// Runs the setup of the scenario called `name` over `channel`. NOT_FOUND (listing the known
// names) for an unknown name; a failing setup call's status, prefixed with what was being done.
absl::StatusOr<CallSpec> PrepareScenario(absl::string_view name, const ScenarioOptions& options,
                                         const std::shared_ptr<grpc::Channel>& channel);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_SCENARIOS_H_
