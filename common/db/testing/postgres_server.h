#ifndef SMP_COMMON_DB_TESTING_POSTGRES_SERVER_H_
#define SMP_COMMON_DB_TESTING_POSTGRES_SERVER_H_

// A real PostgreSQL 15 for tests (Debian's postgresql-15): a fresh cluster in a temporary
// directory (a copy of one initdb made once per machine, /tmp/smp-postgres-template-v1-<uid>),
// served on a free loopback port, stopped by its PID and its directory removed when the object
// goes. PostgreSQL refuses to run as root and CI runs as root, so as root
// initdb and postgres run as the `postgres` system user (runuser), the directory chowned to it.
// Tests tag themselves with the ctest label `postgresql`.
//
// Speed over durability: fsync, synchronous_commit and full_page_writes are off (a crash of the
// test machine loses a throwaway cluster). Everything else is as in production: SERIALIZABLE,
// password authentication (scram-sha-256) over TCP, the C collation.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/postgres_database.h"

namespace smp::testing {

class PostgresServer {
 public:
  // initdb + postgres, waiting until it accepts connections (at most 60 s). The binaries are
  // taken from $SMP_POSTGRES_BIN, else /usr/lib/postgresql/15/bin. UNAVAILABLE with the tail of
  // the server's log when it does not come up.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  // A server another process started and described in `state_file` (WriteStateFile; the ctest
  // fixture smp_postgres_fixture). Stop() does not stop it: it drops the databases this object
  // created, so a test run's thousand databases do not pile up on the shared server.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Attach(const std::string& state_file);
  // Writes `port=`, `password=` and `pid=<owner>` lines to `state_file` (mode 0600, written
  // whole: a reader sees all of it or nothing).
  absl::Status WriteStateFile(const std::string& state_file, pid_t owner) const;

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // The superuser `smp`'s password (the cluster accepts no login without one).
  const std::string& password() const { return password_; }
  // `host=127.0.0.1 port=<port> user=smp dbname=<database>`, without the password.
  std::string ConnInfo(const std::string& database) const;

  // A new, empty database (UTF-8, collation `locale`) with a unique name; returns the name.
  absl::StatusOr<std::string> CreateDatabase(const std::string& locale = "C");
  // Creates the database `name` (UTF-8, collation C) unless it exists: a test that restarts a
  // service on the same data finds its database again. `name` must be a plain identifier.
  absl::Status EnsureDatabase(const std::string& name);
  // Options for the backend on `database`, password included.
  PostgresOptions Options(const std::string& database) const;

  // Fast shutdown (SIGINT to the postmaster), then SIGKILL if it has not gone within 30 s; removes
  // the directory. Idempotent. An attached server drops its databases instead.
  void Stop();

 private:
  PostgresServer() = default;

  std::string dir_;  // everything lives under it
  std::string password_;
  int port_ = 0;
  pid_t child_ = -1;  // the process we started (runuser as root, else postgres itself)
  bool attached_ = false;
  std::vector<std::string> created_;  // attached: the databases to drop at Stop()
};

// The PostgreSQL server of this test process: the one the ctest fixture started when
// $SMP_TEST_POSTGRES_SERVER names its state file (one server per ctest run, each test in its own
// databases), else one started on first use and stopped at exit. Aborts the test program (with the
// reason) if it cannot start: a test labelled postgresql cannot pass without it.
PostgresServer& SharedPostgresServer();

}  // namespace smp::testing

#endif  // SMP_COMMON_DB_TESTING_POSTGRES_SERVER_H_
