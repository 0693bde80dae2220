#ifndef SMP_COMMON_DB_MIGRATIONS_H_
#define SMP_COMMON_DB_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/db/database.h"

namespace smp {

// One step of a service's schema. Migrations are embedded in the binary, numbered 1, 2, 3... and
// never edited once released: a change is a new migration.
struct Migration {
  int version;
  std::string name;  // short description, e.g. "clinics and staff"
  std::string sql;   // one or more `;`-separated statements of portable SQL
};

// Brings the database to the newest version in `migrations`, each step in its own transaction, and
// records each in schema_migrations (version, name, checksum, applied_at). Refuses to start
// (FAILED_PRECONDITION) when the database is newer than this binary, or when an applied migration's
// text differs from the embedded one (someone edited a released migration). Safe to run at every
// start and from several processes at once.
absl::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations,
                             absl::Time now);

// The schema version the database is at (0 when empty).
absl::StatusOr<int> SchemaVersion(Database& db);

}  // namespace smp

#endif  // SMP_COMMON_DB_MIGRATIONS_H_
