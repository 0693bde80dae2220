// The SQLite backend of Database: a small pool of connections to one WAL-mode file.
//
// Write transactions are serialised by a process-wide mutex before BEGIN IMMEDIATE. SQLite allows
// one writer at a time anyway; queueing writers on a mutex is fair and wakes them at once, where
// SQLite's busy handler would make them poll with sleeps. busy_timeout still covers other processes
// (a sqlite3 shell, a backup) holding the lock.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/db/database.h"
#include "common/util/check.h"

namespace smp {
namespace {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(message);
      }
      if (rc == SQLITE_CONSTRAINT_NOTNULL) return absl::InternalError(message);  // a bug of ours
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// The prepared statements of one connection, by SQL text, reused across transactions: parsing and
// planning each statement anew was a fifth of a read RPC's CPU in tools/bench profiles. Bounded,
// because some statements are built with a variable number of placeholders.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() { FinalizeAll(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // A statement ready to bind and step; hand it back with Done.
  absl::StatusOr<sqlite3_stmt*> Get(absl::string_view sql) {
    auto it = cached_.find(sql);
    if (it != cached_.end()) return it->second;
    const bool keep = cached_.size() < kMaxCached;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
    if (keep) cached_.emplace(std::string(sql), stmt);
    return stmt;
  }

  void FinalizeAll() {
    for (auto& [sql, stmt] : cached_) sqlite3_finalize(stmt);
    cached_.clear();
  }

  void Done(sqlite3_stmt* stmt) {
    auto it = cached_.find(absl::string_view(sqlite3_sql(stmt)));
    if (it != cached_.end() && it->second == stmt) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
  }

 private:
  static constexpr size_t kMaxCached = 256;
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cached_;
};

