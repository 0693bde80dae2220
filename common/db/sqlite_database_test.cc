#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/db/database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StatusIs;

std::string TempDbPath() { return ::testing::TempDir() + "/smp_db_" + NewId() + ".sqlite"; }

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempDbPath();
    ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
    ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
      return txn.ExecScript(
          "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0), b BLOB);");
    }));
  }

  absl::StatusOr<int64_t> Count() {
    int64_t n = -1;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM t"));
      n = rows.at(0).Int(0);
      return absl::OkStatus();
    }));
    return n;
  }

  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteDatabaseTest, WritesAndReadsValuesOfEveryType) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n, b) VALUES (?, ?, ?)",
                    {std::string("a"), int64_t{42}, Blob{std::string("\0\x01", 2)}});
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     txn.Query("SELECT id, n, b, NULL FROM t WHERE id = ?", {std::string("a")}));
    EXPECT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Text(0), "a");
    EXPECT_EQ(rows[0].Int(1), 42);
    EXPECT_EQ(rows[0].Text(2), std::string("\0\x01", 2));
    EXPECT_TRUE(rows[0].IsNull(3));
    return absl::OkStatus();
  }));
}

TEST_F(SqliteDatabaseTest, UncommittedTransactionRollsBack) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, db_->Begin(TxMode::kWrite));
    ASSERT_OK(txn->Exec("INSERT INTO t (id, n) VALUES ('x', 1)"));
  }
  EXPECT_EQ(*Count(), 0);
  absl::Status failed = db_->Run(TxMode::kWrite, [](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES ('y', 1)"));
    return absl::FailedPreconditionError("domain rule");
  });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(*Count(), 0);
}

TEST_F(SqliteDatabaseTest, ConstraintViolationsMapToStatusCodes) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('a', 1)");
  }));
  EXPECT_THAT(
      db_->Run(TxMode::kWrite,
               [](Transaction& txn) { return txn.Exec("INSERT INTO t (id, n) VALUES ('a', 2)"); }),
      StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(
      db_->Run(TxMode::kWrite,
               [](Transaction& txn) { return txn.Exec("INSERT INTO t (id, n) VALUES ('b', -1)"); }),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db_->Run(TxMode::kWrite, [](Transaction& txn) { return txn.Exec("SELEKT 1"); }),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(*Count(), 1);
}

TEST_F(SqliteDatabaseTest, ConcurrentReadModifyWriteLosesNoUpdate) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('counter', 0)");
  }));
  constexpr int kThreads = 8, kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < kPerThread; ++k) {
        absl::Status s = db_->Run(TxMode::kWrite, [](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM t WHERE id = 'counter'"));
          return txn.Exec("UPDATE t SET n = ? WHERE id = 'counter'", {rows.at(0).Int(0) + 1});
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM t WHERE id = 'counter'"));
    EXPECT_EQ(rows.at(0).Int(0), kThreads * kPerThread);
    return absl::OkStatus();
  }));
}

// Many writers at once share commits (group commit): every transaction that committed is there
// after a reopen, and one that rolled back took only its own changes with it, not those of the
// others in its batch.
TEST_F(SqliteDatabaseTest, ConcurrentWritersKeepEveryCommitAndLoseEveryRollback) {
  constexpr int kThreads = 16, kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kPerThread; ++k) {
        const bool keep = k % 2 == 0;
        absl::Status s = db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
          RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES (?, ?)",
                                   {absl::StrCat(i, "-", k), int64_t{k}}));
          // A read sees this transaction's own write and those committed before it.
          ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM t WHERE id = ?",
                                                {absl::StrCat(i, "-", k)}));
          if (rows.at(0).Int(0) != 1) return absl::InternalError("own write not visible");
          if (!keep) return absl::FailedPreconditionError("rolled back on purpose");
          return absl::OkStatus();
        });
        if (s.ok() != keep) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*), COALESCE(SUM(n % 2), 0) FROM t"));
    EXPECT_EQ(rows.at(0).Int(0), kThreads * kPerThread / 2);
    EXPECT_EQ(rows.at(0).Int(1), 0);  // only the even (kept) ones
    return absl::OkStatus();
  }));
}

