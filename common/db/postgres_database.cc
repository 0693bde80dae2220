// The PostgreSQL backend of Database (see postgres_database.h for the contract).
//
// Wire formats: integers go as text with type int8, strings and blobs in binary format (their
// bytes as they are; a string's type is left to the server to infer from the column, a blob is
// bytea). Results come back as text and are decoded by column type: integers (and integral
// numerics, e.g. SUM of a BIGINT) as int64, booleans as 0/1, bytea as Blob, everything else as
// a string; that is what the SQLite backend hands the stores for the same columns.

#include "common/db/postgres_database.h"

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/util/check.h"

namespace smp {
namespace postgres_sql {
namespace {

// Calls `code(text)` for each stretch of `sql` outside quotes and comments and `verbatim(text)`
// for the rest, in order.
template <typename Code, typename Verbatim>
void Scan(absl::string_view sql, Code code, Verbatim verbatim) {
  size_t i = 0;
  size_t start = 0;
  auto flush_code = [&](size_t end) {
    if (end > start) code(sql.substr(start, end - start));
    start = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    size_t end = std::string::npos;
    if (c == '\'' || c == '"') {
      end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;  // a doubled quote inside
            continue;
          }
          ++end;
          break;
        }
        ++end;
      }
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      end = sql.find('\n', i);
      end = end == std::string::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      end = sql.find("*/", i + 2);
      end = end == std::string::npos ? sql.size() : end + 2;
    }
    if (end == std::string::npos) {
      ++i;
      continue;
    }
    end = std::min(end, sql.size());
    flush_code(i);
    verbatim(sql.substr(i, end - i));
    i = start = end;
  }
  flush_code(sql.size());
}

bool IsWordChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// The first keyword of a statement, upper case ("" if none).
std::string FirstKeyword(absl::string_view sql) {
  std::string keyword;
  bool done = false;
  Scan(
      sql,
      [&](absl::string_view text) {
        for (size_t i = 0; i < text.size() && !done; ++i) {
          if (IsWordChar(text[i])) {
            keyword.push_back(absl::ascii_toupper(text[i]));
          } else if (!keyword.empty() || !absl::ascii_isspace(text[i])) {
            done = true;
          }
        }
        if (!keyword.empty()) done = true;
      },
      [&](absl::string_view) {
        if (!keyword.empty()) done = true;
      });
  return keyword;
}

}  // namespace

std::string NumberPlaceholders(absl::string_view sql, int* placeholders) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  Scan(
      sql,
      [&](absl::string_view text) {
        for (char c : text) {
          if (c == '?') {
            absl::StrAppend(&out, "$", ++n);
          } else {
            out.push_back(c);
          }
        }
      },
      [&](absl::string_view text) { out.append(text.data(), text.size()); });
  *placeholders = n;
  return out;
}

// After "WITHOUT" at `from`: where the word ROWID that follows it ends, or 0 when another word or
// nothing follows.
size_t RowidFollows(absl::string_view text, size_t from) {
  size_t i = from;
  while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t end = i;
  while (end < text.size() && IsWordChar(text[end])) ++end;
  return absl::EqualsIgnoreCase(text.substr(i, end - i), "ROWID") ? end : 0;
}

std::string TranslateSchema(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  Scan(
      sql,
      [&](absl::string_view text) {
        size_t i = 0;
        while (i < text.size()) {
          if (!IsWordChar(text[i])) {
            out.push_back(text[i++]);
            continue;
          }
          size_t end = i;
          while (end < text.size() && IsWordChar(text[end])) ++end;
          const absl::string_view word = text.substr(i, end - i);
          const size_t rowid_end =
              absl::EqualsIgnoreCase(word, "WITHOUT") ? RowidFollows(text, end) : 0;
          if (absl::EqualsIgnoreCase(word, "INTEGER")) {
            out.append("BIGINT");
          } else if (absl::EqualsIgnoreCase(word, "BLOB")) {
            out.append("BYTEA");
          } else if (rowid_end != 0) {
            end = rowid_end;  // WITHOUT ROWID: a storage choice of SQLite's; PostgreSQL has none
          } else {
            out.append(word.data(), word.size());
          }
          i = end;
        }
      },
      [&](absl::string_view text) { out.append(text.data(), text.size()); });
  return out;
}

}  // namespace postgres_sql

