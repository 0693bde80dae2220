// The billing service: price lists, quotes, invoices, credit notes, payments, deposits, refunds,
// balances, charges from scheduling's events and revenue reports. Flags (each also settable as
// SMP_<NAME> in the environment) are listed in README.md.

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/auth_flags.h"
#include "common/auth/authenticator.h"
#include "common/auth/session_store.h"
#include "common/db/database.h"
#include "common/db/migrations.h"
#include "common/redis/redis_pool.h"
#include "common/server/flags_env.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/billing_service.h"

ABSL_FLAG(std::string, data_dir, "data",
          "Directory for the service's SQLite database (billing.sqlite). Created if missing.");

namespace smp::billing {
namespace {

int Fail(absl::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  return 1;
}

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("billing");
  ServerConfig config = ServerConfigFromFlags("billing");
  SetLogLevel(config.log_level);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("cannot create data_dir",
                absl::UnavailableError(absl::StrCat(data_dir, ": ", std::strerror(errno))));
  }
  absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(data_dir + "/billing.sqlite");
  if (!db.ok()) return Fail("cannot open database", db.status());
  absl::Status migrated = ApplyMigrations(**db, BillingMigrations(), Clock::Real().Now());
  if (!migrated.ok()) return Fail("cannot migrate database", migrated);

  RedisPool redis(RedisOptionsFromFlags());
  SessionStore sessions(&redis, SessionPolicyFromFlags(), Clock::Real());
  Authenticator authenticator(&sessions, AuthCacheOptionsFromFlags(), Clock::Real());
  BillingServiceImpl service(BillingDeps{
      .db = db->get(),
      .authenticator = &authenticator,
      .clock = &Clock::Real(),
  });

  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) return Fail("cannot start server", server.status());
  WaitForTerminationSignal();
  (*server)->Shutdown();
  server->reset();
  return 0;
}

}  // namespace
}  // namespace smp::billing

int main(int argc, char** argv) { return smp::billing::Main(argc, argv); }
