#include "common/auth/service_certificate.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace smp {
namespace {

constexpr absl::string_view kPrefix = "svc.";
constexpr std::array<absl::string_view, 5> kServices = {"identity", "scheduling", "inventory",
                                                        "compliance", "billing"};

}  // namespace

bool IsKnownService(absl::string_view service) {
  for (absl::string_view known : kServices) {
    if (service == known) return true;
  }
  return false;
}

std::optional<std::string> ServiceNamedBy(const std::vector<std::string>& identities) {
  std::optional<std::string> found;
  for (absl::string_view identity : identities) {
    if (!absl::ConsumePrefix(&identity, kPrefix) || !IsKnownService(identity)) continue;
    if (found.has_value() && *found != identity) return std::nullopt;  // ambiguous
    found = std::string(identity);
  }
  return found;
}

std::optional<std::string> ServiceOfPeer(const grpc::AuthContext* context) {
  if (context == nullptr || !context->IsPeerAuthenticated()) return std::nullopt;
  bool tls = false;
  for (const grpc::string_ref& type :
       context->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    tls = tls || absl::string_view(type.data(), type.size()) == GRPC_SSL_TRANSPORT_SECURITY_TYPE;
  }
  if (!tls) return std::nullopt;
  // The peer identity is the certificate's subjectAltNames, or its common name without them.
  std::vector<std::string> identities;
  for (const grpc::string_ref& value : context->GetPeerIdentity()) {
    identities.emplace_back(value.data(), value.size());
  }
  return ServiceNamedBy(identities);
}

Principal ServicePrincipal(absl::string_view service) {
  Principal principal;
  principal.staff_id = absl::StrCat(kPrefix, service);
  principal.username = principal.staff_id;
  principal.roles = {common::v1::ROLE_SERVICE};
  principal.authenticated = true;
  return principal;
}

}  // namespace smp
