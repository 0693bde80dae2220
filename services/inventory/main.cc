// The inventory service: products, lots, serial units, per-clinic stock and its ledger, issue to
// procedures, transfers, recalls, reorder points, forecast and reconciliation. Flags (each also
// settable as SMP_<NAME> in the environment) are listed in README.md.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/outbox/outbox.h"
#include "common/peer/clinic_zones.h"
#include "common/peer/peer_channel.h"
#include "common/peer/service_credentials.h"
#include "common/server/flags_env.h"
#include "common/server/idempotency_purge.h"
#include "common/server/log.h"
#include "common/server/periodic_task.h"
#include "common/server/server.h"
#include "common/status/status_macros.h"
#include "services/inventory/appointment_feed.h"
#include "services/inventory/appointment_place_cache.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/compliance_deliverer.h"
#include "services/inventory/inventory_migrations.h"
#include "services/inventory/inventory_service.h"
#include "services/inventory/inventory_store.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (inventory.sqlite). Created if missing.");
ABSL_FLAG(std::string, scheduling_address, "",
          "host:port of the SchedulingService. Empty: ForecastDemand and ReconcileDay answer "
          "UNAVAILABLE (they never guess booked procedures).");
ABSL_FLAG(
    std::string, compliance_address, "",
    "host:port of compliance, which hears of recalls and of refused used, expired or recalled "
    "units. Empty: the events wait (visible) in the outbox until it is set.");
ABSL_FLAG(absl::Duration, compliance_deadline, absl::Seconds(2),
          "Deadline of each delivery to compliance.");
ABSL_FLAG(absl::Duration, outbox_interval, absl::Seconds(2),
          "How often the outbox retries due events (new events go out at once).");
ABSL_FLAG(absl::Duration, scheduling_deadline, absl::Seconds(2),
          "Deadline of each call to scheduling.");
ABSL_FLAG(absl::Duration, appointment_feed_interval, absl::Seconds(1),
          "How often scheduling's change feed is read for new appointments (their clinic and "
          "patient), so that an issue asks scheduling nothing. 0: never (each procedure's first "
          "issue asks scheduling).");
ABSL_FLAG(int64_t, appointment_places, 50'000,
          "Appointments whose clinic and patient are kept in memory (about 200 bytes each), the "
          "one learnt first dropped first.");

namespace smp::inventory {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("inventory");
  ServerConfig config = ServerConfigFromFlags("inventory");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  SqliteOptions sqlite;
  sqlite.page_size = kWriteHeavyPageSize;  // needle issues: unit and ledger rows
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "inventory", InventoryMigrations(), sqlite);
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  // Serials that collided in canonical form when migration 4 normalised them are kept as they
  // were: said at every start until staff resolve them.
  absl::Status collisions = (*db)->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, InventoryStore().SerialCollisions(txn));
    for (const auto& [product, serial] : rows) {
      LogWarning(absl::StrCat("serial unit ", serial, " of product ", product,
                              " collides with another in canonical form (trimmed, upper case); "
                              "it is kept as received until staff resolve it"));
    }
    return absl::OkStatus();
  });
  if (!collisions.ok()) return FailStartup("cannot read serial collisions", collisions);

  SessionAuth auth;
  absl::StatusOr<std::unique_ptr<ServiceCredentials>> credentials = ServiceCredentialsFromFlags();
  if (!credentials.ok())
    return FailStartup("cannot set up the service account", credentials.status());

  std::unique_ptr<AppointmentSource> appointments;
  std::unique_ptr<AppointmentFeed> feed;
  std::unique_ptr<PeriodicTask> feed_task;
  const std::string scheduling_address = absl::GetFlag(FLAGS_scheduling_address);
  if (scheduling_address.empty()) {
    appointments = std::make_unique<UnconfiguredAppointmentSource>();
    LogWarning("no --scheduling_address: the forecast and reconciliation answer UNAVAILABLE");
  } else {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(scheduling_address);
    if (!channel.ok())
      return FailStartup("cannot open the channel to scheduling", channel.status());
    auto scheduling = std::make_unique<GrpcAppointmentSource>(
        *channel, credentials->get(), absl::GetFlag(FLAGS_scheduling_deadline));
    GrpcAppointmentSource* changes = scheduling.get();
    const int64_t capacity = std::max<int64_t>(0, absl::GetFlag(FLAGS_appointment_places));
    auto places = std::make_unique<AppointmentPlaceCache>(std::move(scheduling),
                                                          static_cast<size_t>(capacity));
    const absl::Duration interval = absl::GetFlag(FLAGS_appointment_feed_interval);
    if (interval > absl::ZeroDuration() && capacity > 0) {
      feed = std::make_unique<AppointmentFeed>(db->get(), changes, places.get(), capacity);
      feed_task = std::make_unique<PeriodicTask>("appointment feed", interval,
                                                 [&feed] { return feed->Poll(); });
    }
    appointments = std::move(places);
  }
  // Events for compliance: written with the change, delivered at least once, never dropped.
  absl::flat_hash_map<std::string, EventDeliverer*> deliverers;
  std::unique_ptr<EventDeliverer> compliance;
  const std::string compliance_address = absl::GetFlag(FLAGS_compliance_address);
  if (compliance_address.empty()) {
    LogWarning("no --compliance_address: recalls and refused units wait in the outbox");
  } else {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(compliance_address);
    if (!channel.ok())
      return FailStartup("cannot open the channel to compliance", channel.status());
    compliance = std::make_unique<ComplianceDeliverer>(*channel, credentials->get(),
                                                       absl::GetFlag(FLAGS_compliance_deadline));
    deliverers[kComplianceDestination] = compliance.get();
  }
  OutboxDispatcher outbox(db->get(), Clock::Real(), RetryPolicy{}, deliverers);
  absl::StatusOr<std::unique_ptr<ClinicZoneSource>> zones =
      ClinicZonesFromFlags(credentials->get());
  if (!zones.ok()) return FailStartup("cannot open the channel to identity", zones.status());
  InventoryServiceImpl service(InventoryDeps{
      .db = db->get(),
      .authenticator = &auth.authenticator(),
      .appointments = appointments.get(),
      .clock = &Clock::Real(),
      .on_event_committed = [&outbox] { outbox.Wake(); },
      .streams = StreamLimitsFromFlags(),
      .zones = zones->get(),
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());
  outbox.Start(absl::GetFlag(FLAGS_outbox_interval));
  std::unique_ptr<PeriodicTask> purge =
      StartIdempotencyPurge(**db, Clock::Real(), IdempotencyRetentionFromFlags());
  // Identity owns clinics' time zones; the stored copies follow it (and stay while it is down).
  PeriodicTask zone_refresh("clinic zone refresh", ClinicZoneRefreshFromFlags(),
                            [&service] { return service.RefreshClinicZones().status(); });
  zone_refresh.Start();
  if (feed_task != nullptr) feed_task->Start();
  WaitForTerminationSignal();
  if (feed_task != nullptr) feed_task->Stop();
  zone_refresh.Stop();
  service.StopWatches();  // ends WatchLowStock streams so the drain does not wait for them
  (*server)->Shutdown();
  outbox.Stop();
  purge->Stop();  // after the server: no request can add a key any more
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::inventory

int main(int argc, char** argv) { return smp::inventory::Main(argc, argv); }
