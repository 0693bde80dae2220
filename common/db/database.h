#ifndef SMP_COMMON_DB_DATABASE_H_
#define SMP_COMMON_DB_DATABASE_H_

// The storage interface every service's store layer uses. SQL is written once, portable between the
// SQLite backend (the embedded default) and the PostgreSQL backend (postgres_database.h): `?`
// placeholders (the PostgreSQL backend rewrites them to $n), TEXT/INTEGER/BLOB types (PostgreSQL
// creates BIGINT/BYTEA for them), no backend-specific functions in service SQL. What is portable
// and what is not is listed in common/db/README.md; where SQL must differ, a store asks
// `txn.dialect()`.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
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

// The SQL a backend speaks, for the few statements that must differ (common/db/README.md).
enum class SqlDialect {
  kSqlite,
  kPostgresql,
};

// A transaction on one connection. Destroying it without Commit() rolls back.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // No default: a wrapper that forgot to forward it would send SQLite-only SQL to PostgreSQL.
  virtual SqlDialect dialect() const = 0;

  // Runs one statement. Constraint violations map to ALREADY_EXISTS (unique/primary key) or
  // FAILED_PRECONDITION (other constraints); a busy or failing disk to UNAVAILABLE. A statement
  // that fails changes nothing and leaves the transaction usable (both backends), so a store may
  // answer a unique violation by reading who holds the key.
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
  // A consistent snapshot; writes fail. PostgreSQL: REPEATABLE READ, READ ONLY.
  kRead,
  // Behaves as if serialised with every other write transaction on the database, so a store may
  // read, decide and write without locks of its own. SQLite: one writer at a time (group commit).
  // PostgreSQL: SERIALIZABLE; a transaction that loses a race fails with a serialization conflict
  // (IsSerializationConflict) and Run / RunIdempotent run it again.
  kWrite,
  // For work queues and schema changes that take their own locks, and for counters advanced by one
  // atomic upsert: PostgreSQL READ COMMITTED (each statement sees what committed before it; rows
  // locked with FOR UPDATE [SKIP LOCKED], advisory locks, or by the upsert itself), so several
  // replicas share a queue or a counter without conflicts. SQLite: the same as kWrite.
  kWriteRowLocks,
};

// Names the hot row a write transaction will advance: a counter or chain head that every writer of
// one clinic (or of the whole service) reads and moves on, e.g.
// `WriteQueue{absl::StrCat("scheduling.feed:", clinic_id)}`. Writers that name the same key take
// turns instead of colliding:
// - PostgreSQL queues them on a session-level advisory lock of the key's hash, taken on the
//   transaction's connection BEFORE `BEGIN` (so the snapshot is taken after the previous holder
//   committed and sees its change) and released after COMMIT or ROLLBACK, on every path (a
//   connection whose unlock cannot be confirmed is closed, which releases it). The wait is one
//   statement, bounded by `statement_timeout` (then DEADLINE_EXCEEDED, nothing changed).
//   SERIALIZABLE stays: conflicts with writers of other keys (or of none) still retry.
// - SQLite ignores it: its writers already take turns.
// An empty key queues nothing; kRead transactions ignore it. A transaction names at most one key,
// so queued writers never wait for each other in a cycle.
struct WriteQueue {
  std::string key;
};

// How often Database::Run and RunIdempotent try a transaction that keeps losing serialization
// races before they answer ABORTED.
inline constexpr int kMaxTransactionAttempts = 20;

// ABORTED marked as a serialization conflict (PostgreSQL SQLSTATE 40001 or 40P01): running the
// whole transaction again may succeed.
absl::Status SerializationConflictError(absl::string_view message);
bool IsSerializationConflict(const absl::Status& status);

class Database {
 public:
  virtual ~Database() = default;

  // No default, like Transaction::dialect().
  virtual SqlDialect dialect() const = 0;

  // Starts a transaction, waiting for a connection (and, on SQLite for kWrite, for the write
  // lock).
  virtual absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;
  // Begin, queued behind the other writers of `queue.key` (see WriteQueue). The default, for
  // backends whose writers already take turns (SQLite), is Begin(mode).
  virtual absl::StatusOr<std::unique_ptr<Transaction>> BeginQueued(TxMode mode,
                                                                   const WriteQueue& queue) {
    (void)queue;
    return Begin(mode);
  }

