#ifndef SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_
#define SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp::identity {

// Slow salted password hashing: argon2id (libsodium crypto_pwhash_str), with OWASP's minimum
// parameters (19 MiB, 2 passes) by default. The parameters and salt are stored inside the hash
// string, so raising them later leaves old hashes verifiable.
//
// Each hash takes ~19 MiB for ~50 ms; at most `max_concurrent` run at once so that a burst of
// logins cannot exhaust memory or starve other RPCs of CPU. Thread-safe.
class PasswordHasher {
 public:
  struct Params {
    unsigned long long ops_limit = 2;  // passes
    size_t mem_limit = 19u << 20;      // bytes
    int max_concurrent = 2;
  };

  PasswordHasher();
  explicit PasswordHasher(Params params);
  ~PasswordHasher();

  // The encoded hash ("$argon2id$v=19$m=...") of `password`.
  absl::StatusOr<std::string> Hash(absl::string_view password) const;
  // True when `password` matches `encoded`. A malformed hash never matches.
  bool Verify(absl::string_view password, absl::string_view encoded) const;
  // Spends the same time as a Verify against a real hash, so that a login for an unknown user takes
  // as long as one with a wrong password (no user enumeration by timing).
  void VerifyDummy(absl::string_view password) const;

 private:
  class Gate;
  Params params_;
  std::string dummy_hash_;
  std::unique_ptr<Gate> gate_;
};

// Password policy (NIST SP 800-63B style: length, not composition rules): 10..256 characters, not
// only whitespace. INVALID_ARGUMENT naming `field`.
absl::Status ValidatePassword(absl::string_view field, absl::string_view password);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_
