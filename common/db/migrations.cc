#include "common/db/migrations.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"

namespace smp {
namespace {

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  checksum TEXT NOT NULL,"
    "  applied_at TEXT NOT NULL)";

// Replicas starting together apply migrations one at a time: on PostgreSQL each migration's
// transaction first takes this transaction-scoped advisory lock, and runs READ COMMITTED
// (kWriteRowLocks), so every statement after the lock sees what the replica before it committed
// (a SERIALIZABLE snapshot would be older than the lock and miss it). SQLite's writers take turns
// anyway.
constexpr int64_t kSchemaLockKey = 0x736d70736368656d;  // "smpschem"

absl::Status LockSchema(Transaction& txn) {
  if (txn.dialect() != SqlDialect::kPostgresql) return absl::OkStatus();
  return txn.Query("SELECT pg_advisory_xact_lock(?)", {kSchemaLockKey}).status();
}

absl::Status CheckNumbering(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat("migration \"", migrations[i].name, "\" has version ",
                                              migrations[i].version, ", expected ", i + 1));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> SchemaVersion(Database& db) {
  int version = 0;
  RETURN_IF_ERROR(db.Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(LockSchema(txn));
    RETURN_IF_ERROR(txn.Exec(kCreateMigrationsTable));
    ASSIGN_OR_RETURN(auto rows,
                     txn.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    version = static_cast<int>(rows.at(0).Int(0));
    return absl::OkStatus();
  }));
  return version;
}

absl::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations,
                             absl::Time now) {
  RETURN_IF_ERROR(CheckNumbering(migrations));
  const int newest = static_cast<int>(migrations.size());
  for (const Migration& m : migrations) {
    const std::string checksum = Sha256Hex(m.sql);
    // Check-and-apply in one write transaction, so two processes starting together cannot both
    // apply a step.
    RETURN_IF_ERROR(db.Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(LockSchema(txn));
      RETURN_IF_ERROR(txn.Exec(kCreateMigrationsTable));
      ASSIGN_OR_RETURN(auto newer, txn.Query("SELECT MAX(version) FROM schema_migrations"));
      if (!newer.at(0).IsNull(0) && newer.at(0).Int(0) > newest) {
        return absl::FailedPreconditionError(
            absl::StrCat("database schema is at version ", newer.at(0).Int(0),
                         ", newer than this binary knows (", newest,
                         "); run the newer binary or restore a matching backup"));
      }
      ASSIGN_OR_RETURN(auto applied,
                       txn.Query("SELECT checksum FROM schema_migrations WHERE version = ?",
                                 {int64_t{m.version}}));
      if (!applied.empty()) {
        if (applied[0].Text(0) != checksum) {
          return absl::FailedPreconditionError(
              absl::StrCat("migration ", m.version, " (\"", m.name,
                           "\") differs from the one applied to this database; released "
                           "migrations must not be edited"));
        }
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(txn.ExecScript(m.sql));
      return txn.Exec(
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
          {int64_t{m.version}, m.name, checksum,
           absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone())});
    }));
  }
  return absl::OkStatus();
}

}  // namespace smp
