#include "common/peer/peer_channel.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/server/pem_file.h"
#include "common/status/status_macros.h"
#include "common/util/grpc_target.h"

ABSL_FLAG(std::string, peer_tls_ca_file, "",
          "PEM roots that peer services' server certificates must chain to. Set: every channel "
          "to a peer (identity, compliance, billing, inventory, scheduling) uses TLS.");
ABSL_FLAG(std::string, peer_tls_cert_file, "",
          "PEM client certificate this service presents to its peers (mutual TLS); needs "
          "--peer_tls_key_file and --peer_tls_ca_file. A certificate naming svc.<service> is this "
          "service's identity at peers that verify client certificates.");
ABSL_FLAG(std::string, peer_tls_key_file, "", "PEM private key of --peer_tls_cert_file.");
ABSL_FLAG(bool, allow_insecure_peers, false,
          "Allow plaintext channels to peers at non-loopback addresses (without it, such a peer "
          "address without --peer_tls_ca_file stops the service at start-up).");

namespace smp {
namespace {

// One host of a gRPC target, without port or brackets.
absl::string_view HostOf(absl::string_view hostport) {
  if (absl::ConsumePrefix(&hostport, "[")) return hostport.substr(0, hostport.find(']'));
  const size_t colon = hostport.rfind(':');
  // Two or more colons without brackets: a bare IPv6 address.
  if (colon == absl::string_view::npos || hostport.find(':') != colon) return hostport;
  return hostport.substr(0, colon);
}

// How every peer channel behaves, whatever its credentials. Keepalive pings (every 15 s, also with
// no call in flight; the servers accept one every 10 s) notice a peer host that vanished without
// closing its connections (a cut link, a powered-off machine) within about 20 s, so its calls stop
// waiting for a connection that will never answer. A list of replicas spreads the calls over
// every replica that answers (round_robin) and keeps serving from the others when one is lost.
grpc::ChannelArguments PeerChannelArguments(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 15'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC stops pinging after 2 pings with no data sent; an idle channel must keep pinging.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  if (IsReplicaList(address)) args.SetLoadBalancingPolicyName("round_robin");
  return args;
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string h(host);
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

PeerTlsOptions PeerTlsOptionsFromFlags() {
  return PeerTlsOptions{.ca_file = absl::GetFlag(FLAGS_peer_tls_ca_file),
                        .cert_file = absl::GetFlag(FLAGS_peer_tls_cert_file),
                        .key_file = absl::GetFlag(FLAGS_peer_tls_key_file),
                        .allow_insecure = absl::GetFlag(FLAGS_allow_insecure_peers)};
}

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  // Name-resolver schemes: dns:[//authority/]host:port, ipv4:/ipv6: with comma-separated lists.
  if (absl::ConsumePrefix(&address, "dns:")) {
    if (absl::ConsumePrefix(&address, "//")) {
      const size_t slash = address.find('/');
      if (slash == absl::string_view::npos) return false;
      address.remove_prefix(slash + 1);
    }
  } else if (absl::ConsumePrefix(&address, "ipv4:") || absl::ConsumePrefix(&address, "ipv6:")) {
    const std::vector<absl::string_view> parts = absl::StrSplit(address, ',');
    for (absl::string_view part : parts) {
      if (!IsLoopbackHost(HostOf(part))) return false;
    }
    return !parts.empty();
  }
  return !address.empty() && IsLoopbackHost(HostOf(address));
}

absl::StatusOr<PeerChannelFactory> PeerChannelFactory::Create(const PeerTlsOptions& options) {
  PeerChannelFactory factory;
  factory.allow_insecure_ = options.allow_insecure;
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "mutual TLS to peers needs both --peer_tls_cert_file and --peer_tls_key_file; only one "
        "is set");
  }
  if (!options.cert_file.empty() && options.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--peer_tls_cert_file needs --peer_tls_ca_file (the roots peers' server certificates "
        "chain to)");
  }
  if (options.ca_file.empty()) return factory;
  ASSIGN_OR_RETURN(factory.ca_pem_, ReadPemFile("peer TLS CA", options.ca_file));
  if (!options.cert_file.empty()) {
    ASSIGN_OR_RETURN(factory.cert_pem_, ReadPemFile("peer TLS certificate", options.cert_file));
    ASSIGN_OR_RETURN(factory.key_pem_, ReadPemFile("peer TLS key", options.key_file));
  }
  return factory;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannelFactory::Open(
    const std::string& address) const {
  if (address.empty()) return absl::InvalidArgumentError("empty peer address");
  if (!tls()) {
    if (!allow_insecure_ && !IsLoopbackAddress(address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing a plaintext channel to the peer at \"", address,
          "\": it is not a loopback address, and service passwords and bearer tokens would "
          "cross the network unencrypted. Give --peer_tls_ca_file (and --peer_tls_cert_file with "
          "--peer_tls_key_file for mutual TLS), or --allow_insecure_peers to accept the risk"));
    }
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                     PeerChannelArguments(address));
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem_;
  ssl.pem_cert_chain = cert_pem_;
  ssl.pem_private_key = key_pem_;
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl),
                                   PeerChannelArguments(address));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakePeerChannel(const std::string& address) {
  ASSIGN_OR_RETURN(PeerChannelFactory factory,
                   PeerChannelFactory::Create(PeerTlsOptionsFromFlags()));
  return factory.Open(address);
}

bool PeerChannelsHaveClientCertificate() {
  return !absl::GetFlag(FLAGS_peer_tls_cert_file).empty();
}

}  // namespace smp
