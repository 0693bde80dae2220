#ifndef SMP_COMMON_AUTH_LOGIN_LIMITER_H_
#define SMP_COMMON_AUTH_LOGIN_LIMITER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"

namespace smp {

// Limits on failed logins, counted in fixed windows.
struct LoginLimitPolicy {
  // Failures of one account (by username, from anywhere) before it is locked for the window.
  int max_failures_per_account = 5;
  // Failures from one client IP address (any usernames) before it is locked for the window.
  int max_failures_per_address = 20;
  // A counter starts at the first failure and resets this long after it (not after the latest).
  absl::Duration window = absl::Minutes(15);
};

// The client IP of a gRPC peer string, for limiting per address: "ipv4:10.0.0.5:5312" ->
// "10.0.0.5", "ipv6:[::1]:5312" -> "::1", "ipv6:%5B::1%5D:5312" -> "::1". Anything else (e.g.
// "unix:/run/smp.sock") is returned unchanged, so all such clients share one counter.
std::string ClientIp(absl::string_view peer);

// Login attempt limiting in Redis, shared by every identity replica (INCR + PEXPIRE in one script,
// so a counter can never be left without its expiry). Usernames are compared ASCII
// case-insensitively; addresses are reduced to the IP (ClientIp), so a client cannot escape the
// limit by reconnecting from another port. Counters are kept under
//   smp:login_failures:account:<lower-case username>
//   smp:login_failures:address:<ip>
// Errors of every method: UNAVAILABLE / INTERNAL from Redis (the caller should refuse the login:
// without Redis there are no sessions anyway). Thread-safe.
class LoginLimiter {
 public:
  // `redis` must outlive the limiter. Aborts on a non-positive window or maximum (bad config).
  LoginLimiter(RedisClient* redis, LoginLimitPolicy policy);

  // OK while both the account and the address are under their limits, else RESOURCE_EXHAUSTED
  // "too many failed logins for this account; try again in N minutes" (or "from this address");
  // N is the time left in the window, rounded up. Call before checking the password, so a locked
  // account does not reveal whether a guess was right. An empty client_address skips that check.
  absl::Status CheckAllowed(absl::string_view username, absl::string_view client_address);

  // Counts a failed login against the account and the address.
  absl::Status RecordFailure(absl::string_view username, absl::string_view client_address);

  // Clears the account's counter after a successful login. The address counter is kept, so one
  // valid account cannot be used to reset an address that is guessing at others.
  absl::Status RecordSuccess(absl::string_view username);

  static std::string AccountKey(absl::string_view username);
  static std::string AddressKey(absl::string_view client_address);

 private:
  RedisClient* const redis_;
  const LoginLimitPolicy policy_;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_LOGIN_LIMITER_H_
