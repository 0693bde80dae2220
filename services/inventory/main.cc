// The inventory service: products, lots, serial units, per-clinic stock and its ledger, issue to
// procedures, transfers, recalls, reorder points, forecast and reconciliation. Flags (each also
// settable as SMP_<NAME> in the environment) are listed in README.md.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/auth_flags.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/db/migrations.h"
#include "common/redis/redis_pool.h"
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

int Fail(absl::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  return 1;
}

std::string ReadToken(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return std::string(absl::StripAsciiWhitespace(token));
}

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("inventory");
  ServerConfig config = ServerConfigFromFlags("inventory");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("cannot create data_dir",
                absl::UnavailableError(absl::StrCat(data_dir, ": ", std::strerror(errno))));
  }
  absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(data_dir + "/inventory.sqlite");
  if (!db.ok()) return Fail("cannot open database", db.status());
  absl::Status migrated = ApplyMigrations(**db, InventoryMigrations(), Clock::Real().Now());
  if (!migrated.ok()) return Fail("cannot migrate database", migrated);

  RedisPool redis(RedisOptionsFromFlags());
  SessionStore sessions(&redis, SessionPolicyFromFlags(), Clock::Real());
  Authenticator authenticator(&sessions, AuthCacheOptionsFromFlags(), Clock::Real());
  std::unique_ptr<AppointmentSource> appointments;
  const std::string scheduling_address = absl::GetFlag(FLAGS_scheduling_address);
  if (scheduling_address.empty()) {
    appointments = std::make_unique<UnconfiguredAppointmentSource>();
    LogWarning("no --scheduling_address: the forecast and reconciliation answer UNAVAILABLE");
  } else {
    appointments = std::make_unique<GrpcAppointmentSource>(
        grpc::CreateChannel(scheduling_address, grpc::InsecureChannelCredentials()),
        ReadToken(absl::GetFlag(FLAGS_service_token_file)),
        absl::GetFlag(FLAGS_scheduling_deadline));
  }
  InventoryServiceImpl service(InventoryDeps{
      .db = db->get(),
      .authenticator = &authenticator,
      .appointments = appointments.get(),
      .clock = &Clock::Real(),
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return Fail("cannot start server", server.status());
  WaitForTerminationSignal();
  service.StopWatches();  // ends WatchLowStock streams so the drain does not wait for them
  (*server)->Shutdown();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::inventory

int main(int argc, char** argv) { return smp::inventory::Main(argc, argv); }