namespace {

using postgres_sql::FirstKeyword;

// Type OIDs of pg_type (stable since forever; libpq does not export them).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trimmed(const char* text) {
  return std::string(absl::StripTrailingAsciiWhitespace(text == nullptr ? "" : text));
}

// The SQLite backend's mapping, by SQLSTATE class
// (https://www.postgresql.org/docs/15/errcodes-appendix.html). Only the primary message is kept:
// DETAIL would quote the row's values (patients' data).
absl::Status StatusFromResult(const PGresult* result, PGconn* conn, absl::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string message =
      absl::StrCat(what, ": ", primary ? Trimmed(primary) : Trimmed(PQerrorMessage(conn)));
  if (state == nullptr) return absl::UnavailableError(message);  // no answer from the server
  const absl::string_view code(state);
  if (code == "23505") return absl::AlreadyExistsError(message);
  if (code == "23502") return absl::InternalError(message);  // NOT NULL: a bug of ours
  if (absl::StartsWith(code, "23")) return absl::FailedPreconditionError(message);
  if (code == "40001" || code == "40P01") return SerializationConflictError(message);
  if (code == "57014") return absl::DeadlineExceededError(message);  // statement_timeout
  if (absl::StartsWith(code, "08") || absl::StartsWith(code, "53") ||
      absl::StartsWith(code, "57P") || absl::StartsWith(code, "58") || code == "55P03" ||
      code == "25P03") {
    return absl::UnavailableError(message);  // connection, resources, shutdown, lock timeout
  }
  return absl::InternalError(message);
}

bool ResultOk(const PGresult* result) {
  if (result == nullptr) return false;
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// Parameters in libpq's arrays; the strings they point to live as long as this.
class Params {
 public:
  explicit Params(const std::vector<DbValue>& params) {
    const size_t n = params.size();
    types_.resize(n);
    values_.resize(n);
    lengths_.resize(n);
    formats_.resize(n);
    numbers_.resize(n);
    signature_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const DbValue& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        types_[i] = 0;
        values_[i] = nullptr;
        signature_[i] = 'n';
      } else if (const int64_t* number = std::get_if<int64_t>(&v)) {
        numbers_[i] = std::to_string(*number);
        types_[i] = kInt8Oid;
        values_[i] = numbers_[i].c_str();
        signature_[i] = 'i';
      } else if (const std::string* text = std::get_if<std::string>(&v)) {
        types_[i] = 0;  // the column's type: text, or bytea for a BLOB column
        values_[i] = text->data();
        lengths_[i] = static_cast<int>(text->size());
        formats_[i] = 1;
        signature_[i] = 's';
      } else {
        const std::string& bytes = std::get<Blob>(v).bytes;
        types_[i] = kByteaOid;
        values_[i] = bytes.data();
        lengths_[i] = static_cast<int>(bytes.size());
        formats_[i] = 1;
        signature_[i] = 'b';
      }
    }
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // The parameter types as letters: a statement is prepared once per SQL text and signature.
  const std::string& signature() const { return signature_; }

 private:
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::string> numbers_;
  std::string signature_;
};

DbValue Cell(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::monostate{};
  const char* value = PQgetvalue(result, row, column);
  const int length = PQgetlength(result, row, column);
  switch (PQftype(result, column)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kNumericOid: {
      int64_t number = 0;
      if (absl::SimpleAtoi(absl::string_view(value, length), &number)) return number;
      break;  // a fractional numeric: kept as text
    }
    case kBoolOid:
      return int64_t{value[0] == 't' ? 1 : 0};
    case kByteaOid: {
      size_t size = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(value), &size);
      SMP_CHECK(bytes != nullptr, "out of memory decoding bytea");
      Blob blob{std::string(reinterpret_cast<const char*>(bytes), size)};
      PQfreemem(bytes);
      return blob;
    }
    default:
      break;
  }
  return std::string(value, length);
}

// One open connection and the statements prepared on it.
struct Connection {
  explicit Connection(PGconn* handle) : conn(handle) {}
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Fit for the next transaction: connected, outside any transaction, and holding no write-queue
  // lock that might not have been released.
  bool Reusable() const {
    return !discard && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
  }

