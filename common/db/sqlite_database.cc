// The SQLite backend of Database: a small pool of connections to one WAL-mode file.
//
// Write transactions are serialised by a process-wide mutex. SQLite allows one writer at a time
// anyway; queueing writers on a mutex is fair and wakes them at once, where SQLite's busy handler
// would make them poll with sleeps. busy_timeout still covers other processes (a sqlite3 shell, a
// backup) holding the lock.
//
// Group commit. Queued writers share one durable commit, and every write transaction of a batch
// is one SAVEPOINT in it. Database::Run's writers (every store's) are combined (RunWrite): the
// first writer to arrive leads, opens a batch (BEGIN IMMEDIATE on one connection), runs its own
// transaction and then those of the writers that queued meanwhile, on its own thread, commits the
// batch (one WAL append and one fsync for all of them), hands the lead to the oldest writer still
// queued, and after the sync wakes each writer of its batch once with its result. A transaction
// that fails or rolls back undoes only its savepoint; if the batch's COMMIT fails, every
// transaction in it gets that error and none of them happened. A writer alone commits alone.
// Writers of Begin(kWrite) (tests) take the write lock one by one instead: Commit() RELEASEs the
// savepoint, then hands the open batch on when another writer waits for the lock and the batch is
// not full, or COMMITs it. Either way Commit() returns OK only once the transaction is durable.
// Writers of RunAsync join the same queue with no thread waiting: when the oldest queued writer is
// one of theirs, the database's writer thread leads its batch (BackgroundLead) and hands the
// closed batch to the completion thread, which waits for the log's sync and answers each writer
// (CompleteLedBatches); a waiting writer of Run in such a batch is woken as from any other.
// Combining was measured in tools/bench (README, "Benchmarks"): taking turns on the lock cost each
// booking a hand-off of the lock and a wake-up for the batch's commit, and the lock stayed idle
// while the next writer was being scheduled.
//
// Log writes. Every connection opens the file through the gathering VFS (sqlite_gather_vfs.h),
// which writes a commit's log frames with one pwrite instead of two per page.
//
// Write batches always run on one dedicated connection, so its page cache stays warm: SQLite
// drops a connection's whole cache when another connection has changed the file since its last
// transaction, so a writer taken from the read pool started every batch cold (about 36 page reads
// a booking in tools/bench).
//
// The fsync after the write lock. In WAL mode (always, unless the file system cannot share
// memory) the writer runs with synchronous=NORMAL: COMMIT appends the batch to the log without
// syncing it, the write lock passes to the next batch, and the committer then fdatasyncs the log
// (WalSync, wal_sync.h: one sync for every commit that finished before it started) before any
// transaction of the batch is acknowledged. An acknowledged write is as durable as with FULL;
// the next batch no longer waits for this one's disk flush. What differs from FULL: other
// connections see a batch once COMMIT appended it, up to one fsync (about 2 ms here) before it
// is durable, where FULL synced before publishing it. A process crash loses nothing (the pages
// are in the kernel); only a power loss or kernel crash inside that window could undo a change a
// reader (a WatchChanges stream, say) had already seen, though no writer was told it was saved.
// Checkpoints stay SQLite's automatic ones, run by the committing writer once the log passes
// SqliteOptions::checkpoint_pages (they sync the log before copying it and the database after,
// whatever `synchronous` says).
// A checkpointer thread was tried: a passive checkpoint beside a busy writer never catches up with
// the log's end, so the log is never started over and grows without bound (sqlite_database_test,
// "TheLogStaysShort").

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/db/database.h"
#include "common/db/sqlite_gather_vfs.h"
#include "common/db/wal_sync.h"
#include "common/status/status_macros.h"
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

// A read transaction owns its pooled connection; a write transaction borrows the connection of the
// open batch and is one savepoint in it.
class SqliteTransaction final : public Transaction {
 public:
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  // Read.
  SqliteTransaction(SqliteDatabase* owner, std::unique_ptr<Connection> connection)
      : owner_(owner), owned_(std::move(connection)), connection_(owned_.get()), write_(false) {}
  // Write: `batch_connection` stays the database's. `led`: run by a batch leader
  // (SqliteDatabase::RunWrite), which ends the batch itself; Commit only releases the savepoint.
  SqliteTransaction(SqliteDatabase* owner, Connection* batch_connection, bool led)
      : owner_(owner), connection_(batch_connection), write_(true), led_(led) {}
  ~SqliteTransaction() override;

