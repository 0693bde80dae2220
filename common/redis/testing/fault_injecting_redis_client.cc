#include "common/redis/testing/fault_injecting_redis_client.h"

#include "absl/status/status.h"

namespace smp::testing {
namespace {

absl::Status Down() { return absl::UnavailableError("redis (fault injected): connection refused"); }

}  // namespace

absl::StatusOr<RedisReply> FaultInjectingRedisClient::Command(
    const std::vector<std::string>& argv) {
  if (down_.load()) {
    ++failed_calls_;
    return Down();
  }
  ++calls_;
  return target_->Command(argv);
}

absl::StatusOr<std::vector<RedisReply>> FaultInjectingRedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (down_.load()) {
    ++failed_calls_;
    return Down();
  }
  ++calls_;
  return target_->Pipeline(commands);
}

}  // namespace smp::testing