  PGconn* conn;
  // Set when a write-queue lock may still be held on this session: closing it releases the lock.
  bool discard = false;
  // Statement name by signature + SQL. Bounded, because some statements are built with a variable
  // number of placeholders; beyond it statements run unnamed (parsed each time).
  absl::flat_hash_map<std::string, std::string> prepared;
  int next_name = 0;
  static constexpr size_t kMaxPrepared = 256;
};

// A statement as it will be sent: numbered placeholders, and its prepared name if it has one.
struct Statement {
  std::string text;
  std::string name;   // "" runs unnamed
  bool must_prepare;  // named, but not yet prepared on this connection
  std::string key;
};

absl::StatusOr<Statement> PrepareStatement(Connection& c, absl::string_view sql,
                                           const Params& params) {
  const std::string keyword = FirstKeyword(sql);
  const bool schema = keyword == "CREATE" || keyword == "ALTER" || keyword == "DROP";
  const bool cacheable = keyword == "SELECT" || keyword == "INSERT" || keyword == "UPDATE" ||
                         keyword == "DELETE" || keyword == "WITH" || keyword == "VALUES";
  Statement s;
  s.key = absl::StrCat(params.signature(), ":", sql);
  auto it = c.prepared.find(s.key);
  if (it != c.prepared.end()) {
    s.name = it->second;
    s.must_prepare = false;
    return s;
  }
  int placeholders = 0;
  s.text = postgres_sql::NumberPlaceholders(schema ? postgres_sql::TranslateSchema(sql) : sql,
                                            &placeholders);
  if (placeholders != params.size()) {
    return absl::InternalError(
        absl::StrCat("statement takes ", placeholders, " parameters, got ", params.size()));
  }
  s.must_prepare = cacheable && c.prepared.size() < Connection::kMaxPrepared;
  if (s.must_prepare) s.name = absl::StrCat("smp_", c.next_name++);
  return s;
}

// One statement, prepared on first use, in one round trip after that.
absl::StatusOr<Result> RunPlain(Connection& c, absl::string_view sql,
                                const std::vector<DbValue>& v) {
  const Params params(v);
  absl::StatusOr<Statement> s = PrepareStatement(c, sql, params);
  if (!s.ok()) return s.status();
  if (s->must_prepare) {
    Result prepared(
        PQprepare(c.conn, s->name.c_str(), s->text.c_str(), params.size(), params.types()));
    if (!ResultOk(prepared.get())) return StatusFromResult(prepared.get(), c.conn, "prepare");
    c.prepared.emplace(s->key, s->name);
  }
  Result result(s->name.empty()
                    ? PQexecParams(c.conn, s->text.c_str(), params.size(), params.types(),
                                   params.values(), params.lengths(), params.formats(), 0)
                    : PQexecPrepared(c.conn, s->name.c_str(), params.size(), params.values(),
                                     params.lengths(), params.formats(), 0));
  if (!ResultOk(result.get())) return StatusFromResult(result.get(), c.conn, "statement");
  return result;
}

