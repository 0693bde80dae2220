#ifndef SMP_COMMON_REDIS_REDIS_POOL_H_
#define SMP_COMMON_REDIS_REDIS_POOL_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"

struct redisContext;

namespace smp {

// A thread-safe pool of synchronous hiredis connections to one Redis server.
//
// Each call takes an idle connection (or opens one: connect bounded by connect_timeout, then AUTH
// when a password is set), runs its command(s) with every socket read/write bounded by
// command_timeout, and returns the connection to the pool, which keeps at most
// max_idle_connections. A connection that failed is closed, never reused: the next call opens a
// new one, so the pool recovers by itself once Redis is back. Idle connections the server has
// closed meanwhile (e.g. Redis restarted) are detected before use and replaced, so a restart does
// not fail the first call after it. Calls block the calling thread; run them off gRPC's callback
// threads. There is no limit on connections open at once beyond the callers' concurrency.
//
// Writing to a socket the server has closed raises SIGPIPE; if SIGPIPE still has its default
// (process-killing) disposition, the constructor sets it to ignored.
class RedisPool final : public RedisClient {
 public:
  explicit RedisPool(RedisOptions options);
  ~RedisPool() override;

  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override;
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;

  const RedisOptions& options() const { return options_; }
  // Connections currently idle in the pool (tests, metrics).
  int idle_connections() const;

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using Connection = std::unique_ptr<redisContext, ContextDeleter>;

  absl::StatusOr<std::vector<RedisReply>> Run(std::span<const std::vector<std::string>> commands);
  absl::StatusOr<Connection> Acquire();
  absl::StatusOr<Connection> Connect();
  void Release(Connection connection);
  // UNAVAILABLE for a failed connection (which the caller then drops).
  absl::Status IoError(const redisContext& context) const;

  const RedisOptions options_;
  const std::string address_;  // "host:port", for messages
  mutable absl::Mutex mu_;
  std::vector<Connection> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp

#endif  // SMP_COMMON_REDIS_REDIS_POOL_H_
