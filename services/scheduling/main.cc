// The scheduling service: patients, clinic resources, treatment plans, appointments, branch sync.
// Flags (each also settable as SMP_<NAME> in the environment) are listed in README.md.

#include <malloc.h>

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
#include "services/scheduling/billing_deliverer.h"
#include "services/scheduling/billing_events.h"
#include "services/scheduling/change_notifier.h"
#include "services/scheduling/compliance_deliverer.h"
#include "services/scheduling/compliance_gate.h"
#include "services/scheduling/scheduling_migrations.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/supply_issuer.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (scheduling.sqlite). Created if missing.");
ABSL_FLAG(
    std::string, compliance_address, "",
    "host:port of compliance. Empty: procedures (sample patch, treatment session, touch-up) "
    "cannot be booked (UNAVAILABLE), consultations can; procedure records wait in the outbox.");
ABSL_FLAG(absl::Duration, compliance_deadline, absl::Seconds(2),
          "Deadline of each call to compliance (the booking gate, record deliveries).");
ABSL_FLAG(std::string, inventory_address, "",
          "host:port of inventory, which issues a procedure's supplies when it starts. Empty: "
          "procedures cannot start (UNAVAILABLE); consultations can.");
ABSL_FLAG(absl::Duration, inventory_deadline, absl::Seconds(3),
          "Deadline of each issue of supplies at inventory.");
ABSL_FLAG(std::string, billing_address, "",
          "host:port of billing. Completed visits, no-shows and late cancellations are written to "
          "the outbox either way; without an address they wait (visible) until one is configured.");
ABSL_FLAG(absl::Duration, billing_deadline, absl::Seconds(2),
          "Deadline of each delivery to billing.");
ABSL_FLAG(absl::Duration, outbox_interval, absl::Seconds(2),
          "How often the outbox retries due events (new events go out at once).");
ABSL_FLAG(absl::Duration, outbox_claim_lease, absl::Minutes(1),
          "How long a replica's outbox pass owns the events it claimed: an event whose replica "
          "died mid-delivery goes out again (from any replica) this long after the claim. Longer "
          "than the peers' deadlines.");
ABSL_FLAG(absl::Duration, hold_sweep_interval, absl::Seconds(5),
          "How often lapsed holds are cancelled (and announced in the change feed).");

namespace smp::scheduling {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  // A page of changes (ListChanges, a watch's first page: up to 5,000 stored changes, about 1.5 MB
  // in small blocks) is freed once sent. glibc handed that memory back to the system after each
  // page and faulted it in again for the next: on the suite's virtual machines a third of
  // ListChanges' CPU, and twice its time (README, "Benchmarks", Session 11). Freed memory up to
  // 128 MB is kept for reuse instead (peak RSS 1-2 MB higher in those runs).
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  SetLogService("scheduling");
  ServerConfig config = ServerConfigFromFlags("scheduling");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  // SQLite's 4 KiB pages (not kWriteHeavyPageSize): 1 KiB pages made bookings about 10% cheaper
  // but a branch's ListChanges read of 100,000 changes 30% slower (more pages a row to visit).
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "scheduling", SchedulingMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  SessionAuth auth;

  absl::StatusOr<std::unique_ptr<ServiceCredentials>> credentials = ServiceCredentialsFromFlags();
  if (!credentials.ok())
    return FailStartup("cannot set up the service account", credentials.status());