  // Runs `fn` in a transaction and commits when it returns OK; rolls back and returns its error
  // otherwise. A serialization conflict (in `fn` or at the commit) runs `fn` again in a new
  // transaction, up to kMaxTransactionAttempts times in all, then answers ABORTED; so `fn` must
  // have no effect outside the transaction that a second run would repeat wrongly. A write's
  // `fn` may run on another thread while the caller waits (SQLite runs the queued writers' `fn`s
  // on one thread, RunAttempt), so it must not depend on thread-local state.
  absl::Status Run(TxMode mode, const std::function<absl::Status(Transaction&)>& fn);
  // Run, each attempt queued behind the other writers of `queue.key` (see WriteQueue).
  absl::Status Run(TxMode mode, const WriteQueue& queue,
                   const std::function<absl::Status(Transaction&)>& fn);

  // Called once with what Run would have returned.
  using RunDone = absl::AnyInvocable<void(absl::Status) &&>;
  // Run, answering in `done` instead of returning, so that no thread of the caller's waits while
  // a write is made durable. `done` runs once, with Run's result, on whichever thread finishes
  // the transaction, possibly before RunAsync returns; it must not block (it may run on the
  // thread that completes other writers). The SQLite backend runs a write's `fn` on its writer
  // thread and calls `done` after the log's sync from its completion thread; this default (the
  // PostgreSQL backend, reads) runs Run on the caller's thread, then `done`.
  virtual void RunAsync(TxMode mode, const WriteQueue& queue,
                        std::function<absl::Status(Transaction&)> fn, RunDone done) {
    std::move(done)(Run(mode, queue, fn));
  }

 protected:
  // One attempt of Run: Begin (BeginQueued when `queue` names a key), `fn`, Commit. A backend
  // may run an attempt its own way as long as `fn` runs once, in one transaction that commits
  // only if `fn` returned OK, and the result is the attempt's: the SQLite backend has one thread
  // run the writers queued meanwhile in one batch (sqlite_database.cc, RunWrite).
  virtual absl::Status RunAttempt(TxMode mode, const WriteQueue& queue,
                                  const std::function<absl::Status(Transaction&)>& fn);
};

// Options of the SQLite backend.
struct SqliteOptions {
  // Connections kept open for reads; transactions beyond this wait for one. (Writes have one
  // connection of their own, and in WAL mode checkpoints another.)
  int max_connections = 8;
  // How long a statement waits for another process's lock before failing with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Group commit: at most this many write transactions share one COMMIT (one fsync) when writers
  // queue up; each one's Commit() still returns only once it is durable. 1 commits each alone.
  int max_group_commit = 32;
  // The log's length, in pages, past which the committing writer copies it into the database and
  // starts it over (SQLite's automatic checkpoint). Each checkpoint holds the write lock while it
  // copies and syncs; a longer log makes fewer, and the pages changed again meanwhile are copied
  // once: SQLite's 1,000 cost booking a fifth of its throughput in tools/bench (README). The log
  // file keeps its high-water mark, one page size a page.
  int checkpoint_pages = 8000;
  // The page size, in bytes, of a database this creates (a power of two, 512 to 65536); an
  // existing file keeps its own. Each commit writes every page it changed whole to the log, and
  // later copies it into the database: see kWriteHeavyPageSize.
  int page_size = 4096;
};

// The page size for a database written mostly by small rows inserted at scattered places and read
// a few rows at a time (inventory's unit, stock and ledger rows): each such insert changes one leaf
// page of each index it touches, which the commit writes whole to the log and later copies into
// the file. Inventory's needle issues at 64 in flight went 13-34% faster with 1 KiB pages than
// with SQLite's 4 KiB in alternating runs (README, "Benchmarks", Session 13). Not for a database
// read in long runs of rows: scheduling's bookings were about 10% cheaper with 1 KiB pages, but
// its ListChanges read of 100,000 changes took 30% longer (more pages a row); and rows longer than
// about 1,000 bytes spill to overflow pages.
inline constexpr int kWriteHeavyPageSize = 1024;

// Opens (creating if missing) a SQLite database in WAL mode. A committed transaction survives
// kill -9 and power loss: Commit() returns OK only after the log holding it was fsynced (the
// writer runs with synchronous=NORMAL and syncs the log itself after the write lock, WalSync; a
// file system without WAL keeps synchronous=FULL). `path` ":memory:" is not supported (each
// connection would see its own database); tests use a temporary file.
absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options = {});

}  // namespace smp

#endif  // SMP_COMMON_DB_DATABASE_H_
