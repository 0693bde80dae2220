#ifndef SMP_COMMON_UTIL_CRYPTO_H_
#define SMP_COMMON_UTIL_CRYPTO_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace smp {

// Thin wrappers over libsodium. Safe to call from any thread; libsodium is initialised on first
// use.

// `n` bytes from the operating system's CSPRNG.
std::string RandomBytes(size_t n);

// A bearer token: 32 random bytes (256 bits) as unpadded base64url (43 characters).
std::string NewBearerToken();

// Lower-case hex SHA-256 of `data` (64 characters). Used to key sessions by token without storing
// the token itself.
std::string Sha256Hex(absl::string_view data);

// Raw 32-byte SHA-256 of `data`.
std::string Sha256(absl::string_view data);

// Unpadded base64url of `data`.
std::string Base64UrlEncode(absl::string_view data);

// Decodes unpadded base64url; false on malformed input.
bool Base64UrlDecode(absl::string_view encoded, std::string* out);

// Compares in time independent of where the inputs differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_CRYPTO_H_
