#include "common/auth/login_limiter.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

// Increments each key and gives it the window as TTL if it has none: a fixed window that starts
// at the first failure. Atomic, so a crash between INCR and PEXPIRE cannot lock out forever.
constexpr char kRecordScript[] = R"lua(
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0
)lua";

// "try again in N minutes" with N rounded up, at least 1.
std::string MinutesLeft(int64_t pttl_millis, absl::Duration window) {
  absl::Duration left = pttl_millis > 0 ? absl::Milliseconds(pttl_millis) : window;
  int64_t minutes = std::max<int64_t>(1, absl::ToInt64Minutes(absl::Ceil(left, absl::Minutes(1))));
  return absl::StrCat(minutes, minutes == 1 ? " minute" : " minutes");
}

}  // namespace

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

std::string LoginLimiter::AccountKey(absl::string_view username) {
  return absl::StrCat("smp:login_failures:account:", absl::AsciiStrToLower(username));
}

std::string LoginLimiter::AddressKey(absl::string_view client_address) {
  return absl::StrCat("smp:login_failures:address:", ClientIp(client_address));
}

LoginLimiter::LoginLimiter(RedisClient* redis, LoginLimitPolicy policy)
    : redis_(redis), policy_(policy) {
  if (policy_.window <= absl::ZeroDuration() || policy_.max_failures_per_account <= 0 ||
      policy_.max_failures_per_address <= 0) {
    std::fprintf(stderr,
                 "LoginLimiter: invalid policy: window %s, max failures per account %d and per "
                 "address %d must all be positive\n",
                 absl::FormatDuration(policy_.window).c_str(), policy_.max_failures_per_account,
                 policy_.max_failures_per_address);
    std::abort();
  }
}

absl::Status LoginLimiter::CheckAllowed(absl::string_view username,
                                        absl::string_view client_address) {
  std::vector<std::vector<std::string>> commands = {{"GET", AccountKey(username)},
                                                    {"PTTL", AccountKey(username)}};
  if (!client_address.empty()) {
    commands.push_back({"GET", AddressKey(client_address)});
    commands.push_back({"PTTL", AddressKey(client_address)});
  }
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Pipeline(commands));
  auto count = [&replies](size_t i) {
    int64_t value = 0;
    return replies[i].is_string() && absl::SimpleAtoi(replies[i].str(), &value) ? value : 0;
  };
  if (count(0) >= policy_.max_failures_per_account) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many failed logins for this account; try again in ",
                     MinutesLeft(replies[1].integer(), policy_.window)));
  }
  if (!client_address.empty() && count(2) >= policy_.max_failures_per_address) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many failed logins from this address; try again in ",
                     MinutesLeft(replies[3].integer(), policy_.window)));
  }
  return absl::OkStatus();
}

absl::Status LoginLimiter::RecordFailure(absl::string_view username,
                                         absl::string_view client_address) {
  std::vector<std::string> eval = {"EVAL", kRecordScript, client_address.empty() ? "1" : "2",
                                   AccountKey(username)};
  if (!client_address.empty()) eval.push_back(AddressKey(client_address));
  eval.push_back(absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(policy_.window))));
  return redis_->Command(eval).status();
}

absl::Status LoginLimiter::RecordSuccess(absl::string_view username) {
  return redis_->Command({"DEL", AccountKey(username)}).status();
}

}  // namespace smp
