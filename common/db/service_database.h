#ifndef SMP_COMMON_DB_SERVICE_DATABASE_H_
#define SMP_COMMON_DB_SERVICE_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/db/database.h"
#include "common/db/migrations.h"

namespace smp {

// A service's own database at start-up, chosen by `--database` (`SMP_DATABASE`):
// - `sqlite:` (the default, also when empty): creates `data_dir` (mode 0700) if missing and opens
//   `<data_dir>/<service>.sqlite`, created 0600 whatever the umask (its -wal/-shm files take its
//   mode);
// - `postgresql://[user@]host[:port]/database[?param=value...]` (or `postgres://`, or libpq's
//   `key=value` form starting with `host=`): the PostgreSQL backend (postgres_database.h); the
//   password comes only from `--database_password_file` (mode 0600; one line), never from the
//   flag (a password in it is refused: flags show in process lists).
// Either way it then brings the database to the newest of `migrations`.
//
// The files hold patients' data, so the service refuses to start (FAILED_PRECONDITION naming the
// path and the `chmod 700` / `chmod 600` that fixes it) when `data_dir`, the database or its
// -wal/-shm/-journal files are accessible by group or others, are not this user's, or are
// symbolic links. UNAVAILABLE when the directory or file cannot be made; FAILED_PRECONDITION for a
// database newer than the binary. `sqlite` configures the SQLite backend (its page size, say).
absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations, const SqliteOptions& sqlite = {});

// Which database: the values of --database and --database_password_file.
struct DatabaseChoice {
  std::string database;       // "" or "sqlite:", or a PostgreSQL connection string
  std::string password_file;  // PostgreSQL only
};

// OpenServiceDatabase with the choice given rather than read from the flags. INVALID_ARGUMENT
// naming `--database` for a value of neither form or one holding a password, and naming
// `--database_password_file` when it is set for SQLite; FAILED_PRECONDITION for a password file
// others can read.
absl::StatusOr<std::unique_ptr<Database>> OpenChosenDatabase(
    const DatabaseChoice& choice, const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations, const SqliteOptions& sqlite = {});

}  // namespace smp

#endif  // SMP_COMMON_DB_SERVICE_DATABASE_H_
