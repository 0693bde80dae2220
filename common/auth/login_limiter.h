#ifndef SMP_COMMON_AUTH_LOGIN_LIMITER_H_
#define SMP_COMMON_AUTH_LOGIN_LIMITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "common/util/clock.h"

namespace smp {

// Limits on failed logins.
//
// Per account (humans): no hard lockout, which would let anyone lock anyone out. The first
// `free_failures_per_account` failures cost nothing; after that each attempt must wait
// first_delay * 2^(failures - free_failures_per_account) since the latest failure, at most
// max_delay (defaults: 1 s, 2 s, 4 s ... 32 s, then 60 s for every further one). The count is
// forgotten `account_memory` after the latest failure, and cleared by a successful login.
//
// Per client address (any usernames): `max_failures_per_address` failures in a fixed `window`
// from the first, then refused until the window ends. IPv6 clients are counted per /64
// (AddressBucket), the block one subscriber usually holds, so rotating through one's own /64 does
// not escape the limit.
struct LoginLimitPolicy {
  int free_failures_per_account = 5;
  absl::Duration first_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Seconds(60);
  absl::Duration account_memory = absl::Minutes(15);
  int max_failures_per_address = 20;
  absl::Duration window = absl::Minutes(15);
};

// How long an attempt must wait after the latest of `failures` failures of one account (zero
// while failures < free_failures_per_account).
absl::Duration LoginDelay(const LoginLimitPolicy& policy, int64_t failures);

// Whether the per-account limit applies. Service accounts (ROLE_SERVICE) are exempt: their
// usernames are predictable, and delaying them would stop bookings and outbox delivery for
// everyone. They still count towards (and are held by) the per-address limit.
enum class AccountLimit { kApply, kExempt };

// The client IP of a gRPC peer string, for limiting per address: "ipv4:10.0.0.5:5312" ->
// "10.0.0.5", "ipv6:[::1]:5312" -> "::1", "ipv6:%5B::1%5D:5312" -> "::1". Anything else (e.g.
// "unix:/run/smp.sock") is returned unchanged, so all such clients share one counter.
std::string ClientIp(absl::string_view peer);

// What the per-address limit counts: the IPv4 address; for IPv6 its /64 ("2001:db8:1:2::/64"),
// an IPv4-mapped IPv6 address as its IPv4; anything else as ClientIp gives it.
std::string AddressBucket(absl::string_view peer);

// Login attempt limiting in Redis, shared by every identity replica (each update is one Lua
// script, so a counter can never be left without its expiry). Usernames are compared ASCII
// case-insensitively; addresses are reduced to AddressBucket, so a client cannot escape the limit
// by reconnecting from another port or address of its /64. Kept under
//   smp:login_delay:account:<lower-case username>   hash: count, last_ms (latest failure)
//   smp:login_failures:address:<bucket>              counter
// Errors of every method: UNAVAILABLE / INTERNAL from Redis (the caller should refuse the login:
// without Redis there are no sessions anyway). Thread-safe.
class LoginLimiter {
 public:
  // `redis` and `clock` must outlive the limiter. Aborts on a non-positive window, delay or
  // maximum (bad config).
  LoginLimiter(RedisClient* redis, LoginLimitPolicy policy, const Clock& clock = Clock::Real());

  // OK when the attempt may go ahead, else RESOURCE_EXHAUSTED: "too many failed logins for this
  // account; wait N seconds before trying again" (N rounded up) or "too many failed logins from
  // this address; try again in N minutes". Call before checking the password, so a throttled
  // attempt does not reveal whether a guess was right. An empty client_address skips that check.
  absl::Status CheckAllowed(absl::string_view username, absl::string_view client_address,
                            AccountLimit account_limit = AccountLimit::kApply);

  // Counts a failed login against the account (unless exempt) and the address.
  absl::Status RecordFailure(absl::string_view username, absl::string_view client_address,
                             AccountLimit account_limit = AccountLimit::kApply);

  // Clears the account's count after a successful login. The address counter is kept, so one
  // valid account cannot be used to reset an address that is guessing at others.
  absl::Status RecordSuccess(absl::string_view username);

  static std::string AccountKey(absl::string_view username);
  static std::string AddressKey(absl::string_view client_address);

  const LoginLimitPolicy& policy() const { return policy_; }

 private:
  RedisClient* const redis_;
  const LoginLimitPolicy policy_;
  const Clock& clock_;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_LOGIN_LIMITER_H_
