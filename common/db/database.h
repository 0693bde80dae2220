#ifndef SMP_COMMON_DB_DATABASE_H_
#define SMP_COMMON_DB_DATABASE_H_

// The storage interface every service's store layer uses. SQL is written once, portable between the
// SQLite backend (the embedded default) and a PostgreSQL backend: `?` placeholders (a PostgreSQL
// backend rewrites them to $n), TEXT/INTEGER/BLOB types, no backend-specific functions in service
// SQL.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// Bytes to bind as a BLOB (a plain std::string binds as TEXT).
struct Blob {
  std::string bytes;
};

// A value bound to a `?` placeholder or read from a result column.
using DbValue = std::variant<std::monostate, int64_t, std::string, Blob>;

// One result row. Column access by index in SELECT order; a wrong type or index is a programming
// error and aborts.
class Row {
 public:
  explicit Row(std::vector<DbValue> values) : values_(std::move(values)) {}

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  // TEXT or BLOB column as bytes; "" for NULL.
  const std::string& Text(int column) const;
  size_t size() const { return values_.size(); }

 private:
  std::vector<DbValue> values_;
};

// A transaction on one connection. Destroying it without Commit() rolls back.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Runs one statement. Constraint violations map to ALREADY_EXISTS (unique/primary key) or
  // FAILED_PRECONDITION (other constraints); a busy or failing disk to UNAVAILABLE.
  virtual absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params = {}) = 0;
  // Runs one statement and returns the number of rows it changed.
  virtual absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                            const std::vector<DbValue>& params = {}) = 0;
  // Runs one query and returns every row.
  virtual absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                                 const std::vector<DbValue>& params = {}) = 0;
  // Runs several `;`-separated statements without parameters (migrations).
  virtual absl::Status ExecScript(absl::string_view sql) = 0;
  // Makes the changes durable; after an OK return they survive a crash or power loss.
  virtual absl::Status Commit() = 0;
};

enum class TxMode {
  kRead,   // a consistent snapshot; writes fail
  kWrite,  // serialised with every other write transaction on the database
};

class Database {
 public:
  virtual ~Database() = default;

  // Starts a transaction, waiting for a connection (and, for kWrite, for the write lock).
  virtual absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;

  // Runs `fn` in a transaction and commits when it returns OK; rolls back and returns its error
  // otherwise.
  absl::Status Run(TxMode mode, const std::function<absl::Status(Transaction&)>& fn);
};

// Options of the SQLite backend.
struct SqliteOptions {
  // Connections kept open; transactions beyond this wait for one.
  int max_connections = 8;
  // How long a statement waits for another process's lock before failing with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Group commit: at most this many write transactions share one COMMIT (one fsync) when writers
  // queue up; each one's Commit() still returns only once it is durable. 1 commits each alone.
  int max_group_commit = 32;
};

// Opens (creating if missing) a SQLite database in WAL mode with synchronous=FULL, so that a
// committed transaction survives kill -9 and power loss. `path` ":memory:" is not supported (each
// connection would see its own database); tests use a temporary file.
absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options = {});

}  // namespace smp

#endif  // SMP_COMMON_DB_DATABASE_H_
