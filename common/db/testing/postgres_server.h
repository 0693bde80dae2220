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

#include "absl/status/statusor.h"
#include "common/db/postgres_database.h"

namespace smp::testing {

class PostgresServer {
 public:
  // initdb + postgres, waiting until it accepts connections (at most 60 s). The binaries are
  // taken from $SMP_POSTGRES_BIN, else /usr/lib/postgresql/15/bin. UNAVAILABLE with the tail of
  // the server's log when it does not come up.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

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
  // Options for the backend on `database`, password included.
  PostgresOptions Options(const std::string& database) const;

  // Fast shutdown (SIGINT to the postmaster), then SIGKILL if it has not gone within 30 s; removes
  // the directory. Idempotent.
  void Stop();

 private:
  PostgresServer() = default;

  std::string dir_;  // everything lives under it
  std::string password_;
  int port_ = 0;
  pid_t child_ = -1;  // the process we started (runuser as root, else postgres itself)
  int next_database_ = 0;
};

// The PostgreSQL server of this test process: started on first use, stopped at exit. Aborts the
// test program (with the reason) if it cannot start: a test labelled postgresql cannot pass
// without it.
PostgresServer& SharedPostgresServer();

}  // namespace smp::testing

#endif  // SMP_COMMON_DB_TESTING_POSTGRES_SERVER_H_
