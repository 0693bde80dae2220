#include "common/util/crypto.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/escaping.h"

namespace smp {
namespace {

void EnsureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: refuse to run at all
    return true;
  }();
  (void)ready;
}

}  // namespace

std::string RandomBytes(size_t n) {
  EnsureSodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string NewBearerToken() { return Base64UrlEncode(RandomBytes(32)); }

std::string Sha256(absl::string_view data) {
  EnsureSodium();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

std::string Sha256Hex(absl::string_view data) { return absl::BytesToHexString(Sha256(data)); }

std::string Base64UrlEncode(absl::string_view data) { return absl::WebSafeBase64Escape(data); }

bool Base64UrlDecode(absl::string_view encoded, std::string* out) {
  return absl::WebSafeBase64Unescape(encoded, out);
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace smp