// A data change in a write transaction: SAVEPOINT, (PREPARE,) the statement and RELEASE go in one
// pipeline, one round trip. When the statement fails, the savepoint is rolled back so that the
// transaction stays usable, as a failed statement leaves it on SQLite.
absl::StatusOr<Result> RunWithSavepoint(Connection& c, absl::string_view sql,
                                        const std::vector<DbValue>& v) {
  const Params params(v);
  absl::StatusOr<Statement> s = PrepareStatement(c, sql, params);
  if (!s.ok()) return s.status();
  if (PQenterPipelineMode(c.conn) != 1) {
    return absl::UnavailableError(
        absl::StrCat("database connection: ", Trimmed(PQerrorMessage(c.conn))));
  }
  constexpr char kSavepoint[] = "SAVEPOINT smp_statement";
  constexpr char kRelease[] = "RELEASE SAVEPOINT smp_statement";
  bool sent = PQsendQueryParams(c.conn, kSavepoint, 0, nullptr, nullptr, nullptr, nullptr, 0);
  if (sent && s->must_prepare) {
    sent = PQsendPrepare(c.conn, s->name.c_str(), s->text.c_str(), params.size(), params.types());
  }
  if (sent) {
    sent = s->name.empty()
               ? PQsendQueryParams(c.conn, s->text.c_str(), params.size(), params.types(),
                                   params.values(), params.lengths(), params.formats(), 0)
               : PQsendQueryPrepared(c.conn, s->name.c_str(), params.size(), params.values(),
                                     params.lengths(), params.formats(), 0);
  }
  sent = sent && PQsendQueryParams(c.conn, kRelease, 0, nullptr, nullptr, nullptr, nullptr, 0);
  sent = sent && PQpipelineSync(c.conn);
  // Every result up to the sync, in the order sent; each query's results end with a null.
  std::vector<Result> results;
  for (int nulls = 0; sent && nulls < 2;) {
    PGresult* r = PQgetResult(c.conn);
    if (r == nullptr) {
      if (PQstatus(c.conn) == CONNECTION_BAD) break;
      ++nulls;
      continue;
    }
    nulls = 0;
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    results.emplace_back(r);
  }
  (void)PQexitPipelineMode(c.conn);
  const size_t main = s->must_prepare ? 2 : 1;
  if (!sent || results.size() != main + 2) {
    return absl::UnavailableError(
        absl::StrCat("database connection lost: ", Trimmed(PQerrorMessage(c.conn))));
  }
  // A prepared statement outlives a rollback: remember it even when the statement then failed.
  if (s->must_prepare && ResultOk(results[1].get())) c.prepared.emplace(s->key, s->name);
  for (size_t i = 0; i < results.size(); ++i) {
    if (ResultOk(results[i].get())) continue;
    if (PQresultStatus(results[i].get()) == PGRES_PIPELINE_ABORTED) continue;
    absl::Status error = StatusFromResult(results[i].get(), c.conn, "statement");
    if (i > 0 && PQstatus(c.conn) == CONNECTION_OK) {
      Result undone(
          PQexec(c.conn, "ROLLBACK TO SAVEPOINT smp_statement; RELEASE SAVEPOINT smp_statement"));
      (void)undone;  // if even this fails, COMMIT will say the transaction was aborted
    }
    return error;
  }
  return std::move(results[main]);
}

class PostgresDatabase;

