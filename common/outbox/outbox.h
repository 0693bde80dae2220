#ifndef SMP_COMMON_OUTBOX_OUTBOX_H_
#define SMP_COMMON_OUTBOX_OUTBOX_H_

// The transactional outbox. A state change that another service must hear about (a completed
// session -> compliance and billing) writes its event into the outbox table in the same transaction
// as the change, so both commit or neither does. A dispatcher then delivers due events over gRPC,
// at least once, retrying with exponential backoff and jitter; receivers deduplicate by event id.
// An event that keeps failing stays in the table, visible (Pending, metrics), and is retried at the
// longest backoff for as long as it takes: nothing is dropped.

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/util/clock.h"
#include "google/protobuf/message.h"

namespace smp {

// Every service that sends events adds this table in one of its migrations.
inline constexpr char kOutboxTableSql[] =
    "CREATE TABLE outbox ("
    "  id TEXT PRIMARY KEY,"               // the event id receivers deduplicate on
    "  destination TEXT NOT NULL,"         // the receiving service, e.g. "billing"
    "  kind TEXT NOT NULL,"                // what happened, e.g. "session_completed"
    "  payload BLOB NOT NULL,"             // the serialised event message
    "  created_at INTEGER NOT NULL,"       // unix microseconds
    "  attempts INTEGER NOT NULL,"         // deliveries tried so far
    "  next_attempt_at INTEGER NOT NULL,"  // not before this (unix microseconds)
    "  last_error TEXT NOT NULL,"          // why the last attempt failed
    "  delivered_at INTEGER);"             // NULL until delivered
    "CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);";

struct OutboxEvent {
  std::string id;
  std::string destination;
  std::string kind;
  std::string payload;  // serialised message
  absl::Time created;
  int attempts = 0;
  absl::Time next_attempt;
  std::string last_error;
};

// Inside the caller's transaction: records `payload` for `destination`, due at once. Returns the
// event id.
absl::StatusOr<std::string> EnqueueEvent(Transaction& txn, absl::string_view destination,
                                         absl::string_view kind,
                                         const google::protobuf::Message& payload, absl::Time now);

struct RetryPolicy {
  absl::Duration initial = absl::Milliseconds(500);
  absl::Duration max = absl::Minutes(5);
  double multiplier = 2.0;
  double jitter = 0.2;  // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
  // How long a pass owns the events it claimed: an event whose dispatcher died mid-delivery is
  // due again (for any replica) this long after the claim. Longer than a delivery's deadline.
  absl::Duration claim_lease = absl::Minutes(1);
};

// The wait after `attempts` failed attempts (1 = the first failure): initial * multiplier^(n-1),
// capped at max, then scaled by (1 + jitter * (2 * random01 - 1)). Pure; random01 in [0, 1).
absl::Duration BackoffAfter(int attempts, const RetryPolicy& policy, double random01);

// Delivers one event to one destination (a gRPC call with a deadline). OK means the receiver has it
// (including "already had it"); any error means try again later.
class EventDeliverer {
 public:
  virtual ~EventDeliverer() = default;
  virtual absl::Status Deliver(const OutboxEvent& event) = 0;
};

struct DispatchStats {
  int delivered = 0;
  int failed = 0;
};

class OutboxDispatcher {
 public:
  // `deliverers` by destination name; events for an unknown destination count as failed attempts
  // (a configuration error that stays visible rather than silently dropping events).
  OutboxDispatcher(Database* db, const Clock& clock, RetryPolicy policy,
                   absl::flat_hash_map<std::string, EventDeliverer*> deliverers);
  ~OutboxDispatcher();

  // One pass: claims the due events, oldest first (at most `batch`), tries each and records the
  // outcomes together in one transaction; every kReportEvery at most, it also refreshes the backlog
  // gauges and drops events delivered over a week ago. Several dispatchers on one database
  // (replicas of a service) share the events: a pass claims its events for policy.claim_lease in
  // one transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent passes take disjoint events
  // without waiting), and hands back what it has not tried when half the lease is gone, so an event
  // is sent twice only if a replica stalls for longer than the lease after its claim (or dies
  // mid-delivery; then the event is due again once the lease ends). Receivers deduplicate by event
  // id anyway.
  absl::StatusOr<DispatchStats> RunOnce(int batch = 100);

  // Runs passes on a thread every `interval`, or sooner after Wake() (a service calls it after
  // committing an event). Stop() (also the destructor) ends the thread.
  void Start(absl::Duration interval);
  void Wake();
  void Stop();

  // Undelivered events tried at least `min_attempts` times, oldest first: what an operator looks at
  // when a peer has been down.
  absl::StatusOr<std::vector<OutboxEvent>> Pending(int min_attempts, int limit);

 private:
  // Delivered events older than this are deleted.
  static constexpr absl::Duration kKeepDelivered = absl::Hours(24 * 7);
  // The backlog gauges (and the purge) are refreshed by at most one pass this often: a pass runs
  // after every committed event, and each refresh is a write transaction of its own.
  static constexpr absl::Duration kReportEvery = absl::Seconds(5);
  // What a pass learnt of one event it tried.
  struct Outcome {
    std::string id;
    bool delivered = false;
    absl::Time next_attempt;  // when not delivered
    std::string error;        // when not delivered
  };
  // Takes up to `batch` due events for this pass: their next attempt moves to now + the lease.
  absl::StatusOr<std::vector<OutboxEvent>> Claim(absl::Time now, int batch);
  // Gives claimed events that were not tried back their previous due time.
  absl::Status Unclaim(const std::vector<OutboxEvent>& events, absl::Time now);
  // Writes a pass's outcomes in one transaction: delivered events are marked delivered at `now`,
  // failed ones get their next attempt and error.
  absl::Status Record(const std::vector<Outcome>& outcomes, absl::Time now);
  // Drops old delivered events and publishes the backlog per destination as gauges.
  absl::Status ReportBacklog(absl::Time now);

  Database* db_;
  const Clock& clock_;
  RetryPolicy policy_;
  absl::flat_hash_map<std::string, EventDeliverer*> deliverers_;
  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  // When a pass last ran ReportBacklog (unix microseconds; passes may run on several threads).
  std::atomic<int64_t> last_report_micros_{std::numeric_limits<int64_t>::min()};
};

}  // namespace smp

#endif  // SMP_COMMON_OUTBOX_OUTBOX_H_
