#include "services/identity/password_hasher.h"

#include <sodium.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status/error_details.h"
#include "common/util/crypto.h"
#include "common/util/validation.h"
#include "services/identity/identity_reasons.h"

namespace smp::identity {

bool PasswordHasher::Gate::Enter(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithDeadline(absl::Condition(
                                 +[](int* free) { return *free > 0; }, &free_),
                             deadline)) {
    return false;
  }
  --free_;
  return true;
}

void PasswordHasher::Gate::Leave() {
  absl::MutexLock lock(&mu_);
  ++free_;
}

PasswordHasher::PasswordHasher() : PasswordHasher(Params{}) {}

PasswordHasher::PasswordHasher(Params params)
    : params_(params), gate_(std::make_unique<Gate>(params.max_concurrent)) {
  (void)RandomBytes(1);  // initialises libsodium
  dummy_hash_ = *HashUngated(Base64UrlEncode(RandomBytes(16)));
}

absl::Status PasswordHasher::Busy() const {
  return WithErrorInfo(absl::UnavailableError(absl::StrCat(
                           "too many password checks are running (waited ",
                           absl::FormatDuration(params_.gate_wait), "); try again in a moment")),
                       identity_reason::kPasswordCheckBusy);
}

absl::StatusOr<std::string> PasswordHasher::HashUngated(absl::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  int rc = crypto_pwhash_str_alg(out, password.data(), password.size(), params_.ops_limit,
                                 params_.mem_limit, crypto_pwhash_ALG_ARGON2ID13);
  if (rc != 0) return absl::ResourceExhaustedError("not enough memory to hash the password");
  return std::string(out);
}

absl::StatusOr<std::string> PasswordHasher::Hash(absl::string_view password) const {
  if (!gate_->Enter(absl::Now() + params_.gate_wait)) return Busy();
  absl::StatusOr<std::string> hash = HashUngated(password);
  gate_->Leave();
  return hash;
}

absl::StatusOr<bool> PasswordHasher::Verify(absl::string_view password,
                                            absl::string_view encoded) const {
  std::string hash(encoded);  // must be NUL-terminated
  if (!gate_->Enter(absl::Now() + params_.gate_wait)) return Busy();
  int rc = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size());
  gate_->Leave();
  return rc == 0;
}

PasswordHasher::~PasswordHasher() = default;

absl::Status PasswordHasher::VerifyDummy(absl::string_view password) const {
  return Verify(password, dummy_hash_).status();
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
