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
// `<data_dir>/<service>.sqlite` and brings it to the newest of `migrations`. UNAVAILABLE when the
// directory or file cannot be made; FAILED_PRECONDITION for a database newer than the binary.
absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabase(
    const std::string& data_dir, absl::string_view service,
    const std::vector<Migration>& migrations);

}  // namespace smp

#endif  // SMP_COMMON_DB_SERVICE_DATABASE_H_
