// The Database contract on both backends (what the stores rely on), and what only the PostgreSQL
// backend has: its pool, timeouts, prepared statements, collation check and the --database flag.

#include "common/db/postgres_database.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/db/database.h"
#include "common/db/service_database.h"
#include "common/db/testing/postgres_server.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::Backend;
using ::smp::testing::BackendName;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

// ---------------------------------------------------------------- the SQL translation

TEST(PostgresSqlTest, PlaceholdersAreNumberedOutsideQuotesAndComments) {
  int n = 0;
  EXPECT_EQ(postgres_sql::NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)", &n),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(postgres_sql::NumberPlaceholders(
                "SELECT '?', 'it''s ?', \"odd?name\" -- why?\nFROM t /* ? */ WHERE x = ?", &n),
            "SELECT '?', 'it''s ?', \"odd?name\" -- why?\nFROM t /* ? */ WHERE x = $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(postgres_sql::NumberPlaceholders("SELECT 1", &n), "SELECT 1");
  EXPECT_EQ(n, 0);
}

TEST(PostgresSqlTest, SchemaTypesBecomePostgresTypesOnlyOutsideQuotes) {
  EXPECT_EQ(postgres_sql::TranslateSchema("CREATE TABLE t (a INTEGER PRIMARY KEY, b blob, "
                                          "c TEXT DEFAULT 'INTEGER', integers INTEGER) -- BLOB"),
            "CREATE TABLE t (a BIGINT PRIMARY KEY, b BYTEA, "
            "c TEXT DEFAULT 'INTEGER', integers BIGINT) -- BLOB");
  // SQLite's storage clause goes; the same words in a string or a name stay.
  EXPECT_EQ(postgres_sql::TranslateSchema("CREATE TABLE t (k TEXT PRIMARY KEY) WITHOUT\n ROWID;\n"
                                          "INSERT INTO t VALUES ('WITHOUT ROWID');"
                                          "CREATE TABLE without (rowid_of INTEGER) without rowid;"),
            "CREATE TABLE t (k TEXT PRIMARY KEY) ;\n"
            "INSERT INTO t VALUES ('WITHOUT ROWID');"
            "CREATE TABLE without (rowid_of BIGINT) ;");
}

// ---------------------------------------------------------------- the contract, both backends

class DatabaseContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(where_, testing::NewTestDatabase(GetParam()));
    ASSERT_OK_AND_ASSIGN(db_, testing::Open(where_));
    ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
      return txn.ExecScript(
          "CREATE TABLE parents (id TEXT PRIMARY KEY);"
          "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0), b BLOB, "
          "  parent TEXT REFERENCES parents (id));");
    }));
  }

  int64_t ReadN(Database& db, const std::string& id) {
    int64_t n = -1;
    EXPECT_OK(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM t WHERE id = ?", {id}));
      if (!rows.empty()) n = rows[0].Int(0);
      return absl::OkStatus();
    }));
    return n;
  }

  testing::TestDatabase where_;
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseContractTest,
                         ::testing::ValuesIn(testing::AllBackends()), BackendName);

TEST_P(DatabaseContractTest, ValuesOfEveryTypeRoundTrip) {
  const std::string bytes("\0\x01\xff\\x41'", 6);
  const std::string text = "O'Brien ? \xc3\xa9 \\n";
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n, b) VALUES (?, ?, ?)",
                    {text, int64_t{9007199254740993}, Blob{bytes}});
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT id, n, b, NULL, COUNT(*) OVER (), '?' FROM t "
                                          "WHERE id = ? AND n > ?",
                                          {text, int64_t{-1}}));
    EXPECT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Text(0), text);
    EXPECT_EQ(rows[0].Int(1), 9007199254740993);
    EXPECT_EQ(rows[0].Text(2), bytes);
    EXPECT_TRUE(rows[0].IsNull(3));
    EXPECT_EQ(rows[0].Int(4), 1);
    EXPECT_EQ(rows[0].Text(5), "?");
    ASSIGN_OR_RETURN(auto sums, txn.Query("SELECT COALESCE(SUM(n), 0), -SUM(n), MAX(n) FROM t"));
    EXPECT_EQ(sums[0].Int(0), 9007199254740993);
    EXPECT_EQ(sums[0].Int(1), -9007199254740993);
    EXPECT_EQ(sums[0].Int(2), 9007199254740993);
    return absl::OkStatus();
  }));
}

