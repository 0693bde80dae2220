#ifndef SMP_COMMON_DB_POSTGRES_DATABASE_H_
#define SMP_COMMON_DB_POSTGRES_DATABASE_H_

// The PostgreSQL backend of Database (libpq), for deployments with several replicas of a service.
// The same stores and migrations run on it as on SQLite; common/db/README.md lists what differs.
//
// - Transactions: kRead is REPEATABLE READ, READ ONLY (one snapshot); kWrite is SERIALIZABLE, so
//   every store's read-decide-write keeps the meaning it has on SQLite, where writers take turns,
//   now across replicas too; kWriteRowLocks is READ COMMITTED for queues and migrations that lock
//   rows themselves. A serialization failure or deadlock (SQLSTATE 40001, 40P01) is a
//   SerializationConflictError, which Database::Run and RunIdempotent retry (bounded).
// - Errors map as on SQLite: unique violation -> ALREADY_EXISTS, NOT NULL -> INTERNAL (our bug),
//   other constraints -> FAILED_PRECONDITION, connection and resource trouble -> UNAVAILABLE,
//   statement_timeout -> DEADLINE_EXCEEDED, anything else -> INTERNAL. A failing INSERT, UPDATE or
//   DELETE in a write transaction is rolled back to a savepoint taken with it (sent in the same
//   round trip), so the transaction stays usable, as on SQLite.
// - Connections: a pool of at most `max_connections`, opened on demand; a transaction waits up to
//   `acquire_timeout` for one, then UNAVAILABLE. Each connection prepares every statement once
//   (named prepared statements, by SQL text and parameter types) and has `statement_timeout`.
// - The database must use the C collation (`CREATE DATABASE ... LOCALE 'C' TEMPLATE template0`):
//   keyset paging compares TEXT keys byte by byte, as SQLite does. Open refuses another one.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"

namespace smp {

struct PostgresOptions {
  // libpq connection string: a URL (`postgresql://smp@db.internal:5432/scheduling`) or
  // `key=value` pairs. Never put the password here (it would show in process lists and logs).
  std::string conninfo;
  // The password, read from a file by the caller; empty: none (or ~/.pgpass, as libpq does).
  std::string password;
  // Connections kept open at most; transactions beyond this wait for one.
  int max_connections = 8;
  // How long a transaction waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // How long opening a connection may take before UNAVAILABLE.
  absl::Duration connect_timeout = absl::Seconds(5);
  // The server cancels a statement running longer (DEADLINE_EXCEEDED).
  absl::Duration statement_timeout = absl::Seconds(30);
  // The server ends a session idle inside a transaction this long (a stuck client's locks).
  absl::Duration idle_in_transaction_timeout = absl::Minutes(1);
};

// Connects (one connection, to fail fast on a bad address, password or database) and checks the
// database's collation. UNAVAILABLE when the server cannot be reached or refuses the login;
// FAILED_PRECONDITION for a database whose collation is not C.
absl::StatusOr<std::unique_ptr<Database>> OpenPostgresDatabase(const PostgresOptions& options);

namespace postgres_sql {

// The portable SQL of the stores as PostgreSQL takes it, in one place (tested without a server):
// each `?` outside quotes and comments becomes $1, $2, ...; `*placeholders` gets their number.
std::string NumberPlaceholders(absl::string_view sql, int* placeholders);

// Schema SQL (CREATE, ALTER; migrations) with SQLite's type names as PostgreSQL's: INTEGER ->
// BIGINT (every integer the stores keep is 64-bit), BLOB -> BYTEA, and SQLite's storage clause
// WITHOUT ROWID dropped. Quoted text and comments are left as they are.
std::string TranslateSchema(absl::string_view sql);

}  // namespace postgres_sql

}  // namespace smp

#endif  // SMP_COMMON_DB_POSTGRES_DATABASE_H_
