#include "services/identity/client_address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/login_limiter.h"

namespace smp::identity {

std::string CanonicalIp(absl::string_view text) {
  const std::string s(text);
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return "";
  char out[INET6_ADDRSTRLEN];
  unsigned char bytes[16];
  if (inet_pton(AF_INET, s.c_str(), bytes) == 1) {
    return inet_ntop(AF_INET, bytes, out, sizeof(out)) != nullptr ? std::string(out) : "";
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes) == 1) {
    return inet_ntop(AF_INET6, bytes, out, sizeof(out)) != nullptr ? std::string(out) : "";
  }
  return "";
}

absl::StatusOr<TrustedForwarders> TrustedForwarders::Parse(absl::string_view flag) {
  TrustedForwarders trusted;
  for (absl::string_view entry : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    if (absl::ConsumePrefix(&entry, "cert:")) {
      if (entry.empty() || absl::StrContains(entry, ' ')) {
        return absl::InvalidArgumentError(
            "--trusted_forwarders: \"cert:\" needs the certificate's name, e.g. cert:console");
      }
      trusted.certificate_names_.emplace_back(entry);
      continue;
    }
    std::string ip = CanonicalIp(entry);
    if (ip.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--trusted_forwarders: \"", entry,
                       "\" is neither an IP address nor cert:<certificate name>"));
    }
    trusted.addresses_.push_back(std::move(ip));
  }
  return trusted;
}

bool TrustedForwarders::Trusts(absl::string_view peer,
                               const std::vector<std::string>& peer_certificate_names) const {
  for (const std::string& name : peer_certificate_names) {
    if (std::find(certificate_names_.begin(), certificate_names_.end(), name) !=
        certificate_names_.end()) {
      return true;
    }
  }
  if (addresses_.empty()) return false;
  const std::string ip = CanonicalIp(ClientIp(peer));
  return !ip.empty() && std::find(addresses_.begin(), addresses_.end(), ip) != addresses_.end();
}

std::string TrustedForwarders::ClientAddress(absl::string_view peer,
                                             const std::vector<std::string>& peer_certificate_names,
                                             absl::string_view forwarded) const {
  if (forwarded.empty() || !Trusts(peer, peer_certificate_names)) return std::string(peer);
  std::string ip = CanonicalIp(absl::StripAsciiWhitespace(forwarded));
  return ip.empty() ? std::string(peer) : ip;
}

}  // namespace smp::identity
