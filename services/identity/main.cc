// The identity service: clinics, staff accounts, roles and login sessions.
// Flags (each also settable as SMP_<NAME> in the environment) are listed in README.md.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/login_limiter.h"
#include "common/auth/session_auth.h"
#include "common/db/service_database.h"
#include "common/server/flags_env.h"
#include "common/server/idempotency_purge.h"
#include "common/server/log.h"
#include "common/server/periodic_task.h"
#include "common/server/server.h"
#include "services/identity/identity_migrations.h"
#include "services/identity/identity_service.h"
#include "services/identity/identity_store.h"
#include "services/identity/password_hasher.h"
#include "services/identity/revocations.h"
#include "services/identity/setup_code.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (identity.sqlite) and, on an empty system, "
          "the one-time setup code file (identity-setup-code). Created if missing.");
ABSL_FLAG(absl::Duration, revocation_retry_interval, absl::Seconds(2),
          "How often session revocations that Redis could not do at the time (DisableStaff, "
          "UpdateStaff of roles or clinics, ResetStaffPassword while Redis was down) are retried.");
ABSL_FLAG(absl::Duration, login_failure_retention, absl::Hours(24 * 400),
          "How long the aggregated rows of failed logins (login_failures) are kept for auditors "
          "before an hourly task deletes them; default 400 days, a year's audit and its review.");
ABSL_FLAG(std::string, setup_code_file, "",
          "File of the one-time setup code for BootstrapAdmin on an empty system. If it exists "
          "(a scripted install wrote it: mode 0600, one line of at least 16 characters) its code "
          "is used; otherwise a random one is written to it (0600). Empty: "
          "<data_dir>/identity-setup-code. The code is never taken as a flag value.");

ABSL_FLAG(std::string, trusted_forwarders, "",
          "Comma-separated peers that may name a client's address in the x-smp-client-address "
          "header (the web console's gateway, which every browser reaches identity through): an "
          "IP address the peer connects from (e.g. 127.0.0.1), or cert:<name> for a peer whose "
          "verified client certificate (--tls_client_ca) names <name> (e.g. cert:console). Logins "
          "through them then count against the browser's address for the per-address limit. "
          "Empty: every login counts against its gRPC peer.");

namespace smp::identity {
namespace {

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("identity");
  const ServerConfig config = ServerConfigFromFlags("identity");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<std::unique_ptr<Database>> db =
      OpenServiceDatabase(data_dir, "identity", IdentityMigrations());
  if (!db.ok()) return FailStartup("cannot open the database", db.status());

  // Until the first admin exists, BootstrapAdmin accepts the code written here.
  std::string setup_code_path = absl::GetFlag(FLAGS_setup_code_file);
  if (setup_code_path.empty()) setup_code_path = data_dir + "/identity-setup-code";
  std::string setup_code;
  absl::Status counted = (*db)->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    absl::StatusOr<int64_t> staff = IdentityStore().CountStaff(txn);
    if (!staff.ok()) return staff.status();
    if (*staff > 0) return absl::OkStatus();
    absl::StatusOr<std::string> code = PrepareSetupCode(setup_code_path);
    if (!code.ok()) return code.status();
    setup_code = *code;
    return absl::OkStatus();
  });
  if (!counted.ok()) return FailStartup("cannot prepare setup code", counted);
  if (!setup_code.empty()) {
    LogInfo("no staff accounts yet: create the first admin with BootstrapAdmin and the setup code",
            {{"setup_code_file", setup_code_path}});
  }

  absl::StatusOr<TrustedForwarders> forwarders =
      TrustedForwarders::Parse(absl::GetFlag(FLAGS_trusted_forwarders));
  if (!forwarders.ok()) return FailStartup("bad flags", forwarders.status());

  SessionAuth auth;
  LoginLimiter login_limiter(&auth.redis(), LoginLimitPolicy{}, Clock::Real());
  PasswordHasher hasher;

  IdentityServiceImpl service(IdentityDeps{
      .db = db->get(),
      .sessions = &auth.sessions(),
      .authenticator = &auth.authenticator(),
      .login_limiter = &login_limiter,
      .hasher = &hasher,
      .clock = &Clock::Real(),
      .setup_code = setup_code,
      .on_bootstrapped = [setup_code_path] { RemoveSetupCode(setup_code_path); },
      .trusted_forwarders = *std::move(forwarders),
  });

  // request_ids are remembered for --idempotency_retention, then forgotten.
  std::unique_ptr<PeriodicTask> purge =
      StartIdempotencyPurge(**db, Clock::Real(), IdempotencyRetentionFromFlags());
  // Finishes revocations saved while Redis was down, so no admin has to retry them.
  Revocations revocations(db->get(), &auth.sessions(), &auth.authenticator(), Clock::Real());
  PeriodicTask revocation_retry("pending session revocations",
                                absl::GetFlag(FLAGS_revocation_retry_interval),
                                [&revocations] { return revocations.FinishAll(); });
  revocation_retry.Start();
  // Failed-login rows are audit data with a retention of their own.
  PeriodicTask login_failure_purge(
      "failed-login rows", absl::Hours(1),
      [&db, retention = absl::GetFlag(FLAGS_login_failure_retention)] {
        return (*db)->Run(TxMode::kWrite, [&](Transaction& txn) {
          return IdentityStore().PurgeLoginFailures(txn, Clock::Real().Now() - retention).status();
        });
      });
  login_failure_purge.Start();

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return FailStartup("cannot start server", server.status());
  LogInfo("identity serving",
          {{"port", std::to_string((*server)->port())}, {"data_dir", data_dir}});

  WaitForTerminationSignal();
  (*server)->Shutdown();  // drains in-flight RPCs; then the stores below go away
  server->reset();
  purge->Stop();
  revocation_retry.Stop();
  return 0;
}

}  // namespace
}  // namespace smp::identity

int main(int argc, char** argv) { return smp::identity::Main(argc, argv); }
