#ifndef SMP_COMMON_SERVER_IDEMPOTENCY_PURGE_H_
#define SMP_COMMON_SERVER_IDEMPOTENCY_PURGE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/server/periodic_task.h"
#include "common/util/clock.h"

namespace smp {

// --idempotency_retention (SMP_IDEMPOTENCY_RETENTION), default 720h (30 days): how long every
// service remembers a request_id and its response.
absl::Duration IdempotencyRetentionFromFlags();

// Started: a task that every `every` forgets the request_ids (and the stored responses) of `db`
// older than `retention` (see PurgeIdempotencyKeys). Each service's main starts one.
std::unique_ptr<PeriodicTask> StartIdempotencyPurge(Database& db, const Clock& clock,
                                                    absl::Duration retention,
                                                    absl::Duration every = absl::Hours(1));

}  // namespace smp

#endif  // SMP_COMMON_SERVER_IDEMPOTENCY_PURGE_H_
