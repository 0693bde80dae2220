#include "common/db/service_database.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"

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
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                   OpenSqliteDatabase(absl::StrCat(data_dir, "/", service, ".sqlite")));
  RETURN_IF_ERROR(ApplyMigrations(*db, migrations, absl::Now()));
  return db;
}

}  // namespace smp