  // Events for other services: written with the change, delivered at least once, never dropped.
  absl::flat_hash_map<std::string, EventDeliverer*> deliverers;
  std::unique_ptr<ComplianceGate> compliance;
  std::unique_ptr<EventDeliverer> compliance_records;
  const std::string compliance_address = absl::GetFlag(FLAGS_compliance_address);
  if (compliance_address.empty()) {
    compliance = std::make_unique<UnconfiguredComplianceGate>();
    LogWarning("no --compliance_address: procedures cannot be booked until it is set");
  } else {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(compliance_address);
    if (!channel.ok())
      return FailStartup("cannot open the channel to compliance", channel.status());
    const absl::Duration deadline = absl::GetFlag(FLAGS_compliance_deadline);
    compliance = std::make_unique<GrpcComplianceGate>(*channel, credentials->get(), deadline);
    compliance_records =
        std::make_unique<ComplianceDeliverer>(*channel, credentials->get(), deadline);
    deliverers[kComplianceDestination] = compliance_records.get();
  }
  std::unique_ptr<SupplyIssuer> supplies;
  std::unique_ptr<EventDeliverer> supply_returns;
  const std::string inventory_address = absl::GetFlag(FLAGS_inventory_address);
  if (inventory_address.empty()) {
    supplies = std::make_unique<UnconfiguredSupplyIssuer>();
    LogWarning("no --inventory_address: procedures cannot start until it is set");
  } else {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(inventory_address);
    if (!channel.ok()) return FailStartup("cannot open the channel to inventory", channel.status());
    supplies =
        std::make_unique<GrpcSupplyIssuer>(*channel, absl::GetFlag(FLAGS_inventory_deadline));
    // A start that fails after inventory issued sends the supplies back through the outbox.
    supply_returns = std::make_unique<SupplyReturnDeliverer>(
        *channel, credentials->get(), absl::GetFlag(FLAGS_inventory_deadline));
    deliverers[kInventoryDestination] = supply_returns.get();
  }
  std::unique_ptr<EventDeliverer> billing;
  const std::string billing_address = absl::GetFlag(FLAGS_billing_address);
  if (!billing_address.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(billing_address);
    if (!channel.ok()) return FailStartup("cannot open the channel to billing", channel.status());
    billing = std::make_unique<BillingDeliverer>(*channel, credentials->get(),
                                                 absl::GetFlag(FLAGS_billing_deadline));
    deliverers[kBillingDestination] = billing.get();
  } else {
    LogWarning("no --billing_address: charges wait in the outbox until it is set");
  }
  RetryPolicy outbox_policy;
  outbox_policy.claim_lease = absl::GetFlag(FLAGS_outbox_claim_lease);
  if (outbox_policy.claim_lease <= absl::ZeroDuration()) {
    return FailStartup("bad flag",
                       absl::InvalidArgumentError("--outbox_claim_lease must be positive"));
  }
  OutboxDispatcher outbox(db->get(), Clock::Real(), outbox_policy, deliverers);
  absl::StatusOr<std::unique_ptr<ClinicZoneSource>> zones =
      ClinicZonesFromFlags(credentials->get());
  if (!zones.ok()) return FailStartup("cannot open the channel to identity", zones.status());

  ChangeNotifier notifier;
  SchedulingServiceImpl service(SchedulingDeps{
      .db = db->get(),
      .authenticator = &auth.authenticator(),
      .compliance = compliance.get(),
      .supplies = supplies.get(),
      .notifier = &notifier,
      .clock = &Clock::Real(),
      .on_event_committed = [&outbox] { outbox.Wake(); },
      .streams = StreamLimitsFromFlags(),
      .zones = zones->get(),
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());

  outbox.Start(absl::GetFlag(FLAGS_outbox_interval));
  PeriodicTask hold_sweeper("hold sweep", absl::GetFlag(FLAGS_hold_sweep_interval),
                            [&service] { return service.SweepLapsedHolds().status(); });
  hold_sweeper.Start();
  // Identity owns clinics' time zones; the stored copies follow it (and stay while it is down).
  PeriodicTask zone_refresh("clinic zone refresh", ClinicZoneRefreshFromFlags(),
                            [&service] { return service.RefreshClinicZones().status(); });
  zone_refresh.Start();
  std::unique_ptr<PeriodicTask> idempotency_purge =
      StartIdempotencyPurge(**db, Clock::Real(), IdempotencyRetentionFromFlags());

  WaitForTerminationSignal();
  service.StopWatches();  // ends WatchChanges streams so the drain does not wait for them
  (*server)->Shutdown();
  hold_sweeper.Stop();
  zone_refresh.Stop();
  idempotency_purge->Stop();
  outbox.Stop();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::scheduling

int main(int argc, char** argv) { return smp::scheduling::Main(argc, argv); }