TEST_P(DatabaseContractTest, ConstraintsMapAsOnSqlite) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('a', 1)");
  }));
  auto insert = [&](const char* sql) {
    return db_->Run(TxMode::kWrite, [&](Transaction& txn) { return txn.Exec(sql); });
  };
  EXPECT_THAT(insert("INSERT INTO t (id, n) VALUES ('a', 2)"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(insert("INSERT INTO t (id, n) VALUES ('b', -1)"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(insert("INSERT INTO t (id, n, parent) VALUES ('c', 1, 'nobody')"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(insert("INSERT INTO t (id) VALUES ('d')"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(insert("SELEKT 1"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(db_->Run(TxMode::kWrite,
                       [](Transaction& txn) { return txn.Exec("SELECT ?, ?", {int64_t{1}}); }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("takes 2 parameters, got 1")));
  EXPECT_EQ(ReadN(*db_, "a"), 1);
}

// Stores answer a unique violation by reading who holds the key, in the same transaction (the
// booking's occupancy check does): the failed statement must leave the transaction usable.
TEST_P(DatabaseContractTest, FailedStatementLeavesTheTransactionUsable) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('held', 7)");
  }));
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES ('mine', 1)"));
    EXPECT_THAT(txn.Exec("INSERT INTO t (id, n) VALUES ('held', 8)"),
                StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_THAT(txn.Exec("UPDATE t SET n = -5 WHERE id = 'mine'"),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    // The same statement failing twice, then succeeding (PostgreSQL: its prepared form outlives
    // the savepoint's rollback).
    for (const char* id : {"held", "held", "third"}) {
      absl::Status inserted = txn.Exec("INSERT INTO t (id, n) VALUES (?, 0)", {std::string(id)});
      if (std::string(id) == "held") {
        EXPECT_THAT(inserted, StatusIs(absl::StatusCode::kAlreadyExists));
      } else {
        EXPECT_OK(inserted);
      }
    }
    ASSIGN_OR_RETURN(auto holder, txn.Query("SELECT n FROM t WHERE id = 'held'"));
    EXPECT_EQ(holder.at(0).Int(0), 7);
    ASSIGN_OR_RETURN(int64_t changed, txn.ExecCount("UPDATE t SET n = n + 1 WHERE n >= 0"));
    EXPECT_EQ(changed, 3);
    return absl::OkStatus();
  }));
  EXPECT_EQ(ReadN(*db_, "mine"), 2);  // the statements before and after the failures committed
  EXPECT_EQ(ReadN(*db_, "held"), 8);
}

TEST_P(DatabaseContractTest, UncommittedTransactionRollsBack) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, db_->Begin(TxMode::kWrite));
    ASSERT_OK(txn->Exec("INSERT INTO t (id, n) VALUES ('x', 1)"));
  }
  EXPECT_THAT(db_->Run(TxMode::kWrite,
                       [](Transaction& txn) -> absl::Status {
                         RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES ('y', 1)"));
                         return absl::FailedPreconditionError("domain rule");
                       }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReadN(*db_, "x"), -1);
  EXPECT_EQ(ReadN(*db_, "y"), -1);
}

TEST_P(DatabaseContractTest, ReadTransactionSeesOneSnapshot) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('a', 1)");
  }));
  ASSERT_OK_AND_ASSIGN(auto reader, db_->Begin(TxMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto before, reader->Query("SELECT n FROM t WHERE id = 'a'"));
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("UPDATE t SET n = 2 WHERE id = 'a'");
  }));
  ASSERT_OK_AND_ASSIGN(auto after, reader->Query("SELECT n FROM t WHERE id = 'a'"));
  EXPECT_EQ(before.at(0).Int(0), 1);
  EXPECT_EQ(after.at(0).Int(0), 1);
  ASSERT_OK(reader->Commit());
  EXPECT_EQ(ReadN(*db_, "a"), 2);
}

