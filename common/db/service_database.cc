#include "common/db/service_database.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/db/postgres_database.h"
#include "common/status/status_macros.h"
#include "common/util/private_file.h"

ABSL_FLAG(std::string, database, "sqlite:",
          "Where the service keeps its data. `sqlite:` (default): <data_dir>/<service>.sqlite. "
          "`postgresql://[user@]host[:port]/database` (libpq URL or key=value string): a "
          "PostgreSQL database of this service's own, with the C collation; the password only "
          "by --database_password_file.");
ABSL_FLAG(std::string, database_password_file, "",
          "With a PostgreSQL --database: file holding the password (one line; readable by its "
          "owner only, chmod 600). Empty: no password (or libpq's ~/.pgpass).");

namespace smp {
namespace {

bool IsPostgresql(absl::string_view database) {
  return absl::StartsWith(database, "postgresql://") || absl::StartsWith(database, "postgres://") ||
         absl::StartsWith(database, "host=") || absl::StartsWith(database, "dbname=");
}

// A password written into the flag would show in `ps` and in logs: refused.
bool HoldsPassword(absl::string_view database) {
  if (absl::StrContains(database, "password=")) return true;
  const size_t scheme = database.find("://");
  if (scheme == absl::string_view::npos) return false;
  absl::string_view authority = database.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?"));
  const size_t at = authority.rfind('@');
  return at != absl::string_view::npos &&
         authority.substr(0, at).find(':') != absl::string_view::npos;
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  RETURN_IF_ERROR(CheckPrivateFile(path, "--database_password_file"));
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  std::string password = contents.str();
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty() || password.find('\n') != std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("--database_password_file ", path, " must hold one non-empty line"));
  }
  return password;
}

// The data directory holds more than the SQLite file (identity's setup code, compliance's key
// beside it), so it is made private whichever backend is chosen.
absl::Status MakePrivateDataDir(const std::string& data_dir) {
  // Each missing level is created readable by this user only (the files hold patients' data).
  for (size_t slash = data_dir.find('/', 1);; slash = data_dir.find('/', slash + 1)) {
    const std::string level = data_dir.substr(0, slash);
    if (!level.empty() && ::mkdir(level.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::UnavailableError(
          absl::StrCat("cannot create data_dir ", level, ": ", std::strerror(errno)));
    }
    if (slash == std::string::npos) break;
  }
  return CheckPrivateDirectory(data_dir, "data directory");
}

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations, const SqliteOptions& sqlite) {
  const std::string path = absl::StrCat(data_dir, "/", service, ".sqlite");
  // A new database file is made 0600 here, before SQLite opens it: SQLite would create it 0644
  // under the usual umask, and it gives its -wal, -shm and -journal files the database's mode.
  absl::Status created = CreatePrivateFile(path);
  if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    absl::Status checked = CheckPrivateFile(path + suffix, "database file");
    if (!checked.ok() && !(*suffix != '\0' && absl::IsNotFound(checked))) return checked;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenSqliteDatabase(path, sqlite));
  RETURN_IF_ERROR(ApplyMigrations(*db, migrations, absl::Now()));
  return db;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenChosenDatabase(
    const DatabaseChoice& choice, const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations, const SqliteOptions& sqlite_options) {
  const bool sqlite = choice.database.empty() || choice.database == "sqlite:";
  if (!sqlite && !IsPostgresql(choice.database)) {
    return absl::InvalidArgumentError(
        "--database: expected `sqlite:` or a PostgreSQL connection string "
        "(postgresql://user@host:port/database)");
  }
  if (sqlite && !choice.password_file.empty()) {
    return absl::InvalidArgumentError(
        "--database_password_file: only a PostgreSQL --database takes a password");
  }
  if (!sqlite && HoldsPassword(choice.database)) {
    return absl::InvalidArgumentError(
        "--database: holds a password; put it in a file (chmod 600) named by "
        "--database_password_file instead");
  }
  RETURN_IF_ERROR(MakePrivateDataDir(data_dir));
  if (sqlite) return OpenSqliteServiceDatabase(data_dir, service, migrations, sqlite_options);
  PostgresOptions options;
  options.conninfo = choice.database;
  if (!choice.password_file.empty()) {
    ASSIGN_OR_RETURN(options.password, ReadPasswordFile(choice.password_file));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenPostgresDatabase(options));
  RETURN_IF_ERROR(ApplyMigrations(*db, migrations, absl::Now()));
  return db;
}

absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations, const SqliteOptions& sqlite) {
  return OpenChosenDatabase(
      {absl::GetFlag(FLAGS_database), absl::GetFlag(FLAGS_database_password_file)}, data_dir,
      service, migrations, sqlite);
}

}  // namespace smp
