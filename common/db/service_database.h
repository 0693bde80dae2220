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

// A service's own database at start-up: creates `data_dir` (mode 0700) if missing, opens
// `<data_dir>/<service>.sqlite` and brings it to the newest of `migrations`. The database is
// created 0600 whatever the umask (its -wal/-shm files take its mode).
//
// The files hold patients' data, so the service refuses to start (FAILED_PRECONDITION naming the
// path and the `chmod 700` / `chmod 600` that fixes it) when `data_dir`, the database or its
// -wal/-shm/-journal files are accessible by group or others, are not this user's, or are
// symbolic links. UNAVAILABLE when the directory or file cannot be made; FAILED_PRECONDITION for a
// database newer than the binary.
absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations);

}  // namespace smp

#endif  // SMP_COMMON_DB_SERVICE_DATABASE_H_
