#include "common/redis/redis_client.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace smp {

absl::StatusOr<RedisOptions> ParseRedisAddress(absl::string_view host_port) {
  RedisOptions options;
  absl::string_view host = host_port;
  absl::string_view port;
  if (absl::ConsumePrefix(&host, "[")) {  // [v6-address]:port
    size_t close = host.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis address \"", host_port, "\": missing ']' after IPv6 address"));
    }
    absl::string_view rest = host.substr(close + 1);
    host = host.substr(0, close);
    if (!rest.empty()) {
      if (!absl::ConsumePrefix(&rest, ":")) {
        return absl::InvalidArgumentError(
            absl::StrCat("redis address \"", host_port, "\": expected ':' after ']'"));
      }
      port = rest;
      if (port.empty()) port = "?";  // "[::1]:" is an empty port, not a missing one
    }
  } else {
    size_t colon = host.rfind(':');
    if (colon != absl::string_view::npos) {
      if (host.find(':') != colon) {
        return absl::InvalidArgumentError(absl::StrCat("redis address \"", host_port,
                                                       "\": write an IPv6 address as [addr]:port"));
      }
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port.empty()) port = "?";
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", host_port, "\": expected host:port, host is empty"));
  }
  if (!port.empty()) {
    int value = 0;
    if (!absl::SimpleAtoi(port, &value) || value < 1 || value > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis address \"", host_port, "\": port must be a number in 1..65535"));
    }
    options.port = value;
  }
  options.host = std::string(host);
  return options;
}

RedisReply RedisReply::Integer(int64_t value) {
  RedisReply reply;
  reply.type_ = Type::kInteger;
  reply.integer_ = value;
  return reply;
}

RedisReply RedisReply::String(std::string value) {
  RedisReply reply;
  reply.type_ = Type::kString;
  reply.str_ = std::move(value);
  return reply;
}

RedisReply RedisReply::Status(std::string value) {
  RedisReply reply;
  reply.type_ = Type::kStatus;
  reply.str_ = std::move(value);
  return reply;
}

RedisReply RedisReply::Error(std::string message) {
  RedisReply reply;
  reply.type_ = Type::kError;
  reply.str_ = std::move(message);
  return reply;
}

RedisReply RedisReply::Array(std::vector<RedisReply> elements) {
  RedisReply reply;
  reply.type_ = Type::kArray;
  reply.elements_ = std::move(elements);
  return reply;
}

std::string RedisReply::DebugString() const {
  switch (type_) {
    case Type::kNil:
      return "(nil)";
    case Type::kInteger:
      return absl::StrCat(integer_);
    case Type::kString:
      return absl::StrCat("\"", str_, "\"");
    case Type::kStatus:
      return str_;
    case Type::kError:
      return absl::StrCat("(error) ", str_);
    case Type::kArray:
      return absl::StrCat("[",
                          absl::StrJoin(elements_, ", ",
                                        [](std::string* out, const RedisReply& r) {
                                          out->append(r.DebugString());
                                        }),
                          "]");
  }
  return "?";
}

absl::StatusOr<std::vector<RedisReply>> RunTransaction(
    RedisClient& client, const std::vector<std::vector<std::string>>& commands) {
  ASSIGN_OR_RETURN(ReplicatedReplies done,
                   RunTransactionAndWait(client, commands, 0, absl::ZeroDuration()));
  return std::move(done.replies);
}

absl::StatusOr<ReplicatedReplies> RunTransactionAndWait(
    RedisClient& client, const std::vector<std::vector<std::string>>& commands, int replicas,
    absl::Duration timeout) {
  std::vector<std::vector<std::string>> wrapped;
  wrapped.reserve(commands.size() + 3);
  wrapped.push_back({"MULTI"});
  wrapped.insert(wrapped.end(), commands.begin(), commands.end());
  wrapped.push_back({"EXEC"});
  if (replicas > 0) {
    // WAIT 0 would block forever; a timeout under 1 ms rounds up.
    wrapped.push_back({"WAIT", absl::StrCat(replicas),
                       absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)))});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = client.Pipeline(wrapped);
  if (!replies.ok()) return replies.status();
  if (replies->size() != wrapped.size()) {
    return absl::InternalError(
        absl::StrCat("redis EXEC: expected ", wrapped.size(), " replies, got ", replies->size()));
  }
  ReplicatedReplies done;
  if (replicas > 0) {
    const RedisReply& wait = replies->back();
    if (!wait.is_integer()) {
      return absl::InternalError(absl::StrCat("redis WAIT: unexpected reply ", wait.DebugString()));
    }
    done.replicas_acked = wait.integer();
  }
  RedisReply& exec = (*replies)[commands.size() + 1];
  if (exec.is_nil()) return absl::AbortedError("redis EXEC: transaction aborted");
  if (!exec.is_array() || exec.elements().size() != commands.size()) {
    return absl::InternalError(absl::StrCat("redis EXEC: unexpected reply ", exec.DebugString()));
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    const RedisReply& reply = exec.elements()[i];
    if (reply.is_error()) {
      return absl::InternalError(
          absl::StrCat("redis ", commands[i].empty() ? "" : commands[i][0], ": ", reply.str()));
    }
  }
  done.replies = std::move(exec.mutable_elements());
  return done;
}

}  // namespace smp
