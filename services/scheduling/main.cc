// The scheduling service: patients, clinic resources, treatment plans, appointments, branch sync.
// Flags (each also settable as SMP_<NAME> in the environment) are listed in README.md.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/outbox/outbox.h"
#include "common/server/flags_env.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "services/scheduling/billing_deliverer.h"
#include "services/scheduling/billing_events.h"
#include "services/scheduling/change_notifier.h"
#include "services/scheduling/compliance_gate.h"
#include "services/scheduling/scheduling_migrations.h"
#include "services/scheduling/scheduling_service.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (scheduling.sqlite). Created if missing.");
ABSL_FLAG(std::string, compliance_address, "",
          "host:port of the compliance EligibilityService. Empty: procedures (sample patch, "
          "treatment session, touch-up) cannot be booked (UNAVAILABLE); consultations can.");
ABSL_FLAG(
    std::string, service_token_file, "",
    "File holding this service's bearer token (a ROLE_SERVICE account's session) for calls to "
    "peer services such as compliance.");
ABSL_FLAG(absl::Duration, compliance_deadline, absl::Seconds(2),
          "Deadline of each compliance gate call.");
ABSL_FLAG(std::string, billing_address, "",
          "host:port of billing. Completed visits, no-shows and late cancellations are written to "
          "the outbox either way; without an address they wait (visible) until one is configured.");
ABSL_FLAG(absl::Duration, billing_deadline, absl::Seconds(2),
          "Deadline of each delivery to billing.");
ABSL_FLAG(absl::Duration, outbox_interval, absl::Seconds(2),
          "How often the outbox retries due events (new events go out at once).");
ABSL_FLAG(absl::Duration, hold_sweep_interval, absl::Seconds(5),
          "How often lapsed holds are cancelled (and announced in the change feed).");

namespace smp::scheduling {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("scheduling");
  ServerConfig config = ServerConfigFromFlags("scheduling");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "scheduling", SchedulingMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  SessionAuth auth;

  std::unique_ptr<ComplianceGate> compliance;
  const std::string compliance_address = absl::GetFlag(FLAGS_compliance_address);
  if (compliance_address.empty()) {
    compliance = std::make_unique<UnconfiguredComplianceGate>();
    LogWarning("no --compliance_address: procedures cannot be booked until it is set");
  } else {
    compliance = std::make_unique<GrpcComplianceGate>(
        grpc::CreateChannel(compliance_address, grpc::InsecureChannelCredentials()),
        ReadBearerTokenFile(absl::GetFlag(FLAGS_service_token_file)),
        absl::GetFlag(FLAGS_compliance_deadline));
  }
  // Events for other services: written with the change, delivered at least once, never dropped.
  std::unique_ptr<EventDeliverer> billing;
  absl::flat_hash_map<std::string, EventDeliverer*> deliverers;
  const std::string billing_address = absl::GetFlag(FLAGS_billing_address);
  if (!billing_address.empty()) {
    billing = std::make_unique<BillingDeliverer>(
        grpc::CreateChannel(billing_address, grpc::InsecureChannelCredentials()),
        ReadBearerTokenFile(absl::GetFlag(FLAGS_service_token_file)),
        absl::GetFlag(FLAGS_billing_deadline));
    deliverers[kBillingDestination] = billing.get();
  } else {
    LogWarning("no --billing_address: charges wait in the outbox until it is set");
  }
  OutboxDispatcher outbox(db->get(), Clock::Real(), RetryPolicy{}, deliverers);

  ChangeNotifier notifier;
  SchedulingServiceImpl service(SchedulingDeps{
      .db = db->get(),
      .authenticator = &auth.authenticator(),
      .compliance = compliance.get(),
      .notifier = &notifier,
      .clock = &Clock::Real(),
      .on_event_committed = [&outbox] { outbox.Wake(); },
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());

  outbox.Start(absl::GetFlag(FLAGS_outbox_interval));
  std::atomic<bool> stopping{false};
  std::thread sweeper([&] {
    const absl::Duration interval = absl::GetFlag(FLAGS_hold_sweep_interval);
    while (!stopping.load()) {
      absl::StatusOr<int> swept = service.SweepLapsedHolds();
      if (!swept.ok()) LogWarning("hold sweep failed", {{"error", swept.status().ToString()}});
      for (absl::Duration waited; waited < interval && !stopping.load();
           waited += absl::Milliseconds(100)) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  });

  WaitForTerminationSignal();
  notifier.Stop();  // ends WatchChanges streams so the drain does not wait for them
  (*server)->Shutdown();
  stopping.store(true);
  sweeper.join();
  outbox.Stop();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::scheduling

int main(int argc, char** argv) { return smp::scheduling::Main(argc, argv); }
