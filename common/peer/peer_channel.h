#ifndef SMP_COMMON_PEER_PEER_CHANNEL_H_
#define SMP_COMMON_PEER_PEER_CHANNEL_H_

// The one way a service opens a channel to a peer service (identity for its service login,
// compliance, billing, inventory, scheduling). Every peer channel of a process uses the same
// transport settings, from these flags (each also SMP_<NAME> in the environment):
//
//   --peer_tls_ca_file    PEM roots that peers' server certificates must chain to. Set: every
//                         peer channel is TLS and the peer's certificate must name the host of its
//                         address (a DNS name or an IP address in its subjectAltName).
//   --peer_tls_cert_file  PEM client certificate (and chain) this service presents, with
//   --peer_tls_key_file   its key: mutual TLS. Needs --peer_tls_ca_file. A certificate naming
//                         svc.<service> is accepted by peers with --tls_client_ca as that service
//                         (see common/auth/service_certificate.h), so the service needs no
//                         password.
//   --allow_insecure_peers  Without TLS, a peer address that is not loopback is refused at start-up
//                         (the service account's password and forwarded bearer tokens would cross
//                         the network in the clear). This flag allows it anyway.
//
// Plaintext to loopback (127.0.0.0/8, ::1, localhost, unix: sockets) is always allowed: the
// default single-machine run needs no certificates.
//
// A peer of several replicas is named by a list, "ipv4:10.0.0.2:7002,10.0.0.3:7002": its calls go
// round-robin over the replicas that answer, and a replica that is lost (even silently, by a cut
// link: keepalive pings every 15 s notice it) is left out until it answers again.

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// Transport settings of peer channels: file paths, as given.
struct PeerTlsOptions {
  std::string ca_file = {};
  std::string cert_file = {};
  std::string key_file = {};
  bool allow_insecure = false;
};

// The options from the flags above.
PeerTlsOptions PeerTlsOptionsFromFlags();

// True when `address` (a gRPC target: "host:port", "[v6]:port", "ipv4:...", "dns:///host:port",
// "unix:path") can only reach this machine: a unix socket, "localhost", an address in 127.0.0.0/8
// or ::1. Host names other than localhost are not resolved and count as not loopback.
bool IsLoopbackAddress(absl::string_view address);

// Channel credentials for peers. TLS when `ca_file` is set (mutual TLS with cert and key);
// insecure otherwise. Refused with INVALID_ARGUMENT when a cert is given without its key or
// without a CA, NOT_FOUND / INVALID_ARGUMENT naming a file that cannot be read or is not PEM.
class PeerChannelFactory {
 public:
  static absl::StatusOr<PeerChannelFactory> Create(const PeerTlsOptions& options);

  // A channel to `address`. FAILED_PRECONDITION, saying which flag to set, when the channel would
  // be plaintext and `address` is not loopback unless allow_insecure. The channel itself connects
  // lazily: a wrong CA or a refused client certificate shows as UNAVAILABLE on the first call.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Open(const std::string& address) const;

  bool tls() const { return !ca_pem_.empty(); }
  // True when the channels present a client certificate (the service can be known by it).
  bool has_client_certificate() const { return !cert_pem_.empty(); }

 private:
  PeerChannelFactory() = default;
  std::string ca_pem_, cert_pem_, key_pem_;
  bool allow_insecure_ = false;
};

// PeerChannelFactory::Create(PeerTlsOptionsFromFlags()).Open(address): what a service's main()
// calls for each peer address, failing start-up with the status.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakePeerChannel(const std::string& address);

// True when --peer_tls_cert_file is set: peer channels present a client certificate.
bool PeerChannelsHaveClientCertificate();

}  // namespace smp

#endif  // SMP_COMMON_PEER_PEER_CHANNEL_H_