// A failed statement inside one writer's transaction (a constraint) leaves the batch usable.
TEST_F(SqliteDatabaseTest, ConstraintFailureInOneWriterDoesNotSpoilTheBatch) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('taken', 1)");
  }));
  constexpr int kThreads = 8, kPerThread = 30;
  std::atomic<int> ok{0}, already{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kPerThread; ++k) {
        absl::Status s = db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
          RETURN_IF_ERROR(
              txn.Exec("INSERT INTO t (id, n) VALUES (?, 0)", {absl::StrCat("w", i, "-", k)}));
          if (k % 3 == 0) return txn.Exec("INSERT INTO t (id, n) VALUES ('taken', 2)");
          return absl::OkStatus();
        });
        if (s.ok()) ++ok;
        if (absl::IsAlreadyExists(s)) ++already;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(already.load(), kThreads * 10);
  EXPECT_EQ(ok.load(), kThreads * 20);
  EXPECT_EQ(*Count(), 1 + kThreads * 20);
}

// Writers that queue while one runs are combined: the first runs their transactions on its own
// thread in its batch, and each still gets its own result (a failure undoes only its own rows).
TEST_F(SqliteDatabaseTest, QueuedWritersRunInTheLeadersBatchWithTheirOwnResults) {
  absl::Notification leader_running, release_leader;
  std::thread::id leader_thread;
  std::thread leader([&] {
    EXPECT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
      leader_thread = std::this_thread::get_id();
      leader_running.Notify();
      release_leader.WaitForNotification();
      return txn.Exec("INSERT INTO t (id, n) VALUES ('leader', 0)");
    }));
  });
  leader_running.WaitForNotification();
  constexpr int kQueued = 6;
  std::vector<absl::Status> results(kQueued);
  std::vector<std::thread::id> ran_on(kQueued);
  std::atomic<int> calling{0};
  std::vector<std::thread> queued;
  for (int i = 0; i < kQueued; ++i) {
    queued.emplace_back([&, i] {
      ++calling;
      results[i] = db_->Run(TxMode::kWrite, [&, i](Transaction& txn) -> absl::Status {
        ran_on[i] = std::this_thread::get_id();
        RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES (?, ?)",
                                 {absl::StrCat("queued-", i), int64_t{i}}));
        if (i % 2 == 1)
          return absl::FailedPreconditionError(absl::StrCat("writer ", i, " refuses"));
        return absl::OkStatus();
      });
    });
  }
  while (calling.load() < kQueued) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(200));  // let every writer reach the queue
  release_leader.Notify();
  leader.join();
  for (auto& t : queued) t.join();
  for (int i = 0; i < kQueued; ++i) {
    EXPECT_EQ(ran_on[i], leader_thread) << "writer " << i << " ran outside the leader's batch";
    if (i % 2 == 1) {
      EXPECT_THAT(results[i], StatusIs(absl::StatusCode::kFailedPrecondition,
                                       ::testing::HasSubstr(absl::StrCat("writer ", i))));
    } else {
      EXPECT_OK(results[i]) << "writer " << i;
    }
  }
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT id FROM t ORDER BY id"));
    std::vector<std::string> ids;
    for (const Row& row : rows) ids.push_back(row.Text(0));
    EXPECT_EQ(ids, (std::vector<std::string>{"leader", "queued-0", "queued-2", "queued-4"}));
    return absl::OkStatus();
  }));
}

// RunAsync's writers join the same batches as Run's, from threads that do not wait: each is
// answered once, with its own result, after its batch committed; the rows of a refusing one are
// undone, nobody else's. Closing the database answers those still queued first.
TEST_F(SqliteDatabaseTest, AsyncWritersAreEachAnsweredOnceWithTheirOwnResult) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  absl::Mutex mu;
  std::vector<int> answers(kThreads * kPerThread, 0);
  std::vector<absl::Status> results(kThreads * kPerThread);
  std::atomic<int> sync_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        const int i = t * kPerThread + k;
        db_->RunAsync(
            TxMode::kWrite, WriteQueue{},
            [i](Transaction& txn) -> absl::Status {
              RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES (?, ?)",
                                       {absl::StrCat("async-", i), int64_t{i}}));
              if (i % 7 == 3) return absl::FailedPreconditionError(absl::StrCat("writer ", i));
              return absl::OkStatus();
            },
            [&, i](absl::Status status) {
              absl::MutexLock lock(&mu);
              ++answers[i];
              results[i] = std::move(status);
            });
        // A waiting writer among them now and then, in the same batches.
        if (k % 50 == 0) {
          absl::Status s = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
            return txn.Exec("INSERT INTO t (id, n) VALUES (?, 0)", {absl::StrCat("sync-", t, k)});
          });
          if (!s.ok()) ++sync_failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  db_.reset();  // answers every writer still queued before it returns
  EXPECT_EQ(sync_failures.load(), 0);
  int refused = 0;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_EQ(answers[i], 1) << "writer " << i;
    if (i % 7 == 3) {
      ++refused;
      EXPECT_THAT(results[i], StatusIs(absl::StatusCode::kFailedPrecondition,
                                       ::testing::HasSubstr(absl::StrCat("writer ", i))));
    } else {
      EXPECT_OK(results[i]) << "writer " << i;
    }
  }
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM t WHERE id LIKE 'async-%'"));
    EXPECT_EQ(rows.at(0).Int(0), kThreads * kPerThread - refused);
    ASSIGN_OR_RETURN(rows, txn.Query("SELECT COUNT(*) FROM t WHERE id LIKE 'sync-%'"));
    EXPECT_EQ(rows.at(0).Int(0), kThreads * (kPerThread / 50));
    ASSIGN_OR_RETURN(rows,
                     txn.Query("SELECT COUNT(*) FROM t WHERE id LIKE 'async-%' AND n % 7 = 3"));
    EXPECT_EQ(rows.at(0).Int(0), 0) << "a refused writer's row was kept";
    return absl::OkStatus();
  }));
}

