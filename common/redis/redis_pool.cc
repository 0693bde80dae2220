#include "common/redis/redis_pool.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

RedisReply Convert(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(reply.integer);
    case REDIS_REPLY_STRING:
      return RedisReply::String(std::string(reply.str, reply.len));
    case REDIS_REPLY_STATUS:
      return RedisReply::Status(std::string(reply.str, reply.len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(reply.str, reply.len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) elements.push_back(Convert(*reply.element[i]));
      return RedisReply::Array(std::move(elements));
    }
    default:
      return RedisReply::Nil();
  }
}

// Error replies that mean "not now" rather than "wrong": a retry of the same call can succeed.
// READONLY: the server was demoted to a replica (a failover); the primary is elsewhere now.
bool IsTransientError(absl::string_view message) {
  for (absl::string_view prefix :
       {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"}) {
    if (absl::StartsWith(message, prefix)) return true;
  }
  return false;
}

// Error replies that mean the credentials are wrong or missing, or the ACL user lacks a right.
bool IsAuthError(absl::string_view message) {
  for (absl::string_view prefix : {"NOAUTH", "WRONGPASS", "NOPERM"}) {
    if (absl::StartsWith(message, prefix)) return true;
  }
  return false;
}

// Who we authenticate as, for messages: the user name only, never the password.
std::string AuthHint(const RedisOptions& options) {
  if (options.password.empty()) {
    return "no credentials were sent; set --redis_user and --redis_password_file";
  }
  return absl::StrCat("authenticating as user \"", options.user.empty() ? "default" : options.user,
                      "\"; check --redis_user and --redis_password_file");
}

absl::Status ReplyError(const RedisOptions& options, absl::string_view command,
                        absl::string_view message) {
  std::string text = absl::StrCat("redis ", command, ": ", message);
  if (IsAuthError(message)) {
    return absl::UnavailableError(absl::StrCat(text, " (", AuthHint(options), ")"));
  }
  if (IsTransientError(message)) return absl::UnavailableError(text);
  return absl::InternalError(text);
}

// True when an idle connection can still be used: a readable socket with no request outstanding
// means the server closed it (EOF) or sent something unexpected; either way drop it.
bool LooksHealthy(const redisContext& context) {
  if (context.err != 0) return false;
  pollfd fd{};
  fd.fd = context.fd;
  fd.events = POLLIN;
  return poll(&fd, 1, 0) == 0;
}

}  // namespace

void RedisPool::ContextDeleter::operator()(redisContext* context) const { redisFree(context); }

RedisPool::RedisPool(RedisOptions options)
    : options_(std::move(options)), address_(absl::StrCat(options_.host, ":", options_.port)) {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
}

RedisPool::~RedisPool() = default;

int RedisPool::idle_connections() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

absl::StatusOr<RedisReply> RedisPool::Command(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, Run(std::span(&argv, 1)));
  return std::move(replies.front());
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  return Run(commands);
}

absl::Status RedisPool::IoError(const redisContext& context) const {
  std::string reason = context.errstr;
  // hiredis reports an expired SO_RCVTIMEO/SO_SNDTIMEO as EAGAIN.
  if (context.err == REDIS_ERR_IO && absl::StrContains(reason, strerror(EAGAIN))) {
    reason = absl::StrCat("timed out after ", absl::FormatDuration(options_.command_timeout));
  }
  if (reason.empty()) reason = "connection failed";
  return absl::UnavailableError(absl::StrCat("redis ", address_, ": ", reason));
}

absl::StatusOr<RedisPool::Connection> RedisPool::Connect() {
  Connection connection(redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                                absl::ToTimeval(options_.connect_timeout)));
  if (connection == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis connect ", address_, ": out of memory"));
  }
  if (connection->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("redis connect ", address_, ": ", connection->errstr));
  }
  if (!options_.password.empty()) {
    // AUTH is part of connecting, so it gets the connect timeout.
    redisSetTimeout(connection.get(), absl::ToTimeval(options_.connect_timeout));
    std::vector<const char*> argv = {"AUTH"};
    std::vector<size_t> lengths = {4};
    if (!options_.user.empty()) {
      argv.push_back(options_.user.data());
      lengths.push_back(options_.user.size());
    }
    argv.push_back(options_.password.data());
    lengths.push_back(options_.password.size());
    auto* reply = static_cast<redisReply*>(redisCommandArgv(
        connection.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) return IoError(*connection);
    bool failed = reply->type == REDIS_REPLY_ERROR;
    std::string message = failed ? std::string(reply->str, reply->len) : "";
    freeReplyObject(reply);
    // Unavailable rather than Internal: callers must fail closed and a fixed password recovers.
    // Redis' message (WRONGPASS ...) never echoes the password.
    if (failed) {
      return absl::UnavailableError(
          absl::StrCat("redis AUTH ", address_, ": ", message, " (", AuthHint(options_), ")"));
    }
  }
  if (redisSetTimeout(connection.get(), absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    return IoError(*connection);
  }
  return connection;
}

absl::StatusOr<RedisPool::Connection> RedisPool::Acquire() {
  while (true) {
    Connection connection;
    {
      absl::MutexLock lock(&mu_);
      if (idle_.empty()) break;
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    if (LooksHealthy(*connection)) return connection;
  }
  return Connect();
}

void RedisPool::Release(Connection connection) {
  if (connection->err != 0) return;
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_connections) {
    idle_.push_back(std::move(connection));
  }
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::Run(
    std::span<const std::vector<std::string>> commands) {
  std::vector<RedisReply> replies;
  if (commands.empty()) return replies;
  for (const std::vector<std::string>& argv : commands) {
    if (argv.empty()) return absl::InvalidArgumentError("redis: empty command");
  }
  ASSIGN_OR_RETURN(Connection connection, Acquire());

  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::vector<std::string>& argv : commands) {
    args.clear();
    lengths.clear();
    for (const std::string& arg : argv) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(connection.get(), static_cast<int>(argv.size()), args.data(),
                               lengths.data()) != REDIS_OK) {
      return IoError(*connection);
    }
  }

  replies.reserve(commands.size());
  absl::Status first_error;
  for (const std::vector<std::string>& argv : commands) {
    void* raw = nullptr;
    if (redisGetReply(connection.get(), &raw) != REDIS_OK || raw == nullptr) {
      return IoError(*connection);  // the connection is dropped with `connection`
    }
    auto* reply = static_cast<redisReply*>(raw);
    RedisReply converted = Convert(*reply);
    freeReplyObject(reply);
    if (converted.is_error() && first_error.ok()) {
      first_error = ReplyError(options_, argv.front(), converted.str());
    }
    replies.push_back(std::move(converted));
  }
  Release(std::move(connection));
  if (!first_error.ok()) return first_error;
  return replies;
}

}  // namespace smp
