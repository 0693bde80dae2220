// The compliance service: credentials, permits, consents, screenings, procedure records, incidents,
// the hash-chained audit log with signed checkpoints, and auditors' reports; also the eligibility
// gate scheduling asks before booking a procedure. Flags are listed in README.md.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/peer/peer_channel.h"
#include "common/peer/service_credentials.h"
#include "common/rpc/call.h"
#include "common/server/flags_env.h"
#include "common/server/idempotency_purge.h"
#include "common/server/log.h"
#include "common/server/periodic_task.h"
#include "common/server/server.h"
#include "common/status/status_macros.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/compliance_migrations.h"
#include "services/compliance/compliance_service.h"
#include "services/compliance/patient_directory.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (compliance.sqlite). Created if missing.");
ABSL_FLAG(absl::Duration, screening_validity, absl::Hours(24 * 90),
          "How long a contraindication screening counts for eligibility (clinic policy).");
ABSL_FLAG(absl::Duration, retention_purge_interval, absl::Hours(24),
          "How often records that a retention rule requires destroyed are destroyed.");
ABSL_FLAG(std::string, checkpoint_key_file, "",
          "Ed25519 secret key that signs audit checkpoints; created (0600) if missing. Keep it "
          "outside data_dir and its backups: whoever holds both could rewrite history unnoticed. "
          "Default: <data_dir>/../compliance-checkpoint.key");
ABSL_FLAG(std::string, scheduling_address, "",
          "host:port of the SchedulingService, which says which clinic a patient belongs to; "
          "while it cannot answer, clinic-scoped staff cannot record consents, screenings or "
          "patients' incidents (UNAVAILABLE). Empty: a patient compliance has no record of yet is "
          "bound to the clinic that records first (not recommended).");
ABSL_FLAG(absl::Duration, scheduling_deadline, absl::Seconds(2),
          "Deadline of each call to scheduling.");
ABSL_FLAG(absl::Duration, patient_clinic_cache_ttl, absl::Minutes(10),
          "How long scheduling's answer about a patient's clinic is reused (also while "
          "scheduling is down).");

namespace smp::compliance {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("compliance");
  ServerConfig config = ServerConfigFromFlags("compliance");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  // The database first: it creates the data directory, beside which the default key lives.
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "compliance", ComplianceMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());
  std::string key_file = absl::GetFlag(FLAGS_checkpoint_key_file);
  if (key_file.empty()) key_file = data_dir + "/../compliance-checkpoint.key";
  absl::StatusOr<CheckpointSigner> signer = CheckpointSigner::LoadOrCreate(key_file);
  if (!signer.ok()) return FailStartup("cannot load the checkpoint key", signer.status());
  LogInfo("audit checkpoints are signed", {{"public_key", signer->public_key_hex()}});

  SessionAuth auth;
  const Clock& clock = Clock::Real();

  // Scheduling owns patients: it says which clinic a patient belongs to (patient_directory.h).
  std::unique_ptr<ServiceCredentials> credentials;
  std::unique_ptr<PatientDirectory> patients;
  const std::string scheduling_address = absl::GetFlag(FLAGS_scheduling_address);
  if (scheduling_address.empty()) {
    LogWarning(
        "no --scheduling_address: a patient compliance has no record of is bound to the clinic "
        "that records first; set it so that scheduling decides");
  } else {
    absl::StatusOr<std::unique_ptr<ServiceCredentials>> made = ServiceCredentialsFromFlags();
    if (!made.ok()) return FailStartup("cannot set up the service account", made.status());
    credentials = *std::move(made);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(scheduling_address);
    if (!channel.ok())
      return FailStartup("cannot open the channel to scheduling", channel.status());
    patients = std::make_unique<SchedulingPatientDirectory>(
        *channel, credentials.get(), absl::GetFlag(FLAGS_scheduling_deadline),
        absl::GetFlag(FLAGS_patient_clinic_cache_ttl), &clock);
  }

  ComplianceUnits units(
      ComplianceDeps{.db = db->get(),
                     .signer = &*signer,
                     .patients = patients.get(),
                     .screening_validity = absl::GetFlag(FLAGS_screening_validity)});
  ComplianceServiceImpl compliance(&units, &auth.authenticator(), &clock);
  EligibilityServiceImpl eligibility(&units, &auth.authenticator(), &clock);

  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      RunningServer::Start(config, {&compliance, &eligibility});
  if (!server.ok()) return FailStartup("cannot start server", server.status());
  std::unique_ptr<PeriodicTask> idempotency_purge =
      StartIdempotencyPurge(**db, clock, IdempotencyRetentionFromFlags());

  // The retention purge acts as the service itself; each destruction is in the audit log. It runs
  // once at start, then every interval.
  Principal job;
  job.staff_id = "system:retention-job";
  job.roles = {common::v1::ROLE_SERVICE};
  job.authenticated = true;
  PeriodicTask retention_purge(
      "retention purge", absl::GetFlag(FLAGS_retention_purge_interval), [&]() -> absl::Status {
        const Call call{.who = job, .now = clock.Now(), .method = "RunRetentionPurge"};
        ASSIGN_OR_RETURN(int64_t destroyed, units.retention.Purge(call));
        if (destroyed > 0) LogInfo("retention purge", {{"destroyed", std::to_string(destroyed)}});
        return absl::OkStatus();
      });
  retention_purge.RunOnce().IgnoreError();  // a failure is logged, and retried at the next tick
  retention_purge.Start();
  // Reads are audited in aggregate per hour; each ended hour's counts go into the log.
  PeriodicTask read_tally_flush("read audit flush", absl::Minutes(1), [&]() -> absl::Status {
    return units.audit.FlushReadTallies(clock.Now()).status();
  });
  read_tally_flush.Start();

  WaitForTerminationSignal();
  (*server)->Shutdown();
  retention_purge.Stop();
  read_tally_flush.Stop();
  read_tally_flush.RunOnce().IgnoreError();  // the counts so far of ended hours
  idempotency_purge->Stop();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::compliance

int main(int argc, char** argv) { return smp::compliance::Main(argc, argv); }
