#ifndef SMP_COMMON_REDIS_REDIS_CLIENT_H_
#define SMP_COMMON_REDIS_REDIS_CLIENT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smp {

// Where and how to reach Redis.
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Redis ACL user and its password, sent as `AUTH <user> <password>` on every new connection
  // when the password is not empty (`AUTH <password>`, the legacy default user, when user is
  // empty). Never logged or put in a status message.
  std::string user;
  std::string password;
  // Bounds a TCP connect (and the AUTH that follows).
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Bounds each socket read and write of a command (hiredis redisSetTimeout).
  absl::Duration command_timeout = absl::Milliseconds(500);
  // Connections kept open between calls; more may be open while calls run concurrently.
  int max_idle_connections = 8;
};

// Parses "host:port" ("127.0.0.1:6379", "redis.internal:6380", "[::1]:6379"). A bare host means
// port 6379. INVALID_ARGUMENT names what is wrong. Other RedisOptions fields keep their defaults.
absl::StatusOr<RedisOptions> ParseRedisAddress(absl::string_view host_port);

// One reply of Redis, owned (converted from hiredis' redisReply, so it outlives the connection).
// Accessors of the wrong type return a zero value (0, "", empty vector); check the type first.
class RedisReply {
 public:
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  RedisReply() = default;  // nil
  static RedisReply Nil() { return RedisReply(); }
  static RedisReply Integer(int64_t value);
  static RedisReply String(std::string value);
  static RedisReply Status(std::string value);  // a simple-string reply such as "OK"
  static RedisReply Error(std::string message);
  static RedisReply Array(std::vector<RedisReply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_integer() const { return type_ == Type::kInteger; }
  // True for bulk strings and for status replies ("OK", "QUEUED"): both carry str().
  bool is_string() const { return type_ == Type::kString || type_ == Type::kStatus; }
  bool is_status() const { return type_ == Type::kStatus; }
  // Error replies only appear nested in arrays (e.g. one command of an EXEC); a top-level error
  // reply is returned by RedisClient as a non-OK status instead.
  bool is_error() const { return type_ == Type::kError; }
  bool is_array() const { return type_ == Type::kArray; }

  int64_t integer() const { return integer_; }
  // The string of a string, status or error reply (binary-safe).
  const std::string& str() const { return str_; }
  const std::vector<RedisReply>& elements() const { return elements_; }
  std::vector<RedisReply>& mutable_elements() { return elements_; }

  // For test failure messages and logs, e.g. `["a", (nil), 3]`.
  std::string DebugString() const;

 private:
  Type type_ = Type::kNil;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<RedisReply> elements_;
};

// A synchronous Redis client. Implementations are thread-safe. Arguments are binary-safe.
//
// Errors:
//   UNAVAILABLE  Redis could not be reached or the connection failed mid-call ("redis ...:
//                <reason>"), or Redis answered with a transient error (LOADING, BUSY, MASTERDOWN,
//                TRYAGAIN, CLUSTERDOWN; READONLY: a replica, e.g. a primary demoted by a
//                failover). A later call may succeed. A write that failed this way
//                may or may not have been applied. Also when Redis refuses the credentials
//                (WRONGPASS on AUTH, NOAUTH when none were sent, NOPERM for a key or command the
//                ACL user may not use): the message says which and names the user and the
//                settings to fix (--redis_user, --redis_password_file), never the password.
//   INTERNAL     Redis answered with an error reply (wrong type, syntax, script error, ...); the
//                message carries the command name and the reply text.
// Interface (rather than RedisPool alone) so tests can wrap it with FaultInjectingRedisClient.
class RedisClient {
 public:
  virtual ~RedisClient() = default;

  // Runs one command, e.g. {"HGETALL", key}.
  virtual absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) = 0;

  // Runs `commands` in order on one connection in one round trip and returns their replies in the
  // same order. Not atomic (see RunTransaction). If any reply is an error, all replies are still
  // read (the connection stays usable) and the first error is returned as the status.
  virtual absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) = 0;
};

// Runs `commands` atomically as MULTI ... EXEC in one round trip (through client.Pipeline) and
// returns the replies of the commands (the elements of EXEC's reply). An error of any queued
// command is returned as INTERNAL. No WATCH: a pooled client cannot hold one across round trips;
// use a Lua script (EVAL) for read-then-write logic.
absl::StatusOr<std::vector<RedisReply>> RunTransaction(
    RedisClient& client, const std::vector<std::vector<std::string>>& commands);

// The replies of a transaction and how many replicas acknowledged it.
struct ReplicatedReplies {
  std::vector<RedisReply> replies;
  // WAIT's answer: replicas that had applied the transaction (and everything the connection
  // wrote before) when WAIT returned; 0 when no WAIT was sent.
  int64_t replicas_acked = 0;
};

// RunTransaction followed, in the same round trip and on the same connection, by
// `WAIT <replicas> <timeout in ms>` when replicas > 0: Redis replicates asynchronously, so a
// write acknowledged by the primary alone is lost if the primary dies before a replica has it and
// the replica is promoted. WAIT does not undo anything: with fewer replicas than asked the
// transaction still stands on the primary, and the caller decides what a short count means.
absl::StatusOr<ReplicatedReplies> RunTransactionAndWait(
    RedisClient& client, const std::vector<std::vector<std::string>>& commands, int replicas,
    absl::Duration timeout);

}  // namespace smp

#endif  // SMP_COMMON_REDIS_REDIS_CLIENT_H_