// An async writer's answer comes once its batch is durable: by then a reader sees its row.
TEST_F(SqliteDatabaseTest, AnAsyncWriterIsAnsweredAfterItsCommit) {
  absl::Notification answered;
  absl::Status result;
  db_->RunAsync(
      TxMode::kWrite, WriteQueue{},
      [](Transaction& txn) { return txn.Exec("INSERT INTO t (id, n) VALUES ('one', 1)"); },
      [&](absl::Status status) {
        result = std::move(status);
        answered.Notify();
      });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_OK(result);
  EXPECT_EQ(*Count(), 1);
}

// A transaction of Begin(kWrite) that finds a combined writer waiting hands its open batch on; the
// leader commits both, and the first Commit() returns once that batch is durable.
TEST_F(SqliteDatabaseTest, ABatchOpenedByBeginIsCommittedByTheNextLeader) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> txn, db_->Begin(TxMode::kWrite));
  ASSERT_OK(txn->Exec("INSERT INTO t (id, n) VALUES ('begun', 1)"));
  std::thread writer([&] {
    EXPECT_OK(db_->Run(TxMode::kWrite, [](Transaction& t) {
      return t.Exec("INSERT INTO t (id, n) VALUES ('run', 2)");
    }));
  });
  absl::SleepFor(absl::Milliseconds(200));  // the writer waits for the write lock
  EXPECT_OK(txn->Commit());
  writer.join();
  txn.reset();
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
  EXPECT_EQ(*Count(), 2);
}

// kill -9 in the middle of group commits loses no acknowledged write: a child process writes from
// many threads and reports each id once its Commit() returned OK; the parent kills it mid-stream
// and finds every reported id in the file.
TEST(SqliteKillTest, AcknowledgedGroupCommitsSurviveKill9) {
  const std::string path = TempDbPath();
  {
    ASSERT_OK_AND_ASSIGN(auto db, OpenSqliteDatabase(path));
    ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
      return txn.ExecScript("CREATE TABLE t (id TEXT PRIMARY KEY);");
    }));
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(path);
    if (!db.ok()) ::_exit(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 12; ++i) {
      threads.emplace_back([&, i] {
        for (int k = 0;; ++k) {
          const std::string id = absl::StrCat(i, "-", k);
          if ((*db)
                  ->Run(TxMode::kWrite,
                        [&](Transaction& txn) {
                          return txn.Exec("INSERT INTO t (id) VALUES (?)", {id});
                        })
                  .ok()) {
            const std::string line = id + "\n";  // one write: atomic on a pipe
            if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(3);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string acknowledged;
  char buffer[4096];
  // Read until a few hundred commits were acknowledged, then kill without warning.
  while (std::count(acknowledged.begin(), acknowledged.end(), '\n') < 400) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    ASSERT_GT(n, 0) << "writer process ended early";
    acknowledged.append(buffer, static_cast<size_t>(n));
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    acknowledged.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  ASSERT_OK_AND_ASSIGN(auto db, OpenSqliteDatabase(path));
  std::vector<std::string> ids = absl::StrSplit(acknowledged, '\n', absl::SkipEmpty());
  ASSERT_GE(ids.size(), 400u);
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM t WHERE id = ?", {id}));
      EXPECT_EQ(rows.at(0).Int(0), 1) << "acknowledged " << id << " is missing";
    }
    return absl::OkStatus();
  }));
}

