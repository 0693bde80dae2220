#ifndef SMP_COMMON_AUTH_SESSION_MAC_H_
#define SMP_COMMON_AUTH_SESSION_MAC_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// The keys that sign session records in Redis and check them, so that whoever can write to Redis
// still cannot make a session: a record is accepted only with the HMAC-SHA256 (libsodium) of its
// token hash and every one of its fields under a key only the services hold.
//
// Rotation: records are signed with the current key and accepted under the current or the
// previous key. To rotate, give every service the new key as current and the old one as previous,
// restart them all, and drop the previous key once the longest session lifetime has passed
// (README "Security model"). Copyable; thread-safe (const after construction).
class SessionMac {
 public:
  // A session record's fields in their fixed order, (name, value).
  using Fields = std::vector<std::pair<std::string, std::string>>;

  static constexpr size_t kMinKeyBytes = 32;

  // INVALID_ARGUMENT when `current_key` (or a non-empty `previous_key`) is shorter than
  // kMinKeyBytes. The keys are used as given (any bytes).
  static absl::StatusOr<SessionMac> Create(std::string current_key, std::string previous_key = "");

  // The keys from files (ReadSecretFile: owner-only, exact bytes, at least kMinKeyBytes);
  // `previous_path` may be empty. FAILED_PRECONDITION / INVALID_ARGUMENT naming the flag and the
  // path, never a key.
  static absl::StatusOr<SessionMac> FromFiles(const std::string& current_path,
                                              const std::string& previous_path);

  // A random key made once per process: records it signs verify only in this process, so it can
  // never let a forged record in, but it is of no use across processes. For tests and tools that
  // create and check sessions in one process; services use FromFiles.
  static const SessionMac& ProcessLocal();

  // The MAC (64 lower-case hex characters) of `token_hash` and `fields` under the current key.
  std::string Sign(absl::string_view token_hash, const Fields& fields) const;

  // True when `mac` is the MAC of `token_hash` and `fields` under the current or the previous
  // key. Compares in constant time.
  bool Verify(absl::string_view token_hash, const Fields& fields, absl::string_view mac) const;

  bool has_previous_key() const { return !previous_key_.empty(); }

 private:
  SessionMac(std::string current_key, std::string previous_key)
      : current_key_(std::move(current_key)), previous_key_(std::move(previous_key)) {}

  std::string current_key_;
  std::string previous_key_;  // empty: none
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_SESSION_MAC_H_
