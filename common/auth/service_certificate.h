#ifndef SMP_COMMON_AUTH_SERVICE_CERTIFICATE_H_
#define SMP_COMMON_AUTH_SERVICE_CERTIFICATE_H_

// A service known by its client certificate. When a server runs with --tls_client_ca (mutual TLS),
// gRPC has verified every client's certificate against that CA before a call arrives. A call that
// carries no bearer token, over a connection whose verified certificate names exactly one known
// service as "svc.<service>" (its DNS subjectAltName, or its common name when it has no
// subjectAltName), is authenticated as that service: a Principal of the chain-wide `service` role,
// with staff_id and username "svc.<service>" and no session. A bearer token, when present, always
// decides instead (scheduling forwards a technician's token over its own mutual-TLS channel), and a
// bad token is not rescued by the certificate.
//
// Such a principal cannot be revoked by disabling an account: revoke the certificate by
// re-issuing the chain's certificates from a new CA (README, "Transport: TLS on every hop").

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/auth/principal.h"

namespace grpc {
class AuthContext;
}  // namespace grpc

namespace smp {

// The services of the suite, which may be named by a certificate.
bool IsKnownService(absl::string_view service);

// The service that the identities of one certificate (SAN or CN values) name: the `<service>` of
// the only "svc.<service>" value with a known service. nullopt when none does, or when the
// certificate names two different services.
std::optional<std::string> ServiceNamedBy(const std::vector<std::string>& identities);

// The same for the peer of a call: only for a TLS peer whose certificate gRPC authenticated.
// nullopt for a null context, plaintext, or a peer without a certificate.
std::optional<std::string> ServiceOfPeer(const grpc::AuthContext* context);

// The Principal of a call made by `service` with its certificate.
Principal ServicePrincipal(absl::string_view service);

}  // namespace smp

#endif  // SMP_COMMON_AUTH_SERVICE_CERTIFICATE_H_