// A write transaction runs as a savepoint of the group-commit batch, so SQLite keeps a
// sub-journal of every existing page it changes. With the spill threshold at 8 MiB, a sub-journal
// passing it was written to its temporary file in one 8 MiB write, which SQLite's unix VFS cuts to
// 128 KiB pieces by masking (8 MiB & 0x1ffff = 0 bytes): the write "succeeded" with nothing
// written and the transaction failed SQLITE_FULL with the disk empty (the benchmark's bulk load
// of a 100-clinic year).
TEST_F(SqliteDatabaseTest, TransactionRewritingMoreThanEightMiBOfPagesCommits) {
  const std::string blob(3000, 'x');
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (int i = 0; i < 4000; ++i) {
      RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n, b) VALUES (?, ?, ?)",
                               {absl::StrCat("row", i), int64_t{i}, Blob{blob}}));
    }
    return absl::OkStatus();
  }));
  // About 12 MB of existing pages changed in one transaction.
  const std::string other(3000, 'y');
  EXPECT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("UPDATE t SET b = ?", {Blob{other}});
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM t WHERE b = ?", {Blob{other}}));
    EXPECT_EQ(rows.at(0).Int(0), 4000);
    return absl::OkStatus();
  }));
}

TEST_F(SqliteDatabaseTest, CommittedDataSurvivesReopen) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('kept', 7)");
  }));
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_));
  EXPECT_EQ(*Count(), 1);
}

// The writer runs with synchronous=NORMAL (its commits are synced after the write lock); SQLite's
// automatic checkpoint must still copy the log into the database and start it over, so that under
// a sustained write load the log stays near checkpoint_pages (1,000 here: 4 MB). A passive
// checkpoint on a thread of its own, tried first, never caught up with the writer: this log then
// reached 80 MB.
TEST_F(SqliteDatabaseTest, TheLogStaysShortUnderSustainedWrites) {
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, OpenSqliteDatabase(path_, SqliteOptions{.checkpoint_pages = 1000}));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2500;
  const std::string payload(600, 'p');
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kPerThread; ++k) {
        absl::Status s = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
          return txn.Exec("INSERT INTO t (id, n, b) VALUES (?, 0, ?)",
                          {absl::StrCat(i, "-", k), Blob{payload}});
        });
        if (!s.ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(*Count(), kThreads * kPerThread);
  // 20,000 rows of 600 bytes is about 12 MB of table and index pages, each written to the log
  // at least once: far past 1,000 frames. The log's file keeps its high-water mark.
  struct stat wal {};
  ASSERT_EQ(::stat((path_ + "-wal").c_str(), &wal), 0);
  EXPECT_LT(wal.st_size, 16 << 20) << "the log grew as if nobody checkpointed it";
  EXPECT_GT(wal.st_size, 0);
}

// The page size applies to a database being created; an existing file keeps its own (SQLite
// cannot change it in WAL mode), so reopening with another option changes nothing.
TEST(SqlitePageSizeTest, ANewDatabaseTakesThePageSizeAnExistingOneKeepsItsOwn) {
  const std::string path = TempDbPath();
  const auto page_size = [](Database& db) -> absl::StatusOr<int64_t> {
    int64_t size = 0;
    RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("PRAGMA page_size"));
      size = rows.at(0).Int(0);
      return absl::OkStatus();
    }));
    return size;
  };
  {
    ASSERT_OK_AND_ASSIGN(auto db,
                         OpenSqliteDatabase(path, SqliteOptions{.page_size = kWriteHeavyPageSize}));
    ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
      return txn.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
    }));
    ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
      return txn.Exec("INSERT INTO t (b) VALUES (?)", {Blob{std::string(3000, 'x')}});
    }));
    EXPECT_THAT(page_size(*db), IsOkAndHolds(1024));
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenSqliteDatabase(path, SqliteOptions{.page_size = 8192}));
  EXPECT_THAT(page_size(*reopened), IsOkAndHolds(1024));
  ASSERT_OK(reopened->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT length(b) FROM t"));
    EXPECT_EQ(rows.at(0).Int(0), 3000);  // a row longer than a page, kept across overflow pages
    return absl::OkStatus();
  }));

  const std::string fresh = TempDbPath();
  ASSERT_OK_AND_ASSIGN(auto defaulted, OpenSqliteDatabase(fresh));
  EXPECT_THAT(page_size(*defaulted), IsOkAndHolds(4096));
}

TEST(SqliteOpenTest, RejectsAPageSizeSqliteWouldIgnore) {
  for (int size : {0, 256, 1000, 131072}) {
    EXPECT_THAT(OpenSqliteDatabase(TempDbPath(), SqliteOptions{.page_size = size}),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("page_size")))
        << size;
  }
}

TEST(SqliteOpenTest, RejectsMemoryAndUnwritablePaths) {
  EXPECT_THAT(OpenSqliteDatabase(":memory:"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenSqliteDatabase("/nonexistent-dir/x/y.sqlite"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace smp
