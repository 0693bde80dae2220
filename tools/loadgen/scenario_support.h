#ifndef SMP_TOOLS_LOADGEN_SCENARIO_SUPPORT_H_
#define SMP_TOOLS_LOADGEN_SCENARIO_SUPPORT_H_

// What the built-in scenarios share: setup calls with deadlines and bearer tokens, the benchmark
// admin's login, clinics made through identity, and seeding data through a service's own API with
// a bounded load loop. Each area's scenarios (scenarios.cc, inventory_scenarios.cc, ...) use these.

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/util/proto_time.h"
#include "google/protobuf/timestamp.pb.h"
#include "smp/common/v1/dates.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tools/loadgen/load.h"
#include "tools/loadgen/scenarios.h"

namespace smp::loadgen {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// A client context for one setup call: options.timeout from now, and `metadata`.
void PrepareContext(grpc::ClientContext& context, const ScenarioOptions& options,
                    const Metadata& metadata = {});

// `status` as an absl::Status whose message starts with `what`.
absl::Status SetupError(absl::string_view what, const grpc::Status& status);

// "/<service>/<method>".
std::string MethodPath(const char* service, absl::string_view method);

CallSpec MakeCall(std::string method, std::string request, Metadata metadata);

// Logs in as options.username, creating that first admin first when a setup code is given, and
// returns the bearer metadata.
absl::StatusOr<Metadata> LogInAsAdmin(const ScenarioOptions& options,
                                      identity::v1::IdentityService::Stub& stub);

// Logs in as `username` with options.password; the bearer metadata.
absl::StatusOr<Metadata> LogIn(const ScenarioOptions& options,
                               identity::v1::IdentityService::Stub& stub,
                               const std::string& username);

// Creates a staff account of the `service` role (for calls only services may make, such as
// compliance's RecordProcedure) with `admin`'s session, and logs in as it.
absl::StatusOr<Metadata> LogInAsNewServiceAccount(const ScenarioOptions& options,
                                                  identity::v1::IdentityService::Stub& stub,
                                                  const Metadata& admin, const std::string& run);

// A stub of options.identity_target; INVALID_ARGUMENT when it is empty (`who` names the scenario).
absl::StatusOr<std::unique_ptr<identity::v1::IdentityService::Stub>> IdentityStub(
    const ScenarioOptions& options, absl::string_view who);

// Creates a clinic through identity (idempotent by `request_id`) and returns its id.
absl::StatusOr<std::string> CreateClinic(const ScenarioOptions& options,
                                         identity::v1::IdentityService::Stub& stub,
                                         const Metadata& auth, const std::string& request_id,
                                         const std::string& name, const std::string& time_zone);

google::protobuf::Timestamp ToTimestamp(absl::Time t);

// Unique per call in this process and across runs: "<tag>-<unix micros>".
std::string RunTag(absl::string_view tag);

// Seeds data through the service's API: sends every one of `requests` (serialised) to `method` at
// options.target, options.seed_concurrency at a time, with `auth`. Returns the seconds it took, or
// the first failures (`what` names the data). Progress goes to stderr.
absl::StatusOr<double> Seed(const ScenarioOptions& options, absl::string_view what,
                            const std::string& method, std::vector<std::string> requests,
                            const Metadata& auth);

// A clinic with booked appointments, for scenarios of other services that act on real
// appointments (inventory's issue to a procedure asks scheduling where each one is).
struct BookedClinic {
  Metadata auth;  // the benchmark admin's bearer token
  std::string clinic_id;
  std::string time_zone;  // the clinic's IANA zone
  struct Appointment {
    std::string id, patient_id;
  };
  std::vector<Appointment> appointments;  // in start order
  double seed_seconds = 0;                // how long the bookings took
};

// Sets up a clinic at options.scheduling_target as scheduling.book does (10 practitioners, each
// with a chair and a patient of their own, made through options.identity_target) and books `n`
// distinct consultations there through BookAppointment, options.seed_concurrency at a time.
// INVALID_ARGUMENT naming `tag` when options.scheduling_target is empty.
absl::StatusOr<BookedClinic> BookConsultations(const ScenarioOptions& options,
                                               absl::string_view tag, int64_t n);

// The scenarios of the other areas, appended to Scenarios() in this order.
std::vector<Scenario> InventoryScenarios();
std::vector<Scenario> ComplianceScenarios();
std::vector<Scenario> BillingScenarios();

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_SCENARIO_SUPPORT_H_
