#include "common/db/sqlite_gather_vfs.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

// A raw SQLite connection opened through the gathering VFS, in WAL mode with the writer's
// settings (synchronous=NORMAL, as the SQLite backend's writer runs).
class Connection {
 public:
  explicit Connection(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              GatherVfsName()),
              SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  }
  ~Connection() { sqlite3_close(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }

  // The first column of the first row of `sql`, as text ("" when there is no row).
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  int64_t Int(const std::string& sql) {
    const std::string text = Text(sql);
    return text.empty() ? -1 : std::stoll(text);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string TempDbPath() { return ::testing::TempDir() + "/smp_gather_" + NewId() + ".sqlite"; }

// Inserts `rows` rows of about 3 KiB each (one page per row) in one transaction.
std::string InsertRows(int first, int rows) {
  return absl::StrCat("BEGIN; WITH RECURSIVE k(i) AS (SELECT ", first, " UNION ALL SELECT i + 1",
                      " FROM k WHERE i < ", first + rows - 1,
                      ") INSERT INTO t SELECT i, randomblob(3000) FROM k; COMMIT;");
}

TEST(GatherVfsTest, IsRegisteredBesideTheDefault) {
  ASSERT_NE(GatherVfsName(), nullptr);
  EXPECT_NE(sqlite3_vfs_find(GatherVfsName()), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(GatherVfsName()));
}

// Twenty pages change; SQLite writes each frame's header and page separately (forty-odd writes),
// the VFS hands the log one.
TEST(GatherVfsTest, ACommitWritesItsLogFramesOnce) {
  const std::string path = TempDbPath();
  Connection db(path);
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  const int64_t before = GatherVfsLogWrites();
  db.Exec(InsertRows(1, 20));
  EXPECT_EQ(GatherVfsLogWrites() - before, 1);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM t"), 20);
}

// Another connection (another process, as far as SQLite knows) sees each commit whole once it
// returned, reading the frames from the file.
TEST(GatherVfsTest, AnotherConnectionReadsEveryCommittedFrame) {
  const std::string path = TempDbPath();
  Connection writer(path);
  writer.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  Connection reader(path);
  for (int batch = 0; batch < 5; ++batch) {
    writer.Exec(InsertRows(batch * 10 + 1, 10));
    EXPECT_EQ(reader.Int("SELECT COUNT(*) FROM t WHERE length(b) = 3000"), (batch + 1) * 10);
  }
}

// A transaction larger than the page cache spills frames before its commit, and one larger than
// a single write is written in several: either way it commits whole and survives a reopen and a
// checkpoint into the database file.
TEST(GatherVfsTest, ATransactionLargerThanOneWriteCommitsWhole) {
  const std::string path = TempDbPath();
  {
    Connection db(path);
    db.Exec("PRAGMA cache_size=10; CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
    const int64_t before = GatherVfsLogWrites();
    db.Exec(InsertRows(1, 2000));  // about 6 MiB of frames
    EXPECT_GT(GatherVfsLogWrites() - before, 1);
    db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  Connection db(path);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM t WHERE length(b) = 3000"), 2000);
  EXPECT_EQ(db.Int("SELECT SUM(id) FROM t"), 2000 * 2001 / 2);
  EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
}

// Frames of a transaction that rolls back (some already written when the cache spilled) are
// never part of the database.
TEST(GatherVfsTest, ARolledBackTransactionLeavesNothing) {
  const std::string path = TempDbPath();
  Connection db(path);
  db.Exec("PRAGMA cache_size=10; CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  db.Exec(InsertRows(1, 5));
  db.Exec(
      "BEGIN; WITH RECURSIVE k(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM k WHERE i < 600) "
      "INSERT INTO t SELECT i, randomblob(3000) FROM k; ROLLBACK;");
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM t"), 5);
  Connection reopened(path);
  EXPECT_EQ(reopened.Int("SELECT COUNT(*) FROM t"), 5);
}

}  // namespace
}  // namespace smp