// Read, decide, write: no update is lost with many writers on one row, from one process or from
// two (two replicas of a service on one database). On PostgreSQL this is SERIALIZABLE plus the
// bounded retry of serialization failures; on SQLite, writers taking turns.
TEST_P(DatabaseContractTest, ConcurrentReadModifyWriteLosesNoUpdateAcrossReplicas) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> replica, testing::Open(where_));
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('counter', 0)");
  }));
  constexpr int kThreads = 6, kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    Database* db = i % 2 == 0 ? db_.get() : replica.get();
    threads.emplace_back([&failures, db] {
      for (int k = 0; k < kPerThread; ++k) {
        absl::Status s = db->Run(TxMode::kWrite, [](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM t WHERE id = 'counter'"));
          return txn.Exec("UPDATE t SET n = ? WHERE id = 'counter'", {rows.at(0).Int(0) + 1});
        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadN(*db_, "counter"), kThreads * kPerThread);
}

// Writers that name the hot row they advance (WriteQueue) take turns: on PostgreSQL each one's
// snapshot is taken after the previous one committed, so none of them loses a race and runs again
// (without the queue, these writers collide and retry, and under enough load some exhaust
// kMaxTransactionAttempts: the bench's ABORTED bookings). SQLite's writers take turns anyway.
TEST_P(DatabaseContractTest, QueuedWritersOfOneCounterAllCommitWithoutRetries) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> replica, testing::Open(where_));
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO t (id, n) VALUES ('counter', 0)");
  }));
  constexpr int kThreads = 8, kPerThread = 25;
  const WriteQueue queue{"test.counter:clinic-1"};
  std::atomic<int> runs{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    Database* db = i % 2 == 0 ? db_.get() : replica.get();
    threads.emplace_back([&, db] {
      for (int k = 0; k < kPerThread; ++k) {
        absl::Status s = db->Run(TxMode::kWrite, queue, [&](Transaction& txn) -> absl::Status {
          ++runs;
          ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM t WHERE id = 'counter'"));
          return txn.Exec("UPDATE t SET n = ? WHERE id = 'counter'", {rows.at(0).Int(0) + 1});
        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadN(*db_, "counter"), kThreads * kPerThread);
  EXPECT_EQ(runs.load(), kThreads * kPerThread) << "a queued writer ran again (lost a race)";
}

TEST_P(DatabaseContractTest, SerializationConflictsAreRetriedABoundedNumberOfTimes) {
  int runs = 0;
  absl::Status status = db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ++runs;
    RETURN_IF_ERROR(txn.Exec("INSERT INTO t (id, n) VALUES (?, 1)", {absl::StrCat("r", runs)}));
    return SerializationConflictError("lost a race");
  });
  EXPECT_EQ(runs, kMaxTransactionAttempts);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kAborted, HasSubstr("lost a race")));
  EXPECT_FALSE(IsSerializationConflict(status)) << "the marker stays inside";
  EXPECT_EQ(ReadN(*db_, "r1"), -1);

  runs = 0;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    if (++runs < 3) return SerializationConflictError("lost a race");
    return txn.Exec("INSERT INTO t (id, n) VALUES ('third', 3)");
  }));
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(ReadN(*db_, "third"), 3);
}

// ---------------------------------------------------------------- PostgreSQL only

class PostgresDatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(where_, testing::NewTestDatabase(Backend::kPostgresql));
  }
  testing::PostgresServer& server() { return testing::SharedPostgresServer(); }
  testing::TestDatabase where_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PostgresDatabaseTest, ::testing::Values(Backend::kPostgresql),
                         BackendName);

