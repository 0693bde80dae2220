// The billing service: price lists, quotes, invoices, credit notes, payments, deposits, refunds,
// balances, charges from scheduling's events and revenue reports. Flags (each also settable as
// SMP_<NAME> in the environment) are listed in README.md.

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/peer/clinic_zones.h"
#include "common/peer/peer_channel.h"
#include "common/peer/service_credentials.h"
#include "common/server/flags_env.h"
#include "common/server/idempotency_purge.h"
#include "common/server/log.h"
#include "common/server/periodic_task.h"
#include "common/server/server.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/billing_service.h"

ABSL_DECLARE_FLAG(std::string, service_credentials_file);
ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (billing.sqlite). Created if missing.");

namespace smp::billing {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("billing");
  ServerConfig config = ServerConfigFromFlags("billing");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "billing", BillingMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  SessionAuth auth;
  // Billing's one peer: identity, for clinics' time zones (as billing's service account).
  absl::StatusOr<std::unique_ptr<ServiceCredentials>> credentials = ServiceCredentialsFromFlags();
  if (!credentials.ok())
    return FailStartup("cannot set up the service account", credentials.status());
  absl::StatusOr<std::unique_ptr<ClinicZoneSource>> zones =
      ClinicZonesFromFlags(credentials->get());
  if (!zones.ok()) return FailStartup("cannot open the channel to identity", zones.status());
  // Without a service account billing cannot ask identity: price lists keep the zone they name.
  const bool has_account =
      !absl::GetFlag(FLAGS_service_credentials_file).empty() || PeerChannelsHaveClientCertificate();
  if (!has_account) {
    LogWarning(
        "no --service_credentials_file or client certificate: clinics' time zones are not read "
        "from identity; each price list's own time_zone is used");
  }
  BillingServiceImpl service(BillingDeps{
      .db = db->get(),
      .authenticator = &auth.authenticator(),
      .clock = &Clock::Real(),
      .zones = has_account ? zones->get() : nullptr,
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());
  std::unique_ptr<PeriodicTask> purge =
      StartIdempotencyPurge(**db, Clock::Real(), IdempotencyRetentionFromFlags());
  PeriodicTask zone_refresh("clinic zone refresh", ClinicZoneRefreshFromFlags(),
                            [&service] { return service.RefreshClinicZones().status(); });
  if (has_account) zone_refresh.Start();
  WaitForTerminationSignal();
  zone_refresh.Stop();
  (*server)->Shutdown();
  purge->Stop();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::billing

int main(int argc, char** argv) { return smp::billing::Main(argc, argv); }
