#include "common/redis/sentinel_client.h"

#include <algorithm>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

constexpr int kDefaultSentinelPort = 26379;

std::string Address(const RedisOptions& options) {
  return absl::StrCat(options.host, ":", options.port);
}

bool IsReadOnly(const absl::Status& status) {
  return absl::StrContains(status.message(), "READONLY");
}

}  // namespace

absl::StatusOr<std::vector<RedisOptions>> ParseSentinelAddresses(absl::string_view list) {
  std::vector<RedisOptions> sentinels;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis sentinels \"", list, "\": empty element; expected host:port,..."));
    }
    ASSIGN_OR_RETURN(RedisOptions sentinel, ParseRedisAddress(item));
    // ParseRedisAddress defaults to Redis' port; a bare sentinel host means Sentinel's.
    if (!absl::StrContains(item, ":") || absl::EndsWith(item, "]")) {
      sentinel.port = kDefaultSentinelPort;
    }
    sentinels.push_back(std::move(sentinel));
  }
  return sentinels;
}

absl::StatusOr<std::map<std::string, std::string>> ParseAddressMap(absl::string_view list) {
  std::map<std::string, std::string> map;
  if (absl::StripAsciiWhitespace(list).empty()) return map;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> sides = absl::StrSplit(absl::StripAsciiWhitespace(item), '=');
    if (sides.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("redis address map element \"", item,
                                                     "\": expected reported=dial, each host:port"));
    }
    ASSIGN_OR_RETURN(RedisOptions reported, ParseRedisAddress(sides[0]));
    ASSIGN_OR_RETURN(RedisOptions dial, ParseRedisAddress(sides[1]));
    map[Address(reported)] = Address(dial);
  }
  return map;
}

SentinelRedisClient::SentinelRedisClient(SentinelOptions options)
    : options_(std::move(options)), backoff_(options_.min_backoff) {
  for (const RedisOptions& address : options_.sentinels) {
    RedisOptions sentinel = options_.redis;
    sentinel.host = address.host;
    sentinel.port = address.port;
    sentinel.user = options_.sentinel_user;
    sentinel.password = options_.sentinel_password;
    sentinel.max_idle_connections = 1;
    sentinels_.push_back(std::make_unique<RedisPool>(std::move(sentinel)));
  }
}

std::string SentinelRedisClient::primary_address() const {
  absl::MutexLock lock(&mu_);
  return primary_ == nullptr ? "" : Address(primary_->options());
}

int SentinelRedisClient::primary_changes() const {
  absl::MutexLock lock(&mu_);
  return primary_changes_;
}

absl::StatusOr<RedisReply> SentinelRedisClient::Command(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, Run({argv}));
  return std::move(replies.front());
}

absl::StatusOr<std::vector<RedisReply>> SentinelRedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  return Run(commands);
}

absl::StatusOr<std::vector<RedisReply>> SentinelRedisClient::Run(
    const std::vector<std::vector<std::string>>& commands) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<RedisPool> pool, Primary());
    absl::StatusOr<std::vector<RedisReply>> replies = pool->Pipeline(commands);
    if (replies.ok() || !absl::IsUnavailable(replies.status())) return replies;
    Forget(pool);
    // A READONLY answer applied nothing (a replica refuses every write), so one repetition on
    // the new primary is safe; a lost connection may have applied a write, so it is not.
    if (attempt > 0 || !IsReadOnly(replies.status())) return replies;
  }
}

void SentinelRedisClient::Forget(const std::shared_ptr<RedisPool>& pool) {
  absl::MutexLock lock(&mu_);
  if (primary_ != pool) return;
  primary_ = nullptr;
  last_error_ = absl::UnavailableError(
      absl::StrCat("redis primary ", Address(pool->options()), " stopped answering"));
  retry_at_ = absl::InfinitePast();  // the next call asks the sentinels at once
}

