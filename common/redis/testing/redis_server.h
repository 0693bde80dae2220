#ifndef SMP_COMMON_REDIS_TESTING_REDIS_SERVER_H_
#define SMP_COMMON_REDIS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/redis/redis_client.h"

namespace smp::testing {

// A real redis-server child process for tests, on a free loopback port, with persistence off.
//
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> redis, RedisServer::StartNew());
//   RedisPool pool(redis->options());
//   redis->Stop();   // simulate an outage ...
//   redis->Start();  // ... and recovery, on the same port (data is gone: no persistence)
//
// The binary is $SMP_REDIS_SERVER if set, else `redis-server` on PATH, else /usr/bin/redis-server.
// The child gets SIGTERM if the thread that started it exits (PR_SET_PDEATHSIG), so a crashed
// test leaves no server behind; start it from the test's main thread. Not thread-safe.
class RedisServer {
 public:
  // Picks a free port (bind 127.0.0.1:0, read it, close) but does not start the server.
  // `extra_args` are appended to the command line, e.g. {"--requirepass", "secret"}.
  explicit RedisServer(std::vector<std::string> extra_args = {});
  // Stops the server if running.
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Constructs and starts.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartNew(
      std::vector<std::string> extra_args = {});

  // Constructs and starts a server as stack.sh runs one: the `default` user has a random password
  // nobody knows (a client that does not authenticate gets NOAUTH) and `user` with `password` may
  // run every command on every key. The password reaches redis-server only as its SHA-256 (ACL
  // `#<hash>`), so it is not on the command line; options() carries user and password.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartNewWithAcl(
      const std::string& user, const std::string& password,
      std::vector<std::string> extra_args = {});

  // Starts the server and waits (at most 5 s) until it answers PING. FAILED_PRECONDITION if it is
  // already running; UNAVAILABLE if it exited or did not answer in time (then it is killed).
  absl::Status Start();
  // Sends SIGTERM to exactly the child started by Start and waits for it (SIGKILL after 5 s).
  // OK if not running.
  absl::Status Stop();
  // Sends SIGKILL to exactly the child started by Start and reaps it: a crash (no shutdown, no
  // goodbye to replicas or sentinels). OK if not running.
  absl::Status Kill();

  // Runs the server as a Redis Sentinel: `config_file` (which the sentinel rewrites, so it must
  // be writable) comes first on the command line, then `--sentinel`. Call before Start.
  void set_sentinel_config(std::string config_file) { sentinel_config_ = std::move(config_file); }
  // The credentials the readiness PING (and options()) use. Call before Start.
  void set_credentials(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Options to reach this server ("127.0.0.1", port, short timeouts suited to tests; password
  // from --requirepass in extra_args if given, or user and password of StartNewWithAcl).
  RedisOptions options() const;

 private:
  absl::Status WaitUntilReady();

  std::vector<std::string> extra_args_;
  std::string sentinel_config_;
  std::string user_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Where the redis-server binary is (see RedisServer).
std::string FindRedisServerBinary();

}  // namespace smp::testing

#endif  // SMP_COMMON_REDIS_TESTING_REDIS_SERVER_H_
