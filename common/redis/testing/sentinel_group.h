#ifndef SMP_COMMON_REDIS_TESTING_SENTINEL_GROUP_H_
#define SMP_COMMON_REDIS_TESTING_SENTINEL_GROUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "common/redis/sentinel_client.h"
#include "common/redis/testing/redis_server.h"

namespace smp::testing {

// How the sentinels of a SentinelGroup judge and fail over (seconds in production; short here).
struct SentinelGroupOptions {
  std::string master_name = "smp";
  // `sentinel down-after-milliseconds`: silence after which a sentinel thinks the primary down.
  absl::Duration down_after = absl::Milliseconds(1000);
  // `sentinel failover-timeout`.
  absl::Duration failover_timeout = absl::Seconds(3);
};

// Real Redis with failover for tests, on free loopback ports: a primary, one replica of it and
// three sentinels (quorum 2) monitoring it, all child processes (see RedisServer).
//
// Access is set up as scripts/stack.sh sets up plain Redis, plus what Sentinel needs:
//   - on the two Redis servers, `default` has a random password nobody knows; `user` (with
//     `password`) may touch only smp:* keys and no @admin or @dangerous command except ROLE, which
//     SentinelRedisClient needs; an admin user (random password) is what the sentinels and the
//     replica's replication authenticate as;
//   - on the sentinels, `default` has a random password nobody knows; `user` (with `password`)
//     may only PING and ask `SENTINEL get-master-addr-by-name`; the sentinels talk to each other
//     as the admin user.
// Sentinels run as `redis-server <config> --sentinel`, which is what Debian's redis-sentinel (a
// link to the same binary) runs. Their configuration files live in a fresh temporary directory,
// removed with the group.
// Not thread-safe; start it from the test's main thread.
class SentinelGroup {
 public:
  static absl::StatusOr<std::unique_ptr<SentinelGroup>> StartNew(const std::string& user,
                                                                 const std::string& password,
                                                                 SentinelGroupOptions options = {});
  ~SentinelGroup();

  SentinelGroup(const SentinelGroup&) = delete;
  SentinelGroup& operator=(const SentinelGroup&) = delete;

  // The server started as the primary, and the one started as its replica (roles swap with a
  // failover; these names do not).
  RedisServer& primary() { return *primary_; }
  RedisServer& replica() { return *replica_; }
  RedisServer& sentinel(int i) { return *sentinels_.at(i); }
  int sentinel_count() const { return static_cast<int>(sentinels_.size()); }

  // "127.0.0.1:<port>,127.0.0.1:<port>,127.0.0.1:<port>", as --redis_sentinels takes it.
  std::string SentinelsFlag() const;
  // Options for a SentinelRedisClient of `user` (timeouts suited to tests).
  SentinelOptions ClientOptions() const;
  const SentinelGroupOptions& options() const { return options_; }
  // A client of the admin user on the server started as `which` (primary() or replica()), for
  // tests to look behind the services' back (ROLE, INFO, reading keys on a replica).
  RedisOptions AdminOptions(const RedisServer& which) const;

  // Waits (at most `timeout`) until every sentinel names the server on `port` as the primary.
  absl::Status WaitForPrimary(int port, absl::Duration timeout);

 private:
  SentinelGroup() = default;
  absl::Status Start();
  // Waits until every sentinel knows the replica and the two other sentinels, so that a failover
  // can happen (at most 15 s: sentinels announce themselves every 2 s).
  absl::Status WaitUntilMonitoring();

  SentinelGroupOptions options_;
  std::string user_;
  std::string password_;
  std::string admin_password_;
  std::string dir_;
  std::unique_ptr<RedisServer> primary_;
  std::unique_ptr<RedisServer> replica_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

}  // namespace smp::testing

#endif  // SMP_COMMON_REDIS_TESTING_SENTINEL_GROUP_H_