class PostgresTransaction final : public Transaction {
 public:
  PostgresTransaction(PostgresDatabase* owner, std::unique_ptr<Connection> connection, TxMode mode)
      : owner_(owner), connection_(std::move(connection)), mode_(mode) {}
  ~PostgresTransaction() override;

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }

  // Waits for the write queue of `key` (WriteQueue): a session-level advisory lock on the key's
  // hash, taken before BEGIN so that the snapshot follows the previous holder's commit. The wait
  // is one statement: statement_timeout bounds it.
  absl::Status Queue(const std::string& key) {
    const char* values[] = {key.c_str()};
    Result result(PQexecParams(connection_->conn,
                               "SELECT pg_advisory_lock(hashtextextended($1::text, 0))", 1, nullptr,
                               values, nullptr, nullptr, 0));
    queued_ = true;  // even a failed wait may have been granted just before it was cancelled
    if (!ResultOk(result.get())) {
      done_ = true;
      absl::Status status = StatusFromResult(result.get(), connection_->conn, "write queue");
      Unqueue();
      if (absl::IsDeadlineExceeded(status)) {
        return absl::DeadlineExceededError(
            absl::StrCat("waited longer than the statement timeout for the writers of ", key,
                         " ahead of this one"));
      }
      return status;
    }
    return absl::OkStatus();
  }

  absl::Status Begin() {
    const char* begin = "BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE";
    if (mode_ == TxMode::kRead) begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    if (mode_ == TxMode::kWriteRowLocks) begin = "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE";
    Result result(PQexec(connection_->conn, begin));
    if (!ResultOk(result.get())) {
      done_ = true;
      return StatusFromResult(result.get(), connection_->conn, "begin");
    }
    return absl::OkStatus();
  }

  // The connection broke before the transaction began (e.g. the server restarted since it was
  // last used): worth one try on a new one.
  bool ConnectionLost() const { return PQstatus(connection_->conn) != CONNECTION_OK; }

  absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params) override {
    return Step(sql, params).status();
  }

  absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                    const std::vector<DbValue>& params) override {
    absl::StatusOr<Result> result = Step(sql, params);
    if (!result.ok()) return result.status();
    int64_t count = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(result->get()), &count)) count = 0;
    return count;
  }

  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<DbValue>& params) override {
    absl::StatusOr<Result> result = Step(sql, params);
    if (!result.ok()) return result.status();
    const PGresult* r = result->get();
    const int rows = PQntuples(r);
    const int columns = PQnfields(r);
    std::vector<Row> out;
    out.reserve(rows);
    for (int i = 0; i < rows; ++i) {
      std::vector<DbValue> values;
      values.reserve(columns);
      for (int c = 0; c < columns; ++c) values.push_back(Cell(r, i, c));
      out.emplace_back(std::move(values));
    }
    return out;
  }

  absl::Status ExecScript(absl::string_view sql) override {
    SMP_CHECK(!done_, "statement after commit");
    const std::string text = postgres_sql::TranslateSchema(sql);
    Result result(PQexec(connection_->conn, text.c_str()));
    if (!ResultOk(result.get())) return StatusFromResult(result.get(), connection_->conn, "script");
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    SMP_CHECK(!done_, "transaction committed twice");
    Result result(PQexec(connection_->conn, "COMMIT"));
    if (!ResultOk(result.get())) {
      // The outcome of a COMMIT whose answer was lost is unknown: UNAVAILABLE, never retried.
      absl::Status status = StatusFromResult(result.get(), connection_->conn, "commit");
      // A COMMIT that failed (e.g. a serialization failure) ended the transaction: the next
      // writer of the queue may go.
      if (PQtransactionStatus(connection_->conn) == PQTRANS_IDLE) done_ = true;
      Unqueue();
      return status;
    }
    done_ = true;
    Unqueue();
    // COMMIT of a transaction that an earlier error aborted answers ROLLBACK.
    if (absl::string_view(PQcmdStatus(result.get())) != "COMMIT") {
      return absl::InternalError("commit: the transaction had failed and was rolled back");
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<Result> Step(absl::string_view sql, const std::vector<DbValue>& params) {
    SMP_CHECK(!done_, "statement after commit");
    if (mode_ != TxMode::kRead) {
      const std::string keyword = FirstKeyword(sql);
      if (keyword == "INSERT" || keyword == "UPDATE" || keyword == "DELETE" || keyword == "WITH") {
        return RunWithSavepoint(*connection_, sql, params);
      }
    }
    return RunPlain(*connection_, sql, params);
  }

  // Releases the write-queue lock, once the transaction has ended; a connection on which that
  // cannot be confirmed is closed instead (which releases it).
  void Unqueue() {
    if (!queued_ || !done_) return;
    queued_ = false;
    if (PQstatus(connection_->conn) != CONNECTION_OK) return;  // gone, and the lock with it
    Result result(PQexec(connection_->conn, "SELECT pg_advisory_unlock_all()"));
    if (!ResultOk(result.get())) connection_->discard = true;
  }

  PostgresDatabase* owner_;
  std::unique_ptr<Connection> connection_;
  const TxMode mode_;
  bool done_ = false;    // committed, rolled back, or never begun
  bool queued_ = false;  // holds (or may hold) a write-queue lock
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(PostgresOptions options) : options_(std::move(options)) {}

  ~PostgresDatabase() override {
    absl::MutexLock lock(&mu_);
    SMP_CHECK(open_ == static_cast<int>(idle_.size()), "database closed with a transaction open");
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }

  // Opens the first connection and checks the collation.
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<Connection>> connection = Connect();
    if (!connection.ok()) return connection.status();
    Result result(PQexec((*connection)->conn,
                         "SELECT datcollate FROM pg_database WHERE datname = current_database()"));
    if (!ResultOk(result.get()))
      return StatusFromResult(result.get(), (*connection)->conn, "check");
    const std::string collation =
        PQntuples(result.get()) == 1 ? PQgetvalue(result.get(), 0, 0) : "";
    if (collation != "C" && collation != "POSIX") {
      return absl::FailedPreconditionError(
          absl::StrCat("database ", PQdb((*connection)->conn), " has collation \"", collation,
                       "\"; the suite needs \"C\" (text keys compare byte by byte): create it with "
                       "CREATE DATABASE ... TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'"));
    }
    absl::MutexLock lock(&mu_);
    idle_.push_back(*std::move(connection));
    ++open_;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    return BeginQueued(mode, WriteQueue{});
  }

  absl::StatusOr<std::unique_ptr<Transaction>> BeginQueued(TxMode mode,
                                                           const WriteQueue& queue) override {
    const bool queued = !queue.key.empty() && mode != TxMode::kRead;
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<std::unique_ptr<Connection>> connection = Acquire();
      if (!connection.ok()) return connection.status();
      auto txn = std::make_unique<PostgresTransaction>(this, *std::move(connection), mode);
      absl::Status status = queued ? txn->Queue(queue.key) : absl::OkStatus();
      if (status.ok()) status = txn->Begin();
      if (status.ok()) return txn;
      // Idle connections the server dropped (a restart, a failover) fail here: each try drops
      // one, and after the pool's worth a new connection is opened.
      if (attempt > options_.max_connections || !txn->ConnectionLost()) return status;
    }
  }

  void Release(std::unique_ptr<Connection> connection) {
    const bool reusable = connection->Reusable();
    if (!reusable) connection.reset();  // closes it, outside the lock
    absl::MutexLock lock(&mu_);
    if (reusable) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }

 private:
  absl::StatusOr<std::unique_ptr<Connection>> Connect() {
    const std::string connect_timeout =
        std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(options_.connect_timeout)));
    std::vector<const char*> keys = {"dbname", "connect_timeout", "client_encoding"};
    std::vector<const char*> values = {options_.conninfo.c_str(), connect_timeout.c_str(), "UTF8"};
    if (!options_.password.empty()) {
      keys.push_back("password");
      values.push_back(options_.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    if (conn == nullptr) return absl::ResourceExhaustedError("out of memory connecting");
    auto connection = std::make_unique<Connection>(conn);
    // NOTICEs ("relation ... already exists, skipping") are not errors: not printed.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    if (PQstatus(conn) != CONNECTION_OK) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to PostgreSQL: ", Trimmed(PQerrorMessage(conn))));
    }
    const std::string settings = absl::StrCat(
        "SET statement_timeout = ", absl::ToInt64Milliseconds(options_.statement_timeout),
        "; SET idle_in_transaction_session_timeout = ",
        absl::ToInt64Milliseconds(options_.idle_in_transaction_timeout), ";");
    Result result(PQexec(conn, settings.c_str()));
    if (!ResultOk(result.get())) return StatusFromResult(result.get(), conn, "configure");
    return connection;
  }

  absl::StatusOr<std::unique_ptr<Connection>> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto can_take = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.max_connections;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&can_take), options_.acquire_timeout)) {
        return absl::UnavailableError(absl::StrCat("all ", options_.max_connections,
                                                   " database connections stayed busy for ",
                                                   absl::FormatDuration(options_.acquire_timeout)));
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_;  // reserve the slot, connect outside the lock
    }
    absl::StatusOr<std::unique_ptr<Connection>> connection = Connect();
    if (!connection.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return connection;
  }

  const PostgresOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

PostgresTransaction::~PostgresTransaction() {
  if (!done_ && PQstatus(connection_->conn) == CONNECTION_OK) {
    Result result(PQexec(connection_->conn, "ROLLBACK"));
    (void)result;  // a failure leaves the connection not idle: Release drops it
  }
  done_ = true;
  if (queued_ && PQtransactionStatus(connection_->conn) != PQTRANS_IDLE) {
    connection_->discard = true;  // still in a transaction: unlocking would not be confirmed
  }
  Unqueue();
  owner_->Release(std::move(connection_));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenPostgresDatabase(const PostgresOptions& options) {
  if (options.conninfo.empty()) {
    return absl::InvalidArgumentError("postgresql connection string is empty");
  }
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("postgresql max_connections must be at least 1");
  }
  auto db = std::make_unique<PostgresDatabase>(options);
  absl::Status status = db->Init();
  if (!status.ok()) return status;
  return db;
}

}  // namespace smp