  absl::Status Begin() {
    absl::Status status = Step(write_ ? "SAVEPOINT smp_write" : "BEGIN DEFERRED", {}, nullptr);
    begun_ = status.ok();
    if (!begun_) done_ = true;
    return status;
  }

  absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params) override {
    return Step(sql, params, nullptr);
  }

  absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                    const std::vector<DbValue>& params) override {
    absl::Status status = Step(sql, params, nullptr);
    if (!status.ok()) return status;
    return static_cast<int64_t>(sqlite3_changes(connection_->db));
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
    int rc = sqlite3_exec(connection_->db, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      return SqliteError(nullptr, rc, message);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override;

  // Rolls back unless committed (the destructor's job; failure changes nothing: SQLite has then
  // rolled back already or will when the connection is next used).
  void RollbackIfOpen() {
    if (!done_) {
      if (write_) {
        (void)Step("ROLLBACK TO smp_write", {}, nullptr);
        (void)Step("RELEASE smp_write", {}, nullptr);
      } else {
        (void)Step("ROLLBACK", {}, nullptr);
      }
    }
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
        status = SqliteError(connection_->db, rc, "step");
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
      if (rc != SQLITE_OK) return SqliteError(connection_->db, rc, "bind");
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
  std::unique_ptr<Connection> owned_;  // a read transaction's connection
  Connection* connection_;
  const bool write_;
  const bool led_ = false;
  bool begun_ = false;  // BEGIN / SAVEPOINT ran
  bool done_ = false;   // committed or rolled back
  bool ended_ = false;  // write: handed back to the batch (SqliteDatabase::EndWrite)
};

class SqliteDatabase final : public Database {
 public:
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  SqliteDatabase(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(options) {}

  ~SqliteDatabase() override {
    StopBackgroundThreads();
    if (wal_fd_ >= 0) ::close(wal_fd_);
    absl::MutexLock lock(&mu_);
    SMP_CHECK(open_ == static_cast<int>(idle_.size()), "database closed with a transaction open");
  }

  // Opens the first connection (setting the file-wide settings) and the writer's.
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<Connection>> connection = OpenConnection();
    if (!connection.ok()) return connection.status();
    {
      absl::MutexLock lock(&mu_);
      idle_.push_back(*std::move(connection));
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<Connection>> writer = OpenConnection();
    if (!writer.ok()) return writer.status();
    absl::StatusOr<std::string> mode = QueryText(**writer, "PRAGMA journal_mode");
    if (!mode.ok()) return mode.status();
    if (*mode == "wal") {
      sqlite3_wal_autocheckpoint((*writer)->db, options_.checkpoint_pages);
      if (absl::Status status = RunOn(**writer, "PRAGMA synchronous=NORMAL"); !status.ok()) {
        return status;
      }
      // The log exists once a connection has read the database in WAL mode (the query above),
      // and is removed only when the last connection closes: the writer's stays open as long as
      // this object, so the descriptor stays the log's. Opened here, so that a commit never
      // depends on opening a file (a descriptor limit reached under load, say).
      const std::string wal_path = path_ + "-wal";
      wal_fd_ = ::open(wal_path.c_str(), O_RDWR | O_CLOEXEC);
      if (wal_fd_ < 0) {
        return absl::UnavailableError(absl::StrCat("open ", wal_path, ": ", std::strerror(errno)));
      }
      wal_sync_ = std::make_unique<WalSync>([this] { return SyncWal(); });
    }
    writer_ = *std::move(writer);
    return absl::OkStatus();
  }

  // Reads run on the caller's thread; writes are combined (RunWrite).
  absl::Status RunAttempt(TxMode mode, const WriteQueue& queue,
                          const std::function<absl::Status(Transaction&)>& fn) override {
    if (mode == TxMode::kRead) return Database::RunAttempt(mode, queue, fn);
    return RunWrite(fn);  // writers take turns anyway: the queue's key changes nothing here
  }

  // A write joins the queue of RunWrite without a thread of its own: the writer thread leads the
  // batches of such writers and the completion thread answers them after the log's sync. (SQLite
  // has no serialization conflicts, so there is nothing to retry.)
  void RunAsync(TxMode mode, const WriteQueue& queue, std::function<absl::Status(Transaction&)> fn,
                RunDone done) override {
    if (mode == TxMode::kRead)
      return Database::RunAsync(mode, queue, std::move(fn), std::move(done));
    absl::call_once(background_started_, [this] { StartBackgroundThreads(); });
    auto* writer = new QueuedWriter(nullptr);
    writer->owned_fn = std::move(fn);
    writer->fn = &writer->owned_fn;
    writer->done = std::move(done);
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(writer);
    if (!leading_) {
      leading_ = true;
      background_lead_ = true;  // wakes the writer thread (BackgroundLead)
    }
  }

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    if (mode != TxMode::kRead) return BeginWrite();  // kWriteRowLocks too: writes are serialised
    absl::StatusOr<std::unique_ptr<Connection>> connection = Acquire();
    if (!connection.ok()) return connection.status();
    auto txn = std::make_unique<SqliteTransaction>(this, *std::move(connection));
    absl::Status status = txn->Begin();
    if (!status.ok()) return status;  // the destructor releases the connection
    return txn;
  }

  void Release(std::unique_ptr<Connection> connection) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(connection));
  }

  // Ends a write transaction (its savepoint released when `committed`, rolled back otherwise) and
  // gives up the write lock: hands the open batch to the next queued writer, or commits it.
  // Returns, for a committed transaction, once its batch has been committed: OK when durable.
  absl::Status EndWrite(bool committed) ABSL_UNLOCK_FUNCTION(write_mu_) {
    std::shared_ptr<Batch> batch = batch_;
    if (committed) ++batch_size_;
    const bool lost = BatchLost();
    if (!lost && batch_size_ < options_.max_group_commit &&
        writers_queued_.load(std::memory_order_acquire) > 0) {
      write_mu_.Unlock();  // a queued writer extends the batch; the last one commits it
      if (!committed) return absl::OkStatus();
      absl::MutexLock lock(&batch_mu_);
      batch_mu_.Await(absl::Condition(&batch->done));
      return batch->status;
    }
    ClosedBatch closed = CloseBatch(lost);
    write_mu_.Unlock();
    absl::Status status = AwaitBatch(*batch, std::move(closed));
    return committed ? status : absl::OkStatus();
  }

  // Runs `fn` as one write transaction, combined with the other writers queued meanwhile: the
  // first of them leads, running every queued writer's `fn` in turn on its own thread in one batch
  // (a savepoint each), commits the batch, hands the lead to the next queued writer, and after the
  // log's sync wakes each writer of the batch once with its result. A writer so waits for one
  // wake-up, where taking turns on the write lock cost each a hand-off of the lock and a wake-up
  // for the batch's commit, and the lock stayed idle while the next writer was being scheduled.
  // `fn` runs on whichever thread leads; like every Run, it must not run a write of its own.
  absl::Status RunWrite(const std::function<absl::Status(Transaction&)>& fn) {
    QueuedWriter self(&fn);
    bool lead = false;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_.push_back(&self);
      lead = !leading_;  // nobody leads only when nobody is queued: `self` is the oldest
      leading_ = true;
    }
    if (!lead && self.Wait() == QueuedWriter::kDone) return self.status;
    LeadBatch(&self);
    return self.status;
  }

 private:
  // One batch of write transactions sharing a COMMIT.
  struct Batch {
    bool done = false;    // guarded by batch_mu_
    absl::Status status;  // the COMMIT's result once done
  };

  // A writer waiting in RunWrite: its transaction, then its result.
  struct QueuedWriter {
    enum State { kQueued, kLead, kDone };
    explicit QueuedWriter(const std::function<absl::Status(Transaction&)>* f) : fn(f) {}

    // Waits until the writer leads or is done.
    State Wait() {
      absl::MutexLock lock(&mu);
      auto moved = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return state != kQueued; };
      mu.Await(absl::Condition(&moved));
      return state;
    }
    void Set(State next) {
      absl::MutexLock lock(&mu);
      state = next;
    }

    // RunAsync's writers own their transaction and are answered by `done`; nobody waits on them.
    bool is_async() const { return static_cast<bool>(done); }

    const std::function<absl::Status(Transaction&)>* fn;
    std::function<absl::Status(Transaction&)> owned_fn;  // RunAsync's
    RunDone done;                                        // RunAsync's
    absl::Status status;                                 // written by the leader before kDone
    bool released = false;  // its savepoint went into the batch (then the COMMIT decides)
    absl::Mutex mu;
    State state ABSL_GUARDED_BY(mu) = kQueued;
  };

  // The COMMIT of a closed batch: its status and, while the log still needs a sync, its ticket.
  struct ClosedBatch {
    absl::Status status;
    int64_t ticket = 0;
  };

  // SQLite rolls back the whole transaction on some errors (I/O, full disk): the batch is gone.
  bool BatchLost() const { return sqlite3_get_autocommit(writer_->db) != 0; }

  // Commits the open batch (rolls it back when nothing in it was kept) and closes it.
  ClosedBatch CloseBatch(bool lost) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    ClosedBatch closed;
    if (lost) {
      closed.status = absl::UnavailableError(
          absl::StrCat("write batch rolled back: ", sqlite3_errmsg(writer_->db)));
    } else if (batch_size_ == 0) {
      (void)RunOn(*writer_, "ROLLBACK");  // nothing to keep
    } else {
      closed.status = RunOn(*writer_, "COMMIT");
      if (!closed.status.ok() && !BatchLost()) (void)RunOn(*writer_, "ROLLBACK");
      if (closed.status.ok() && wal_sync_ != nullptr) closed.ticket = wal_sync_->Appended();
    }
    batch_open_ = false;
    batch_.reset();
    batch_size_ = 0;
    return closed;
  }

  // After the write lock: waits for the closed batch's sync (the next batch runs meanwhile) and
  // wakes the transactions waiting on `batch`. Returns the batch's result.
  absl::Status AwaitBatch(Batch& batch, ClosedBatch closed) {
    if (closed.ticket != 0) closed.status = wal_sync_->AwaitDurable(closed.ticket);
    absl::MutexLock lock(&batch_mu_);
    batch.status = closed.status;
    batch.done = true;
    return closed.status;
  }

  // RunWrite's leader: one batch of the queued writers, oldest first; `self`, the leader, is the
  // oldest (it was queued alone or handed the lead as the oldest), so the batch runs it. With
  // `self` null the writer thread leads (the oldest queued writer is RunAsync's) and hands the
  // batch to the completion thread instead of waiting for its sync.
  void LeadBatch(QueuedWriter* self) {
    const absl::Status begun = LockAndOpenBatch();
    std::vector<QueuedWriter*> ran;
    std::shared_ptr<Batch> batch = batch_;
    bool lost = false;
    // A batch handed on by EndWrite has room for one more at least.
    const int room = options_.max_group_commit - batch_size_;
    while (static_cast<int>(ran.size()) < room && !lost) {
      QueuedWriter* writer = PopQueued();
      if (writer == nullptr) break;
      ran.push_back(writer);
      if (!begun.ok()) {
        writer->status = begun;  // BEGIN IMMEDIATE failed: this writer fails, the next one retries
        break;
      }
      writer->status = RunLed(*writer->fn);
      writer->released = writer->status.ok();
      if (writer->released) ++batch_size_;
      lost = BatchLost();
    }
    ClosedBatch closed;
    if (begun.ok()) closed = CloseBatch(lost);
    QueuedWriter* next = nullptr;
    {
      absl::MutexLock lock(&queue_mu_);
      if (queue_.empty()) {
        leading_ = false;
      } else if (queue_.front()->is_async()) {
        background_lead_ = true;  // the writer thread leads the next batch
      } else {
        next = queue_.front();
      }
    }
    write_mu_.Unlock();
    if (next != nullptr) next->Set(QueuedWriter::kLead);
    SMP_CHECK(!ran.empty() && (self == nullptr || ran.front() == self),
              "a batch leader did not run its own writer");
    LedBatch led{std::move(batch), std::move(closed), begun, std::move(ran)};
    if (self == nullptr) {
      absl::MutexLock lock(&completion_mu_);
      to_complete_.push_back(std::move(led));
      return;
    }
    Complete(led, self);
  }

  // A batch the writer thread led, waiting for the completion thread.
  struct LedBatch {
    std::shared_ptr<Batch> batch;
    ClosedBatch closed;
    absl::Status begun;  // BEGIN IMMEDIATE's result: when it failed, nothing was committed
    std::vector<QueuedWriter*> ran;
  };

  // Waits for the batch's sync and gives each of its writers its result: a waiter of RunWrite is
  // woken (but not `self`, the leader, which reads its own when LeadBatch returns), a writer of
  // RunAsync is answered and freed.
  void Complete(LedBatch& led, QueuedWriter* self) {
    absl::Status committed;
    if (led.begun.ok()) committed = AwaitBatch(*led.batch, std::move(led.closed));
    for (QueuedWriter* writer : led.ran) {
      if (writer->released) writer->status = committed;
      if (writer->is_async()) {
        RunDone done = std::move(writer->done);
        absl::Status status = std::move(writer->status);
        delete writer;
        std::move(done)(std::move(status));
      } else if (writer != self) {
        writer->Set(QueuedWriter::kDone);  // the waiter may return and free it at once
      }
    }
  }

  // The writer thread: leads a batch whenever the oldest queued writer is RunAsync's, until the
  // database closes with nothing left to lead.
  void BackgroundLead() {
    for (;;) {
      {
        absl::MutexLock lock(&queue_mu_);
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
          return background_lead_ || stopping_;
        };
        queue_mu_.Await(absl::Condition(&woken));
        if (!background_lead_) return;  // stopping, nothing queued for it
        background_lead_ = false;
      }
      LeadBatch(nullptr);
    }
  }

  // The completion thread: the writer thread's batches, in order, each after its sync.
  void CompleteLedBatches() {
    for (;;) {
      LedBatch led;
      {
        absl::MutexLock lock(&completion_mu_);
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
          return !to_complete_.empty() || completion_stopping_;
        };
        completion_mu_.Await(absl::Condition(&woken));
        if (to_complete_.empty()) return;
        led = std::move(to_complete_.front());
        to_complete_.pop_front();
      }
      Complete(led, nullptr);
    }
  }

  void StartBackgroundThreads() {
    lead_thread_ = std::thread([this] { BackgroundLead(); });
    completion_thread_ = std::thread([this] { CompleteLedBatches(); });
  }

  // Lets the writer thread lead what is queued, then the completion thread answer it, and joins
  // them. The database's users have stopped starting writes by now.
  void StopBackgroundThreads() {
    if (!lead_thread_.joinable()) return;
    {
      absl::MutexLock lock(&queue_mu_);
      stopping_ = true;
    }
    lead_thread_.join();
    {
      absl::MutexLock lock(&completion_mu_);
      completion_stopping_ = true;
    }
    completion_thread_.join();
  }

  // The oldest queued writer, taken off the queue; null when none waits.
  QueuedWriter* PopQueued() {
    absl::MutexLock lock(&queue_mu_);
    if (queue_.empty()) return nullptr;
    QueuedWriter* writer = queue_.front();
    queue_.pop_front();
    return writer;
  }

  // One writer's transaction as a savepoint of the open batch: OK when it was released into it.
  absl::Status RunLed(const std::function<absl::Status(Transaction&)>& fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    SqliteTransaction txn(this, writer_.get(), /*led=*/true);
    absl::Status status = txn.Begin();
    if (status.ok()) status = fn(txn);
    if (status.ok()) status = txn.Commit();
    return status;  // the destructor rolls the savepoint back unless released
  }

  // Takes the write lock, counted among the writers waiting for it meanwhile (so that a writer of
  // Begin() holding it hands its open batch on), and opens a batch unless one was handed on.
  // Returns with the lock held, whether BEGIN IMMEDIATE failed or not.
  absl::Status LockAndOpenBatch() ABSL_EXCLUSIVE_LOCK_FUNCTION(write_mu_) {
    writers_queued_.fetch_add(1, std::memory_order_acq_rel);
    write_mu_.Lock();
    writers_queued_.fetch_sub(1, std::memory_order_acq_rel);
    if (batch_open_) return absl::OkStatus();
    RETURN_IF_ERROR(RunOn(*writer_, "BEGIN IMMEDIATE"));
    batch_open_ = true;
    batch_ = std::make_shared<Batch>();
    batch_size_ = 0;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Transaction>> BeginWrite() {
    if (absl::Status status = LockAndOpenBatch(); !status.ok()) {
      write_mu_.Unlock();
      return status;
    }
    auto txn = std::make_unique<SqliteTransaction>(this, writer_.get(), /*led=*/false);
    absl::Status status = txn->Begin();
    if (!status.ok()) return status;  // the destructor ends it (EndWrite)
    return txn;
  }

  static absl::Status RunOn(Connection& connection, const char* sql) {
    int rc = sqlite3_exec(connection.db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(connection.db, rc, sql);
  }

  // The first column of the first row of `sql` as text.
  static absl::StatusOr<std::string> QueryText(Connection& connection, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(connection.db, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(connection.db, rc, sql);
    std::string text;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(stmt, 0);
      if (value != nullptr) text = reinterpret_cast<const char*>(value);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(connection.db, rc, sql);
    return text;
  }

  // WalSync's sync: fdatasync of the log file.
  absl::Status SyncWal() {
    if (::fdatasync(wal_fd_) != 0) {
      return absl::UnavailableError(
          absl::StrCat("fdatasync ", path_, "-wal: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Connection>> OpenConnection() {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             GatherVfsName());
    if (rc != SQLITE_OK) {
      absl::Status status = SqliteError(db, rc, absl::StrCat("open ", path_));
      sqlite3_close(db);
      return status;
    }
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every commit, so
    // an acknowledged write survives power loss, not only a process crash.
    // The page size first: it only takes effect before the file's first page is written, which
    // switching it to WAL does (and is ignored for an existing file).
    const std::string settings =
        absl::StrCat("PRAGMA page_size=", options_.page_size,
                     "; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    char* error = nullptr;
    rc = sqlite3_exec(db, settings.c_str(), nullptr, nullptr, &error);
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
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  // Held by the one write transaction running; guards the open batch.
  absl::Mutex write_mu_;
  std::unique_ptr<Connection> writer_;  // every batch's; in BEGIN IMMEDIATE while one is open
  bool batch_open_ = false;
  std::shared_ptr<Batch> batch_;
  int batch_size_ = 0;                  // committed (released) transactions in the batch
  std::atomic<int> writers_queued_{0};  // waiting in BeginWrite for write_mu_
  // RunWrite's writers not yet taken into a batch, oldest first; whether one of them leads.
  absl::Mutex queue_mu_;
  std::deque<QueuedWriter*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leading_ ABSL_GUARDED_BY(queue_mu_) = false;
  // RunAsync's writers: the writer thread leads when this is set (the oldest queued writer is
  // theirs and nobody else leads); the completion thread answers the batches it led.
  bool background_lead_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  absl::once_flag background_started_;
  std::thread lead_thread_;
  std::thread completion_thread_;
  absl::Mutex completion_mu_;
  std::deque<LedBatch> to_complete_ ABSL_GUARDED_BY(completion_mu_);
  bool completion_stopping_ ABSL_GUARDED_BY(completion_mu_) = false;
  absl::Mutex batch_mu_;
  // WAL mode only: the log's syncs after the write lock, and its descriptor (opened by Init).
  std::unique_ptr<WalSync> wal_sync_;
  int wal_fd_ = -1;
};

absl::Status SqliteTransaction::Commit() {
  SMP_CHECK(!done_, "transaction committed twice");
  if (!write_) {
    absl::Status status = Step("COMMIT", {}, nullptr);
    if (status.ok()) done_ = true;
    return status;
  }
  if (absl::Status status = Step("RELEASE smp_write", {}, nullptr); !status.ok()) return status;
  done_ = true;
  if (led_) return absl::OkStatus();
  ended_ = true;
  return owner_->EndWrite(/*committed=*/true);
}

SqliteTransaction::~SqliteTransaction() {
  RollbackIfOpen();
  if (!write_) {
    owner_->Release(std::move(owned_));
  } else if (!ended_ && !led_) {
    owner_->EndWrite(/*committed=*/false).IgnoreError();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError("sqlite path must name a file");
  }
  if (options.page_size < 512 || options.page_size > 65536 ||
      (options.page_size & (options.page_size - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite page_size must be a power of two from 512 to 65536, got ", options.page_size));
  }
  // Group commit runs each write transaction as a savepoint, so SQLite keeps a sub-journal of the
  // pages an earlier transaction of the batch had changed; past 64 KiB (the default) it goes to a
  // temporary file, and those writes were a tenth of a booking's CPU in tools/bench profiles. So
  // sub-journals stay in memory (-1: never spilled; a sub-journal holds at most the pages its
  // transaction changed). Not a large finite threshold: SQLite allocates an in-memory journal in
  // chunks of the threshold's size and spills by writing the first chunk whole, and its unix VFS
  // masks every write to 17 bits (128 KiB at most), so at 8 MiB the spill wrote 0 bytes and the
  // transaction failed SQLITE_FULL with the disk empty (sqlite_database_test, "EightMiB").
  // Process-wide, and only possible before SQLite's first use; if it is too late, the journal
  // spills at SQLite's default 64 KiB, which is correct, only slower.
  static const int kConfigured = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
  (void)kConfigured;
  auto db = std::make_unique<SqliteDatabase>(path, options);
  absl::Status status = db->Init();
  if (!status.ok()) return status;
  return db;
}

}  // namespace smp
