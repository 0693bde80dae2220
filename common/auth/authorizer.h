#ifndef SMP_COMMON_AUTH_AUTHORIZER_H_
#define SMP_COMMON_AUTH_AUTHORIZER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/principal.h"
#include "smp/common/v1/auth.pb.h"

namespace google::protobuf {
class ServiceDescriptor;
}  // namespace google::protobuf

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace smp {

// Per-service RPC authorisation. Each method's permission is read once from its
// `(smp.common.v1.required_permission)` option in the service descriptor, so the contract is the
// single place it is declared. Immutable after construction; thread-safe.
//
// Typical use in a handler:
//   ASSIGN_OR_RETURN(Principal caller, authorizer_.Authorize(*context, "CreateClinic"));
//   RETURN_IF_ERROR(caller.CheckClinic(request.clinic_id()));
class Authorizer {
 public:
  // Aborts the process, naming the method, if any method of `service` lacks the option or has an
  // undefined value: a contract without it is a bad build and must not serve. `authenticator`
  // must outlive this; it is not used for PUBLIC methods (null only if all methods are PUBLIC:
  // others then fail with INTERNAL).
  Authorizer(const google::protobuf::ServiceDescriptor* service, Authenticator* authenticator);

  // `method` is the short name, e.g. "CreateClinic". PUBLIC methods return an unauthenticated
  // Principal without reading metadata or touching Redis. Otherwise the caller is authenticated
  // (errors as Authenticator::Authenticate) and then must hold the permission:
  //   PERMISSION_DENIED  "<method> needs PERMISSION_X; your roles do not grant it"
  //   INTERNAL           `method` is not a method of the service (a bug in the caller)
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& context,
                                      absl::string_view method) const;

  // The same, given the authorization header value ("" when absent); for tests and non-gRPC paths.
  absl::StatusOr<Principal> AuthorizeHeader(absl::string_view authorization,
                                            absl::string_view method) const;

  // Checks an already authenticated (or anonymous) principal against the method's permission.
  absl::Status Check(const Principal& principal, absl::string_view method) const;

  // The method's declared permission; PERMISSION_UNSPECIFIED for a name not in the service.
  common::v1::Permission RequiredPermission(absl::string_view method) const;

  const std::string& service_name() const { return service_name_; }

 private:
  // Resolves `method`; INTERNAL when unknown.
  absl::StatusOr<common::v1::Permission> Required(absl::string_view method) const;

  std::string service_name_;
  Authenticator* const authenticator_;
  absl::flat_hash_map<std::string, common::v1::Permission> permissions_;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_AUTHORIZER_H_
