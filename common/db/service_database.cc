#include "common/db/service_database.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"
#include "common/util/private_file.h"

namespace smp {

absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations) {
  // Each missing level is created readable by this user only (the files hold patients' data).
  for (size_t slash = data_dir.find('/', 1);; slash = data_dir.find('/', slash + 1)) {
    const std::string level = data_dir.substr(0, slash);
    if (!level.empty() && ::mkdir(level.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::UnavailableError(
          absl::StrCat("cannot create data_dir ", level, ": ", std::strerror(errno)));
    }
    if (slash == std::string::npos) break;
  }
  RETURN_IF_ERROR(CheckPrivateDirectory(data_dir, "data directory"));
  const std::string path = absl::StrCat(data_dir, "/", service, ".sqlite");
  // A new database file is made 0600 here, before SQLite opens it: SQLite would create it 0644
  // under the usual umask, and it gives its -wal, -shm and -journal files the database's mode.
  absl::Status created = CreatePrivateFile(path);
  if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    absl::Status checked = CheckPrivateFile(path + suffix, "database file");
    if (!checked.ok() && !(*suffix != '\0' && absl::IsNotFound(checked))) return checked;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenSqliteDatabase(path));
  RETURN_IF_ERROR(ApplyMigrations(*db, migrations, absl::Now()));
  return db;
}

}  // namespace smp
