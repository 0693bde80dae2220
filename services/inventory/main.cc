// The inventory service: products, lots, serial units, per-clinic stock and its ledger, issue to
// procedures, transfers, recalls, reorder points, forecast and reconciliation. Flags (each also
// settable as SMP_<NAME> in the environment) are listed in README.md.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/server/flags_env.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/inventory_migrations.h"
#include "services/inventory/inventory_service.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (inventory.sqlite). Created if missing.");
ABSL_FLAG(std::string, scheduling_address, "",
          "host:port of the SchedulingService. Empty: ForecastDemand and ReconcileDay answer "
          "UNAVAILABLE (they never guess booked procedures).");
ABSL_FLAG(std::string, service_token_file, "",
          "File holding this service's bearer token (a ROLE_SERVICE account's session) for calls "
          "to scheduling.");
ABSL_FLAG(absl::Duration, scheduling_deadline, absl::Seconds(2),
          "Deadline of each call to scheduling.");

namespace smp::inventory {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("inventory");
  ServerConfig config = ServerConfigFromFlags("inventory");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "inventory", InventoryMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  SessionAuth auth;
  std::unique_ptr<AppointmentSource> appointments;
  const std::string scheduling_address = absl::GetFlag(FLAGS_scheduling_address);
  if (scheduling_address.empty()) {
    appointments = std::make_unique<UnconfiguredAppointmentSource>();
    LogWarning("no --scheduling_address: the forecast and reconciliation answer UNAVAILABLE");
  } else {
    appointments = std::make_unique<GrpcAppointmentSource>(
        grpc::CreateChannel(scheduling_address, grpc::InsecureChannelCredentials()),
        ReadBearerTokenFile(absl::GetFlag(FLAGS_service_token_file)),
        absl::GetFlag(FLAGS_scheduling_deadline));
  }
  InventoryServiceImpl service(InventoryDeps{
      .db = db->get(),
      .authenticator = &auth.authenticator(),
      .appointments = appointments.get(),
      .clock = &Clock::Real(),
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());
  WaitForTerminationSignal();
  service.StopWatches();  // ends WatchLowStock streams so the drain does not wait for them
  (*server)->Shutdown();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::inventory

int main(int argc, char** argv) { return smp::inventory::Main(argc, argv); }
