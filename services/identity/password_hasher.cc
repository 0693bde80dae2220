#include "services/identity/password_hasher.h"

#include <sodium.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/util/crypto.h"
#include "common/util/validation.h"

namespace smp::identity {

// A counting semaphore bounding concurrent hashes.
class PasswordHasher::Gate {
 public:
  explicit Gate(int slots) : free_(slots) {}
  void Enter() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* free) { return *free > 0; }, &free_));
    --free_;
  }
  void Leave() {
    absl::MutexLock lock(&mu_);
    ++free_;
  }

 private:
  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
};

PasswordHasher::PasswordHasher() : PasswordHasher(Params{}) {}

PasswordHasher::PasswordHasher(Params params)
    : params_(params), gate_(std::make_unique<Gate>(params.max_concurrent)) {
  (void)RandomBytes(1);  // initialises libsodium
  dummy_hash_ = *Hash(Base64UrlEncode(RandomBytes(16)));
}

absl::StatusOr<std::string> PasswordHasher::Hash(absl::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  gate_->Enter();
  int rc = crypto_pwhash_str_alg(out, password.data(), password.size(), params_.ops_limit,
                                 params_.mem_limit, crypto_pwhash_ALG_ARGON2ID13);
  gate_->Leave();
  if (rc != 0) return absl::ResourceExhaustedError("not enough memory to hash the password");
  return std::string(out);
}

bool PasswordHasher::Verify(absl::string_view password, absl::string_view encoded) const {
  std::string hash(encoded);  // must be NUL-terminated
  gate_->Enter();
  int rc = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size());
  gate_->Leave();
  return rc == 0;
}

PasswordHasher::~PasswordHasher() = default;

void PasswordHasher::VerifyDummy(absl::string_view password) const {
  (void)Verify(password, dummy_hash_);
}

absl::Status ValidatePassword(absl::string_view field, absl::string_view password) {
  size_t length = 0;
  if (!Utf8Length(password, &length)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is not valid UTF-8"));
  }
  if (length < 10 || absl::StripAsciiWhitespace(password).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must have at least 10 characters"));
  }
  if (length > 256) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is longer than 256 characters"));
  }
  return absl::OkStatus();
}

}  // namespace smp::identity