absl::StatusOr<std::shared_ptr<RedisPool>> SentinelRedisClient::Primary() {
  auto usable = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> bool {
    if (primary_ != nullptr) return absl::Now() - verified_at_ < options_.recheck_interval;
    return absl::Now() < retry_at_;  // in backoff: answer with the last error
  };
  {
    absl::MutexLock lock(&mu_);
    if (usable()) {
      if (primary_ != nullptr) return primary_;
      return last_error_;
    }
  }
  if (!discover_mu_.TryLock()) {
    // Another thread is asking the sentinels: a re-check keeps the primary meanwhile; without
    // one, wait for that discovery's answer.
    {
      absl::MutexLock lock(&mu_);
      if (primary_ != nullptr) return primary_;
    }
    absl::MutexLock wait(&discover_mu_);
    absl::MutexLock lock(&mu_);
    if (primary_ != nullptr) return primary_;
    return last_error_;
  }
  {
    absl::MutexLock lock(&mu_);
    if (usable()) {  // another thread discovered between our check and TryLock
      discover_mu_.Unlock();
      if (primary_ != nullptr) return primary_;
      return last_error_;
    }
  }
  absl::StatusOr<std::shared_ptr<RedisPool>> found = Discover();
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (found.ok()) {
    if (primary_ == nullptr || Address(primary_->options()) != Address((*found)->options())) {
      primary_ = *std::move(found);
      ++primary_changes_;
    }
    verified_at_ = now;
    backoff_ = options_.min_backoff;
  } else if (primary_ != nullptr) {
    // A failed re-check while the primary still answers (the sentinels are unreachable, say):
    // keep it; a call it fails makes the next one discover.
    verified_at_ = now;
  } else {
    last_error_ = found.status();
    retry_at_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
  discover_mu_.Unlock();
  if (primary_ != nullptr) return primary_;
  return last_error_;
}

absl::StatusOr<RedisOptions> SentinelRedisClient::AskSentinel(RedisPool& sentinel) {
  ASSIGN_OR_RETURN(RedisReply reply,
                   sentinel.Command({"SENTINEL", "get-master-addr-by-name", options_.master_name}));
  if (reply.is_nil()) {
    return absl::UnavailableError(absl::StrCat("sentinel ", Address(sentinel.options()),
                                               " does not know master \"", options_.master_name,
                                               "\" (check --redis_master_name)"));
  }
  if (!reply.is_array() || reply.elements().size() != 2 || !reply.elements()[0].is_string() ||
      !reply.elements()[1].is_string()) {
    return absl::UnavailableError(
        absl::StrCat("sentinel ", Address(sentinel.options()), " answered ", reply.DebugString()));
  }
  std::string reported = absl::StrCat(reply.elements()[0].str(), ":", reply.elements()[1].str());
  if (absl::StrContains(reply.elements()[0].str(), ":")) {  // an IPv6 address
    reported = absl::StrCat("[", reply.elements()[0].str(), "]:", reply.elements()[1].str());
  }
  if (auto mapped = options_.address_map.find(reported); mapped != options_.address_map.end()) {
    reported = mapped->second;
  }
  ASSIGN_OR_RETURN(RedisOptions primary, ParseRedisAddress(reported));
  RedisOptions options = options_.redis;
  options.host = primary.host;
  options.port = primary.port;
  return options;
}

absl::StatusOr<std::shared_ptr<RedisPool>> SentinelRedisClient::Discover() {
  if (sentinels_.empty()) return absl::FailedPreconditionError("redis: no sentinels configured");
  size_t start = 0;
  std::shared_ptr<RedisPool> current;  // reused for ROLE when the sentinels name it again
  {
    absl::MutexLock lock(&mu_);
    start = next_sentinel_;
    current = primary_;
  }
  std::vector<std::string> problems;
  std::vector<std::string> tried;  // primaries already asked ROLE in this discovery
  for (size_t i = 0; i < sentinels_.size(); ++i) {
    const size_t index = (start + i) % sentinels_.size();
    RedisPool& sentinel = *sentinels_[index];
    absl::StatusOr<RedisOptions> named = AskSentinel(sentinel);
    if (!named.ok()) {
      problems.push_back(std::string(named.status().message()));
      continue;
    }
    const std::string address = Address(*named);
    if (std::find(tried.begin(), tried.end(), address) != tried.end()) continue;
    tried.push_back(address);
    std::shared_ptr<RedisPool> pool = current;
    if (pool == nullptr || Address(pool->options()) != address) {
      pool = std::make_shared<RedisPool>(*std::move(named));
    }
    absl::StatusOr<RedisReply> role = pool->Command({"ROLE"});
    if (!role.ok()) {
      problems.push_back(absl::StrCat("sentinel ", Address(sentinel.options()), " named ", address,
                                      ": ", role.status().message()));
      continue;
    }
    if (!role->is_array() || role->elements().empty() || role->elements()[0].str() != "master") {
      problems.push_back(absl::StrCat(
          "sentinel ", Address(sentinel.options()), " named ", address, ", whose ROLE is ",
          role->is_array() && !role->elements().empty() ? role->elements()[0].str() : "unknown"));
      continue;
    }
    absl::MutexLock lock(&mu_);
    next_sentinel_ = index;
    return pool;
  }
  return absl::UnavailableError(absl::StrCat("redis: no primary for \"", options_.master_name,
                                             "\": ", absl::StrJoin(problems, "; ")));
}

}  // namespace smp
