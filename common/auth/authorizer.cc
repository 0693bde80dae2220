#include "common/auth/authorizer.h"

#include <google/protobuf/descriptor.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

[[noreturn]] void DieBadContract(const std::string& message) {
  std::fprintf(stderr, "Authorizer: %s\n", message.c_str());
  std::abort();
}

absl::Status NoAuthenticator() {
  return absl::InternalError("authorizer: no authenticator configured for a non-PUBLIC method");
}

}  // namespace

Authorizer::Authorizer(const google::protobuf::ServiceDescriptor* service,
                       Authenticator* authenticator)
    : authenticator_(authenticator) {
  if (service == nullptr) DieBadContract("service descriptor is null");
  service_name_ = service->full_name();
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service->method(i);
    const int permission = method->options().GetExtension(common::v1::required_permission);
    if (permission == common::v1::PERMISSION_UNSPECIFIED ||
        !common::v1::Permission_IsValid(permission)) {
      DieBadContract(absl::StrCat("method ", method->full_name(),
                                  " declares no valid (smp.common.v1.required_permission) option; "
                                  "every RPC must declare the permission it needs"));
    }
    permissions_[method->name()] = static_cast<common::v1::Permission>(permission);
  }
}

common::v1::Permission Authorizer::RequiredPermission(absl::string_view method) const {
  auto it = permissions_.find(method);
  return it == permissions_.end() ? common::v1::PERMISSION_UNSPECIFIED : it->second;
}

absl::StatusOr<common::v1::Permission> Authorizer::Required(absl::string_view method) const {
  common::v1::Permission permission = RequiredPermission(method);
  if (permission == common::v1::PERMISSION_UNSPECIFIED) {
    return absl::InternalError(
        absl::StrCat("authorizer: ", method, " is not a method of ", service_name_));
  }
  return permission;
}

absl::Status Authorizer::Check(const Principal& principal, absl::string_view method) const {
  ASSIGN_OR_RETURN(common::v1::Permission permission, Required(method));
  if (principal.Has(permission)) return absl::OkStatus();
  if (!principal.authenticated) {
    return absl::UnauthenticatedError(absl::StrCat(method, " needs a session"));
  }
  return WithErrorInfo(absl::PermissionDeniedError(
                           absl::StrCat(method, " needs ", common::v1::Permission_Name(permission),
                                        "; your roles do not grant it")),
                       reason::kMissingPermission,
                       {{"permission", common::v1::Permission_Name(permission)}});
}

absl::StatusOr<Principal> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                                absl::string_view method) const {
  ASSIGN_OR_RETURN(common::v1::Permission permission, Required(method));
  if (permission == common::v1::PERMISSION_PUBLIC) return Principal();
  if (authenticator_ == nullptr) return NoAuthenticator();
  ASSIGN_OR_RETURN(Principal principal, authenticator_->Authenticate(context));
  RETURN_IF_ERROR(Check(principal, method));
  principal.acting_permission = permission;
  return principal;
}

absl::StatusOr<Principal> Authorizer::AuthorizeHeader(absl::string_view authorization,
                                                      absl::string_view method) const {
  ASSIGN_OR_RETURN(common::v1::Permission permission, Required(method));
  if (permission == common::v1::PERMISSION_PUBLIC) return Principal();
  if (authenticator_ == nullptr) return NoAuthenticator();
  ASSIGN_OR_RETURN(Principal principal, authenticator_->AuthenticateHeader(authorization));
  RETURN_IF_ERROR(Check(principal, method));
  principal.acting_permission = permission;
  return principal;
}

}  // namespace smp
