#ifndef SMP_COMMON_REDIS_TESTING_FAULT_INJECTING_REDIS_CLIENT_H_
#define SMP_COMMON_REDIS_TESTING_FAULT_INJECTING_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/redis/redis_client.h"

namespace smp::testing {

// Wraps a RedisClient (not owned; must outlive this) and, while set_down(true), fails every call
// with UNAVAILABLE without reaching the wrapped client, as a Redis outage would look to callers
// (LevelDB FaultInjectionEnv style). Counts calls that reached the wrapped client, so tests can
// assert that a path did (or did not) touch Redis. Thread-safe.
class FaultInjectingRedisClient final : public RedisClient {
 public:
  explicit FaultInjectingRedisClient(RedisClient* target) : target_(target) {}

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override;
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;

  void set_down(bool down) { down_.store(down); }
  bool down() const { return down_.load(); }
  // Calls (Command or Pipeline) passed through to the wrapped client.
  int64_t calls() const { return calls_.load(); }
  // Calls refused because the client was down.
  int64_t failed_calls() const { return failed_calls_.load(); }

 private:
  RedisClient* const target_;
  std::atomic<bool> down_{false};
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> failed_calls_{0};
};

}  // namespace smp::testing

#endif  // SMP_COMMON_REDIS_TESTING_FAULT_INJECTING_REDIS_CLIENT_H_