// Two transactions that each read what the other writes cannot both commit under SERIALIZABLE:
// the loser is a serialization conflict, which Database::Run would run again.
TEST_P(PostgresDatabaseTest, WriteSkewIsASerializationConflict) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(where_.postgres));
  ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.ExecScript(
        "CREATE TABLE on_call (doctor TEXT PRIMARY KEY, on_call INTEGER);"
        "INSERT INTO on_call VALUES ('a', 1), ('b', 1);");
  }));
  ASSERT_OK_AND_ASSIGN(auto t1, db->Begin(TxMode::kWrite));
  ASSERT_OK_AND_ASSIGN(auto t2, db->Begin(TxMode::kWrite));
  ASSERT_OK(t1->Query("SELECT COUNT(*) FROM on_call WHERE on_call = 1").status());
  ASSERT_OK(t2->Query("SELECT COUNT(*) FROM on_call WHERE on_call = 1").status());
  ASSERT_OK(t1->Exec("UPDATE on_call SET on_call = 0 WHERE doctor = 'a'"));
  absl::Status second = t2->Exec("UPDATE on_call SET on_call = 0 WHERE doctor = 'b'");
  absl::Status first = t1->Commit();
  if (second.ok()) second = t2->Commit();
  EXPECT_OK(first);
  EXPECT_TRUE(IsSerializationConflict(second)) << second;
}

// How many advisory locks sessions hold in the test's database (seen from another session).
int64_t AdvisoryLocksHeld(Database& db) {
  int64_t held = -1;
  EXPECT_OK(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM pg_locks WHERE locktype = "
                                          "'advisory' AND granted AND database = (SELECT oid "
                                          "FROM pg_database WHERE datname = current_database())"));
    held = rows.at(0).Int(0);
    return absl::OkStatus();
  }));
  return held;
}

// The write queue's lock is held for exactly the transaction: taken before it begins, and given
// back however it ends (commit, an error in fn, a conflict, a failed commit, no commit at all),
// so the connection goes back to the pool holding nothing.
TEST_P(PostgresDatabaseTest, WriteQueueLockIsReleasedHoweverTheTransactionEnds) {
  PostgresOptions options = where_.postgres;
  options.max_connections = 1;  // every transaction reuses the one connection
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(options));
  ASSERT_OK_AND_ASSIGN(auto observer, OpenPostgresDatabase(where_.postgres));
  ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.ExecScript(
        "CREATE TABLE heads (id TEXT PRIMARY KEY, n INTEGER NOT NULL);"
        "INSERT INTO heads VALUES ('a', 0), ('b', 0);");
  }));
  const WriteQueue queue{"test.head:a"};

  {
    ASSERT_OK_AND_ASSIGN(auto open, db->BeginQueued(TxMode::kWrite, queue));
    EXPECT_EQ(AdvisoryLocksHeld(*observer), 1) << "held while the transaction is open";
  }  // destroyed without commit: rolled back
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0);

  EXPECT_OK(db->Run(TxMode::kWrite, queue, [](Transaction& txn) {
    return txn.Exec("UPDATE heads SET n = n + 1 WHERE id = 'a'");
  }));
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0) << "after a commit";

  EXPECT_THAT(db->Run(TxMode::kWrite, queue,
                      [](Transaction& txn) -> absl::Status {
                        RETURN_IF_ERROR(txn.Exec("UPDATE heads SET n = n + 1 WHERE id = 'a'"));
                        return absl::FailedPreconditionError("a domain rule");
                      }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0) << "after an error in fn";

  EXPECT_THAT(
      db->Run(TxMode::kWrite, queue,
              [](Transaction& txn) -> absl::Status { return txn.Query("SELEKT 1").status(); }),
      StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0) << "after a failed statement";

  int runs = 0;
  EXPECT_THAT(db->Run(TxMode::kWrite, queue,
                      [&](Transaction&) -> absl::Status {
                        ++runs;
                        return SerializationConflictError("lost a race");
                      }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(runs, kMaxTransactionAttempts);
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0) << "after retries ran out";

  // A COMMIT that fails: write skew with a transaction of another key (queues do not exclude
  // each other), so the later commit is a serialization failure.
  {
    ASSERT_OK_AND_ASSIGN(auto mine, db->BeginQueued(TxMode::kWrite, queue));
    ASSERT_OK_AND_ASSIGN(auto other, observer->BeginQueued(TxMode::kWrite, {"test.head:b"}));
    ASSERT_OK(mine->Query("SELECT SUM(n) FROM heads").status());
    ASSERT_OK(other->Query("SELECT SUM(n) FROM heads").status());
    ASSERT_OK(mine->Exec("UPDATE heads SET n = n + 1 WHERE id = 'a'"));
    ASSERT_OK(other->Exec("UPDATE heads SET n = n + 1 WHERE id = 'b'"));
    ASSERT_OK(other->Commit());
    EXPECT_TRUE(IsSerializationConflict(mine->Commit()));
  }
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0) << "after a failed commit";

  // And the one pooled connection is still usable, with the queue too.
  EXPECT_OK(db->Run(TxMode::kWrite, queue, [](Transaction& txn) {
    return txn.Exec("UPDATE heads SET n = n + 1 WHERE id = 'a'");
  }));
  EXPECT_EQ(AdvisoryLocksHeld(*observer), 0);
}

