#include "common/auth/login_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

// One more failure of an account: count it, note when, and forget it all ARGV[1] ms after this
// latest failure (sliding, so an account under steady attack stays at the longest delay).
constexpr char kAccountFailureScript[] = R"lua(
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last_ms', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
)lua";

// One more failure from an address: a fixed window that starts at the first failure. Atomic, so
// a crash between INCR and PEXPIRE cannot block an address forever.
constexpr char kAddressFailureScript[] = R"lua(
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0
)lua";

// "try again in N minutes" with N rounded up, at least 1.
std::string MinutesLeft(int64_t pttl_millis, absl::Duration window) {
  absl::Duration left = pttl_millis > 0 ? absl::Milliseconds(pttl_millis) : window;
  int64_t minutes = std::max<int64_t>(1, absl::ToInt64Minutes(absl::Ceil(left, absl::Minutes(1))));
  return absl::StrCat(minutes, minutes == 1 ? " minute" : " minutes");
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

absl::Duration LoginDelay(const LoginLimitPolicy& policy, int64_t failures) {
  if (failures < policy.free_failures_per_account) return absl::ZeroDuration();
  const int64_t doublings = failures - policy.free_failures_per_account;
  absl::Duration delay = policy.first_delay;
  for (int64_t i = 0; i < doublings && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

std::string ClientIp(absl::string_view peer) {
  std::string decoded = absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}, {"%25", "%"}});
  absl::string_view rest = decoded;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    return std::string(rest.substr(0, rest.rfind(':')));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    if (absl::ConsumePrefix(&rest, "[")) return std::string(rest.substr(0, rest.find(']')));
    return std::string(rest);
  }
  return std::string(peer);
}

std::string AddressBucket(absl::string_view peer) {
  std::string ip = ClientIp(peer);
  if (ip.find(':') == std::string::npos) return ip;
  // A zone ("fe80::1%eth0") does not change the /64.
  std::string address = ip.substr(0, ip.find('%'));
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, address.c_str(), bytes) != 1) return ip;
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    return absl::StrCat(bytes[12], ".", bytes[13], ".", bytes[14], ".", bytes[15]);
  }
  std::memset(bytes + 8, 0, 8);
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, bytes, text, sizeof(text)) == nullptr) return ip;
  return absl::StrCat(text, "/64");
}

std::string LoginLimiter::AccountKey(absl::string_view username) {
  return absl::StrCat("smp:login_delay:account:", absl::AsciiStrToLower(username));
}

std::string LoginLimiter::AddressKey(absl::string_view client_address) {
  return absl::StrCat("smp:login_failures:address:", AddressBucket(client_address));
}

LoginLimiter::LoginLimiter(RedisClient* redis, LoginLimitPolicy policy, const Clock& clock)
    : redis_(redis), policy_(policy), clock_(clock) {
  if (policy_.window <= absl::ZeroDuration() || policy_.account_memory <= absl::ZeroDuration() ||
      policy_.first_delay <= absl::ZeroDuration() || policy_.max_delay < policy_.first_delay ||
      policy_.free_failures_per_account <= 0 || policy_.max_failures_per_address <= 0) {
    std::fprintf(stderr,
                 "LoginLimiter: invalid policy: window %s, account memory %s, first delay %s, "
                 "free failures per account %d and max failures per address %d must be "
                 "positive, max delay %s at least the first\n",
                 absl::FormatDuration(policy_.window).c_str(),
                 absl::FormatDuration(policy_.account_memory).c_str(),
                 absl::FormatDuration(policy_.first_delay).c_str(),
                 policy_.free_failures_per_account, policy_.max_failures_per_address,
                 absl::FormatDuration(policy_.max_delay).c_str());
    std::abort();
  }
}

absl::Status LoginLimiter::CheckAllowed(absl::string_view username,
                                        absl::string_view client_address,
                                        AccountLimit account_limit) {
  std::vector<std::vector<std::string>> commands = {
      {"HMGET", AccountKey(username), "count", "last_ms"}};
  if (!client_address.empty()) {
    commands.push_back({"GET", AddressKey(client_address)});
    commands.push_back({"PTTL", AddressKey(client_address)});
  }
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Pipeline(commands));
  auto number = [](const RedisReply& reply) {
    int64_t value = 0;
    return reply.is_string() && absl::SimpleAtoi(reply.str(), &value) ? value : 0;
  };
  if (account_limit == AccountLimit::kApply && replies[0].elements().size() == 2) {
    const int64_t failures = number(replies[0].elements()[0]);
    const absl::Time last = absl::FromUnixMillis(number(replies[0].elements()[1]));
    const absl::Duration wait = last + LoginDelay(policy_, failures) - clock_.Now();
    if (wait > absl::ZeroDuration()) {
      const int64_t seconds =
          std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
      return absl::ResourceExhaustedError(
          absl::StrCat("too many failed logins for this account; wait ", seconds,
                       seconds == 1 ? " second" : " seconds", " before trying again"));
    }
  }
  if (!client_address.empty() && number(replies[1]) >= policy_.max_failures_per_address) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many failed logins from this address; try again in ",
                     MinutesLeft(replies[2].integer(), policy_.window)));
  }
  return absl::OkStatus();
}

absl::Status LoginLimiter::RecordFailure(absl::string_view username,
                                         absl::string_view client_address,
                                         AccountLimit account_limit) {
  std::vector<std::vector<std::string>> scripts;
  if (account_limit == AccountLimit::kApply) {
    scripts.push_back({"EVAL", kAccountFailureScript, "1", AccountKey(username),
                       Millis(policy_.account_memory),
                       absl::StrCat(absl::ToUnixMillis(clock_.Now()))});
  }
  if (!client_address.empty()) {
    scripts.push_back(
        {"EVAL", kAddressFailureScript, "1", AddressKey(client_address), Millis(policy_.window)});
  }
  if (scripts.empty()) return absl::OkStatus();
  return redis_->Pipeline(scripts).status();
}

absl::Status LoginLimiter::RecordSuccess(absl::string_view username) {
  return redis_->Command({"DEL", AccountKey(username)}).status();
}

}  // namespace smp
