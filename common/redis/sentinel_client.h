#ifndef SMP_COMMON_REDIS_SENTINEL_CLIENT_H_
#define SMP_COMMON_REDIS_SENTINEL_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "common/redis/redis_pool.h"

namespace smp {

// How to find the Redis primary through Redis Sentinel.
struct SentinelOptions {
  // The sentinels, as host and port (host:port of each, parsed by ParseSentinelAddresses). Asked
  // in turn, starting with the one that answered last.
  std::vector<RedisOptions> sentinels;
  // The name the sentinels monitor the primary under (`sentinel monitor <name> ...`).
  std::string master_name;
  // Template of the connections to the primary: user, password, timeouts and pool size; host and
  // port are ignored (the sentinels name them).
  RedisOptions redis;
  // ACL user and password sent to each sentinel (`AUTH`), when the password is not empty.
  std::string sentinel_user;
  std::string sentinel_password;
  // How long a verified primary is trusted without asking the sentinels again. The re-check runs
  // on the first call after it elapses, so a primary that was demoted without dropping
  // connections (a partition that healed) is left within this time.
  absl::Duration recheck_interval = absl::Seconds(1);
  // After a discovery failed (no sentinel answered, or the primary they named was not a
  // reachable master), calls fail at once with that error until a backoff has passed; the
  // backoff starts at min_backoff and doubles per failure up to max_backoff. So a failover in
  // progress is noticed within max_backoff of the sentinels' switch, and a dead primary is not
  // hammered by every request.
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Milliseconds(500);
  // Addresses the sentinels report ("host:port") mapped to the address to dial instead, e.g. the
  // local TLS proxy (stunnel) in front of that Redis: hiredis 0.14 has no TLS. Unmapped
  // addresses are dialled as reported.
  std::map<std::string, std::string> address_map;
};

// Parses "host:port,host:port,..." (each as ParseRedisAddress; a bare host means port 26379).
// INVALID_ARGUMENT for an empty list or a bad element, naming it.
absl::StatusOr<std::vector<RedisOptions>> ParseSentinelAddresses(absl::string_view list);

// Parses "reported=dial,reported=dial" (each side host:port) into SentinelOptions::address_map.
// Empty gives an empty map. INVALID_ARGUMENT names a bad element.
absl::StatusOr<std::map<std::string, std::string>> ParseAddressMap(absl::string_view list);

// A RedisClient that talks to whichever Redis the sentinels say is the primary (hiredis 0.14 has
// no Sentinel support of its own).
//
// Discovery: ask a sentinel `SENTINEL get-master-addr-by-name <master_name>`, then ask the server
// it names `ROLE`; only an answer "master" is used (a sentinel may still name a primary that
// has been demoted, or one that is down). The services' ACL user therefore needs `+role` on the
// Redis servers (the suite's ACL otherwise denies @admin commands). Every step is bounded by the
// connect and command timeouts of the options.
//
// Calls then go to a RedisPool on that primary. The primary is discovered again:
//   - after a call failed with UNAVAILABLE (connection refused or lost, timeout): that call
//     fails (a write may or may not have been applied, so it is not repeated); the next call
//     discovers;
//   - when a call is answered READONLY (the server was demoted to a replica): nothing was
//     written, so the call is repeated once on the primary discovered at once;
//   - on the first call after recheck_interval.
// While no primary can be found, every call fails with UNAVAILABLE naming what the sentinels and
// servers said (callers fail closed), without waiting: see min_backoff and max_backoff.
//
// Errors: as RedisClient. Thread-safe; one thread discovers at a time while the others use the
// last primary or its error.
class SentinelRedisClient final : public RedisClient {
 public:
  explicit SentinelRedisClient(SentinelOptions options);

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override;
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;

  // "host:port" of the primary in use (as dialled), "" when none is known (tests, logs).
  std::string primary_address() const;
  // Discoveries that changed the primary in use (tests, metrics).
  int primary_changes() const;
  const SentinelOptions& options() const { return options_; }

 private:
  // The pool of the primary, discovering it if needed (see the class comment).
  absl::StatusOr<std::shared_ptr<RedisPool>> Primary();
  // Asks the sentinels and verifies the answer; the pool of the primary found.
  absl::StatusOr<std::shared_ptr<RedisPool>> Discover();
  absl::StatusOr<RedisOptions> AskSentinel(RedisPool& sentinel);
  // Forgets `pool` as the primary (if it still is), so the next call discovers.
  void Forget(const std::shared_ptr<RedisPool>& pool);
  absl::StatusOr<std::vector<RedisReply>> Run(
      const std::vector<std::vector<std::string>>& commands);

  const SentinelOptions options_;
  // One pool per sentinel, kept so that discovery reuses connections.
  std::vector<std::unique_ptr<RedisPool>> sentinels_;

  absl::Mutex discover_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one discovery at a time
  mutable absl::Mutex mu_;
  std::shared_ptr<RedisPool> primary_ ABSL_GUARDED_BY(mu_);
  absl::Time verified_at_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  size_t next_sentinel_ ABSL_GUARDED_BY(mu_) = 0;
  int primary_changes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smp

#endif  // SMP_COMMON_REDIS_SENTINEL_CLIENT_H_