// A writer waits for the one ahead of it in its queue (only), sees what that one committed, and
// gives up after the statement timeout rather than waiting for ever.
TEST_P(PostgresDatabaseTest, QueuedWriterWaitsForTheOneAheadAndTheWaitIsBounded) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(where_.postgres));
  PostgresOptions impatient_options = where_.postgres;
  impatient_options.statement_timeout = absl::Milliseconds(300);
  ASSERT_OK_AND_ASSIGN(auto impatient, OpenPostgresDatabase(impatient_options));
  ASSERT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.ExecScript(
        "CREATE TABLE heads (id TEXT PRIMARY KEY, n INTEGER NOT NULL);"
        "INSERT INTO heads VALUES ('a', 0);");
  }));
  const WriteQueue queue{"test.head:a"};
  ASSERT_OK_AND_ASSIGN(auto ahead, db->BeginQueued(TxMode::kWrite, queue));
  ASSERT_OK(ahead->Exec("UPDATE heads SET n = 1 WHERE id = 'a'"));

  // Another key, and a writer that names none, do not wait.
  EXPECT_OK(impatient->Run(TxMode::kWrite, {"test.head:other"},
                           [](Transaction& txn) { return txn.Query("SELECT 1").status(); }));
  const absl::Time start = absl::Now();
  EXPECT_THAT(impatient->Run(TxMode::kWrite, queue,
                             [](Transaction& txn) { return txn.Query("SELECT 1").status(); }),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("test.head:a")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));

  int runs = 0;
  int64_t seen = -1;
  std::thread behind([&] {
    EXPECT_OK(db->Run(TxMode::kWrite, queue, [&](Transaction& txn) -> absl::Status {
      ++runs;
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT n FROM heads WHERE id = 'a'"));
      seen = rows.at(0).Int(0);
      return txn.Exec("UPDATE heads SET n = ? WHERE id = 'a'", {seen + 1});
    }));
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(runs, 0) << "the writer behind began before the one ahead committed";
  ASSERT_OK(ahead->Commit());
  behind.join();
  EXPECT_EQ(runs, 1) << "its snapshot was taken before the one ahead committed";
  EXPECT_EQ(seen, 1);
  ahead.reset();
  EXPECT_EQ(AdvisoryLocksHeld(*db), 0);
}

TEST_P(PostgresDatabaseTest, PoolIsCappedAndAcquireTimesOut) {
  PostgresOptions options = where_.postgres;
  options.max_connections = 2;
  options.acquire_timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(options));
  ASSERT_OK_AND_ASSIGN(auto a, db->Begin(TxMode::kRead));
  ASSERT_OK_AND_ASSIGN(auto b, db->Begin(TxMode::kWrite));
  const absl::Time start = absl::Now();
  EXPECT_THAT(db->Begin(TxMode::kRead),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("all 2 database connections")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  b.reset();  // a connection comes back
  EXPECT_OK(db->Begin(TxMode::kRead).status());
}

TEST_P(PostgresDatabaseTest, LongStatementIsCancelled) {
  PostgresOptions options = where_.postgres;
  options.statement_timeout = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(options));
  EXPECT_THAT(db->Run(TxMode::kRead,
                      [](Transaction& txn) { return txn.Query("SELECT pg_sleep(5)").status(); }),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_OK(
      db->Run(TxMode::kRead, [](Transaction& txn) { return txn.Query("SELECT 1").status(); }));
}

TEST_P(PostgresDatabaseTest, StatementsArePreparedOncePerConnection) {
  PostgresOptions options = where_.postgres;
  options.max_connections = 1;
  ASSERT_OK_AND_ASSIGN(auto db, OpenPostgresDatabase(options));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(txn.Query("SELECT ? + 1 AS prepared_marker", {int64_t{i}}).status());
      return txn.ExecScript("CREATE TABLE IF NOT EXISTS x (id INTEGER)");
    }));
  }
  ASSERT_OK(db->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM pg_prepared_statements "
                                          "WHERE statement LIKE '%' || 'prepared' || '_marker%'"));
    EXPECT_EQ(rows.at(0).Int(0), 1);
    return absl::OkStatus();
  }));
}

