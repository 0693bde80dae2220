#include "common/auth/session_mac.h"

#include <sodium.h>

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/auth/secret_file.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"

namespace smp {
namespace {

// Separates these MACs from any other use of the same key, and versions the encoding.
constexpr absl::string_view kDomain = "smp.session.v2";

void AddLengthPrefixed(crypto_auth_hmacsha256_state& state, absl::string_view part) {
  unsigned char length[8];
  uint64_t n = part.size();
  for (int i = 7; i >= 0; --i, n >>= 8) length[i] = static_cast<unsigned char>(n & 0xff);
  crypto_auth_hmacsha256_update(&state, length, sizeof(length));
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                part.size());
}

// Every part length-prefixed, so no two different records encode alike ("ab","c" vs "a","bc").
std::string MacHex(absl::string_view key, absl::string_view token_hash,
                   const SessionMac::Fields& fields) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  AddLengthPrefixed(state, kDomain);
  AddLengthPrefixed(state, token_hash);
  for (const auto& [name, value] : fields) {
    AddLengthPrefixed(state, name);
    AddLengthPrefixed(state, value);
  }
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), sizeof(mac)));
}

}  // namespace

absl::StatusOr<SessionMac> SessionMac::Create(std::string current_key, std::string previous_key) {
  if (current_key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the session MAC key has ", current_key.size(),
                                                   " bytes; it needs at least ", kMinKeyBytes));
  }
  if (!previous_key.empty() && previous_key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the previous session MAC key has ",
                                                   previous_key.size(),
                                                   " bytes; it needs at least ", kMinKeyBytes));
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium cannot be initialised");
  return SessionMac(std::move(current_key), std::move(previous_key));
}

absl::StatusOr<SessionMac> SessionMac::FromFiles(const std::string& current_path,
                                                 const std::string& previous_path) {
  if (current_path.empty()) {
    return absl::FailedPreconditionError(
        "--session_mac_key_file is required: every service needs the shared key that signs "
        "session records (32 or more random bytes, mode 0600; see README \"Security model\")");
  }
  ASSIGN_OR_RETURN(std::string current, ReadSecretFile("--session_mac_key_file", current_path,
                                                       /*trim_trailing_newline=*/false));
  std::string previous;
  if (!previous_path.empty()) {
    ASSIGN_OR_RETURN(previous, ReadSecretFile("--session_mac_previous_key_file", previous_path,
                                              /*trim_trailing_newline=*/false));
  }
  absl::StatusOr<SessionMac> mac = Create(std::move(current), std::move(previous));
  if (!mac.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(mac.status().message(), " (files ", current_path, " ", previous_path, ")"));
  }
  return mac;
}

const SessionMac& SessionMac::ProcessLocal() {
  static const SessionMac* const mac = new SessionMac(*Create(RandomBytes(32)));
  return *mac;
}

std::string SessionMac::Sign(absl::string_view token_hash, const Fields& fields) const {
  return MacHex(current_key_, token_hash, fields);
}

bool SessionMac::Verify(absl::string_view token_hash, const Fields& fields,
                        absl::string_view mac) const {
  bool ok = ConstantTimeEquals(MacHex(current_key_, token_hash, fields), mac);
  if (!previous_key_.empty()) {
    // Both checked whatever the first said, so timing does not tell which key signed.
    ok = ConstantTimeEquals(MacHex(previous_key_, token_hash, fields), mac) || ok;
  }
  return ok;
}

}  // namespace smp
