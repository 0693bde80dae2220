#ifndef SMP_SERVICES_IDENTITY_CLIENT_ADDRESS_H_
#define SMP_SERVICES_IDENTITY_CLIENT_ADDRESS_H_

// Which client address a login counts against (the per-address limit, the session's
// client_address, the failed-login audit). Normally the gRPC peer. A front end that people reach
// through it (the web console's gateway) is one peer for every browser, so 20 failed logins from
// one browser would throttle everyone's; such a peer names the browser's address in the metadata
// header `x-smp-client-address`, and identity believes the header only from a peer it was told to
// trust (`--trusted_forwarders`). From anyone else the header is ignored, so a client cannot
// escape its own limit by naming another address. Pure code, no I/O.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp::identity {

// The metadata key a trusted forwarder puts the client's IP address in.
inline constexpr char kClientAddressHeader[] = "x-smp-client-address";

class TrustedForwarders {
 public:
  // Trusts nobody: the peer is always the client.
  TrustedForwarders() = default;

  // `flag`: comma-separated entries, each either an IP address (IPv4 or IPv6; the peer's address
  // must equal it, e.g. "127.0.0.1" for a gateway on the same machine) or "cert:<name>" (the
  // peer's verified client certificate names <name> as a DNS subjectAltName, or as its common name
  // without any; e.g. "cert:console"). Spaces around entries are ignored; "" trusts nobody.
  // INVALID_ARGUMENT naming the bad entry.
  static absl::StatusOr<TrustedForwarders> Parse(absl::string_view flag);

  // The address to count a login against: the header's address when the peer is trusted and the
  // header holds one IP address (IPv4 or IPv6, no port), else `peer` (the gRPC peer string, e.g.
  // "ipv4:127.0.0.1:53120"). `peer_certificate_names` are the names of the peer's verified client
  // certificate (empty without one); `forwarded` is the header's value ("" when absent).
  std::string ClientAddress(absl::string_view peer,
                            const std::vector<std::string>& peer_certificate_names,
                            absl::string_view forwarded) const;

  // True when `peer` (with its certificate names) may name the client's address.
  bool Trusts(absl::string_view peer, const std::vector<std::string>& peer_certificate_names) const;

  bool empty() const { return addresses_.empty() && certificate_names_.empty(); }

 private:
  std::vector<std::string> addresses_;  // canonical text (inet_ntop)
  std::vector<std::string> certificate_names_;
};

// The canonical text of an IP address literal ("::ffff:10.0.0.1" stays IPv6), or "" when `text`
// is not one.
std::string CanonicalIp(absl::string_view text);

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_CLIENT_ADDRESS_H_