// One open connection and its statements.
struct Connection {
  explicit Connection(sqlite3* handle) : db(handle), statements(handle) {}
  ~Connection() {
    statements.FinalizeAll();  // a connection with live statements does not close
    sqlite3_close(db);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db;
  StatementCache statements;
};

class SqliteDatabase;

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteDatabase* owner, std::unique_ptr<Connection> connection, bool write)
      : owner_(owner), connection_(std::move(connection)), db_(connection_->db), write_(write) {}
  ~SqliteTransaction() override;

  absl::Status Begin() { return Step(write_ ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", {}, nullptr); }

  absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params) override {
    return Step(sql, params, nullptr);
  }

  absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                    const std::vector<DbValue>& params) override {
    absl::Status status = Step(sql, params, nullptr);
    if (!status.ok()) return status;
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<DbValue>& params) override {
    std::vector<Row> rows;
    absl::Status status = Step(sql, params, &rows);
    if (!status.ok()) return status;
    return rows;
  }

  absl::Status ExecScript(absl::string_view sql) override {
    std::string text(sql);
    char* error = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      return SqliteError(nullptr, rc, message);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    SMP_CHECK(!done_, "transaction committed twice");
    absl::Status status = Step("COMMIT", {}, nullptr);
    if (status.ok()) done_ = true;
    return status;
  }

  // Rolls back unless committed (the destructor's job; failure changes nothing: SQLite has then
  // rolled back already or will when the connection is next used).
  void RollbackIfOpen() {
    if (!done_) (void)Step("ROLLBACK", {}, nullptr);
    done_ = true;
  }

 private:
  absl::Status Step(absl::string_view sql, const std::vector<DbValue>& params,
                    std::vector<Row>* rows) {
    SMP_CHECK(!done_, "statement after commit");
    absl::StatusOr<sqlite3_stmt*> prepared = connection_->statements.Get(sql);
    if (!prepared.ok()) return prepared.status();
    sqlite3_stmt* stmt = *prepared;
    absl::Status status = BindAll(stmt, params);
    while (status.ok()) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = SqliteError(db_, rc, "step");
        break;
      }
      if (rows != nullptr) rows->push_back(ReadRow(stmt));
    }
    connection_->statements.Done(stmt);
    return status;
  }

  absl::Status BindAll(sqlite3_stmt* stmt, const std::vector<DbValue>& params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return absl::InternalError(absl::StrCat("statement takes ",
                                              sqlite3_bind_parameter_count(stmt),
                                              " parameters, got ", params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i) + 1;
      const DbValue& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const std::string* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        const std::string& b = std::get<Blob>(v).bytes;
        rc = sqlite3_bind_blob64(stmt, index, b.data(), b.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    return absl::OkStatus();
  }

  static Row ReadRow(sqlite3_stmt* stmt) {
    int n = sqlite3_column_count(stmt);
    std::vector<DbValue> values;
    values.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          values.emplace_back(std::monostate{});
          break;
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_BLOB: {
          const void* data = sqlite3_column_blob(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          values.emplace_back(Blob{std::string(static_cast<const char*>(data), size)});
          break;
        }
        default: {  // TEXT (and FLOAT, which the project never stores)
          const unsigned char* text = sqlite3_column_text(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          values.emplace_back(std::string(reinterpret_cast<const char*>(text), size));
          break;
        }
      }
    }
    return Row(std::move(values));
  }

  SqliteDatabase* owner_;
  std::unique_ptr<Connection> connection_;
  sqlite3* db_;
  bool write_;
  bool done_ = false;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(options) {}

  ~SqliteDatabase() override {
    absl::MutexLock lock(&mu_);
    SMP_CHECK(open_ == static_cast<int>(idle_.size()), "database closed with a transaction open");
  }

  // Opens the first connection and sets the file-wide settings.
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<Connection>> connection = OpenConnection();
    if (!connection.ok()) return connection.status();
    absl::MutexLock lock(&mu_);
    idle_.push_back(*std::move(connection));
    ++open_;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    const bool write = mode == TxMode::kWrite;
    if (write) write_mu_.Lock();
    absl::StatusOr<std::unique_ptr<Connection>> connection = Acquire();
    if (!connection.ok()) {
      if (write) write_mu_.Unlock();
      return connection.status();
    }
    auto txn = std::make_unique<SqliteTransaction>(this, *std::move(connection), write);
    absl::Status status = txn->Begin();
    if (!status.ok()) return status;  // the destructor releases connection and lock
    return txn;
  }

  void Release(std::unique_ptr<Connection> connection, bool write) {
    {
      absl::MutexLock lock(&mu_);
      idle_.push_back(std::move(connection));
    }
    if (write) write_mu_.Unlock();
  }

 private:
  absl::StatusOr<std::unique_ptr<Connection>> OpenConnection() {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      absl::Status status = SqliteError(db, rc, absl::StrCat("open ", path_));
      sqlite3_close(db);
      return status;
    }
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every commit, so
    // an acknowledged write survives power loss, not only a process crash.
    const char* kSettings =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
    char* error = nullptr;
    rc = sqlite3_exec(db, kSettings, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      absl::Status status =
          SqliteError(nullptr, rc, absl::StrCat("configure ", path_, ": ", error ? error : ""));
      sqlite3_free(error);
      sqlite3_close(db);
      return status;
    }
    return std::make_unique<Connection>(db);
  }

  absl::StatusOr<std::unique_ptr<Connection>> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto can_take = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.max_connections;
      };
      mu_.Await(absl::Condition(&can_take));
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_;  // reserve the slot, open outside the lock
    }
    absl::StatusOr<std::unique_ptr<Connection>> connection = OpenConnection();
    if (!connection.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return connection;
  }

  const std::string path_;
  const SqliteOptions options_;
  absl::Mutex write_mu_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

SqliteTransaction::~SqliteTransaction() {
  RollbackIfOpen();
  owner_->Release(std::move(connection_), write_);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError("sqlite path must name a file");
  }
  auto db = std::make_unique<SqliteDatabase>(path, options);
  absl::Status status = db->Init();
  if (!status.ok()) return status;
  return db;
}

}  // namespace smp