TEST_P(PostgresDatabaseTest, RefusesADatabaseWithAnotherCollationAndABadPassword) {
  ASSERT_OK_AND_ASSIGN(std::string collated, server().CreateDatabase("C.UTF-8"));
  EXPECT_THAT(OpenPostgresDatabase(server().Options(collated)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("LOCALE 'C'")));
  PostgresOptions bad = where_.postgres;
  bad.password = "wrong";
  EXPECT_THAT(OpenPostgresDatabase(bad),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("password")));
  PostgresOptions nowhere = where_.postgres;
  nowhere.conninfo = "host=127.0.0.1 port=1 user=smp dbname=x";
  EXPECT_THAT(OpenPostgresDatabase(nowhere), StatusIs(absl::StatusCode::kUnavailable));
}

// --database picks the backend; the password comes only from a private file.
TEST_P(PostgresDatabaseTest, DatabaseFlagOpensPostgresqlWithThePasswordFromAFile) {
  char dir_pattern[] = "/tmp/smp-dbflag-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_pattern), nullptr);
  const std::string dir = dir_pattern;
  const std::string password_file = dir + "/db.password";
  {
    std::ofstream out(password_file);
    out << server().password() << "\n";
  }
  ASSERT_EQ(::chmod(password_file.c_str(), 0600), 0);
  const std::string database = where_.postgres.conninfo.substr(
      where_.postgres.conninfo.find("dbname=") + std::string("dbname=").size());
  const std::string url =
      absl::StrCat("postgresql://smp@127.0.0.1:", server().port(), "/", database);
  const std::vector<Migration> migrations = {
      {1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)"}};

  ASSERT_OK_AND_ASSIGN(auto db,
                       OpenChosenDatabase({url, password_file}, dir + "/data", "svc", migrations));
  EXPECT_EQ(db->dialect(), SqlDialect::kPostgresql);
  EXPECT_EQ(*SchemaVersion(*db), 1);
  EXPECT_OK(db->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO notes (id, body) VALUES (?, ?)", {int64_t{5000000000}, Blob{"x"}});
  }));
  db.reset();
  struct stat st;
  EXPECT_EQ(::stat((dir + "/data/svc.sqlite").c_str(), &st), -1) << "no SQLite file is made";

  EXPECT_THAT(
      OpenChosenDatabase(
          {absl::StrCat("postgresql://smp:secret@127.0.0.1:", server().port(), "/", database), ""},
          dir + "/data", "svc", migrations),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--database_password_file")));
  EXPECT_THAT(OpenChosenDatabase({url + "?password=secret", ""}, dir + "/data", "svc", migrations),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenChosenDatabase({"mysql://x", ""}, dir + "/data", "svc", migrations),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--database")));
  EXPECT_THAT(OpenChosenDatabase({"sqlite:", password_file}, dir + "/data", "svc", migrations),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--database_password_file")));
  ASSERT_EQ(::chmod(password_file.c_str(), 0644), 0);
  EXPECT_THAT(OpenChosenDatabase({url, password_file}, dir + "/data", "svc", migrations),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  // SQLite stays the default.
  ASSERT_OK_AND_ASSIGN(auto sqlite,
                       OpenChosenDatabase({"sqlite:", ""}, dir + "/data", "svc", migrations));
  EXPECT_EQ(sqlite->dialect(), SqlDialect::kSqlite);
  EXPECT_EQ(::stat((dir + "/data/svc.sqlite").c_str(), &st), 0);
}

}  // namespace
}  // namespace smp
