#ifndef SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_
#define SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smp::identity {

// Slow salted password hashing: argon2id (libsodium crypto_pwhash_str), with OWASP's minimum
// parameters (19 MiB, 2 passes) by default. The parameters and salt are stored inside the hash
// string, so raising them later leaves old hashes verifiable.
//
// Each hash takes ~19 MiB for ~50 ms; at most `max_concurrent` run at once so that a burst of
// logins cannot exhaust memory or starve other RPCs of CPU. A call waits at most `gate_wait` for
// its turn; past that it fails with UNAVAILABLE (reason PASSWORD_CHECK_BUSY, "too many password
// checks are running; try again in a moment") instead of holding a handler thread for as long as
// the queue is. Thread-safe.
class PasswordHasher {
 public:
  struct Params {
    unsigned long long ops_limit = 2;  // passes
    size_t mem_limit = 19u << 20;      // bytes
    int max_concurrent = 2;
    absl::Duration gate_wait = absl::Seconds(2);
  };

  // A counting semaphore with a deadline: at most `slots` holders at once.
  class Gate {
   public:
    explicit Gate(int slots) : free_(slots) {}
    // Takes a slot, waiting until `deadline`; false if none came free by then.
    bool Enter(absl::Time deadline);
    void Leave();

   private:
    absl::Mutex mu_;
    int free_ ABSL_GUARDED_BY(mu_);
  };

  PasswordHasher();
  explicit PasswordHasher(Params params);
  ~PasswordHasher();

  // The encoded hash ("$argon2id$v=19$m=...") of `password`. UNAVAILABLE when the gate is busy.
  absl::StatusOr<std::string> Hash(absl::string_view password) const;
  // True when `password` matches `encoded`. A malformed hash never matches. UNAVAILABLE when the
  // gate is busy.
  absl::StatusOr<bool> Verify(absl::string_view password, absl::string_view encoded) const;
  // Spends the same time as a Verify against a real hash, so that a login for an unknown user takes
  // as long as one with a wrong password (no user enumeration by timing). UNAVAILABLE as Verify.
  absl::Status VerifyDummy(absl::string_view password) const;

  // The gate, for tests that need it full.
  Gate& gate_for_testing() const { return *gate_; }

 private:
  absl::Status Busy() const;
  absl::StatusOr<std::string> HashUngated(absl::string_view password) const;

  Params params_;
  std::string dummy_hash_;
  std::unique_ptr<Gate> gate_;
};

// Password policy (NIST SP 800-63B style: length, not composition rules): 10..256 characters, not
// only whitespace. INVALID_ARGUMENT naming `field`.
absl::Status ValidatePassword(absl::string_view field, absl::string_view password);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_PASSWORD_HASHER_H_
