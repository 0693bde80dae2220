#include "common/server/idempotency_purge.h"

#include <string>

#include "absl/flags/flag.h"
#include "common/db/idempotency.h"
#include "common/server/log.h"

ABSL_FLAG(absl::Duration, idempotency_retention, smp::kDefaultIdempotencyRetention,
          "How long a request_id and its stored response are kept (retries within it replay).");

namespace smp {

absl::Duration IdempotencyRetentionFromFlags() {
  return absl::GetFlag(FLAGS_idempotency_retention);
}

std::unique_ptr<PeriodicTask> StartIdempotencyPurge(Database& db, const Clock& clock,
                                                    absl::Duration retention,
                                                    absl::Duration every) {
  auto task = std::make_unique<PeriodicTask>(
      "idempotency purge", every, [&db, &clock, retention]() -> absl::Status {
        absl::StatusOr<int64_t> purged = PurgeIdempotencyKeys(db, clock.Now() - retention);
        if (!purged.ok()) return purged.status();
        if (*purged > 0) LogInfo("idempotency keys purged", {{"count", std::to_string(*purged)}});
        return absl::OkStatus();
      });
  task->Start();
  return task;
}

}  // namespace smp
