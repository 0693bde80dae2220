#include "common/rpc/frame.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rpc/finish.h"
#include "common/rpc/request_scope.h"
#include "google/protobuf/descriptor.h"

namespace smp {

RpcFrame::RpcFrame(absl::string_view service_full_name, Authenticator* authenticator,
                   const Clock* clock, DeniedHook on_denied)
    : authorizer_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      std::string(service_full_name)),
                  authenticator),
      authenticator_(authenticator),
      clock_(clock),
      refusals_(std::make_unique<RefusalLog>(std::move(on_denied), clock)) {}

grpc::Status RpcFrame::Run(grpc::ServerContextBase* context, absl::string_view method,
                           absl::FunctionRef<absl::Status(const Call&)> body) const {
  absl::StatusOr<Call> call = Admit(*context, method);
  if (!call.ok()) return FinishRpc(*context, method, call.status());
  absl::Status status = body(*call);
  if (absl::IsPermissionDenied(status)) NoteRefusal(call->who, method, status);
  return FinishRpc(*context, method, std::move(status));
}

grpc::Status RpcFrame::Run(grpc::ServerContextBase* context, absl::string_view method,
                           const google::protobuf::Message& request,
                           absl::FunctionRef<absl::Status(const Call&)> body) const {
  absl::StatusOr<Call> call = Admit(*context, method, request);
  if (!call.ok()) return FinishRpc(*context, method, call.status());
  absl::Status status = body(*call);
  if (absl::IsPermissionDenied(status)) NoteRefusal(call->who, method, status);
  return FinishRpc(*context, method, std::move(status));
}

absl::StatusOr<Call> RpcFrame::Admit(const grpc::ServerContextBase& context,
                                     absl::string_view method,
                                     const google::protobuf::Message& request) const {
  ASSIGN_OR_RETURN(Call call, Admit(context, method));
  // A public call has no caller whose scope could be judged (and names no clinic).
  if (!call.who.authenticated) return call;
  absl::Status in_scope = CheckNamedClinics(call.who, request);
  if (!in_scope.ok()) {
    NoteRefusal(call.who, method, in_scope);
    return in_scope;
  }
  return call;
}

void RpcFrame::NoteRefusal(const Principal& who, absl::string_view method,
                           const absl::Status& refusal) const {
  refusals_->Record(who, method, refusal);
}

absl::StatusOr<Call> RpcFrame::Admit(const grpc::ServerContextBase& context,
                                     absl::string_view method) const {
  absl::StatusOr<Principal> caller;
  if (authenticator_ != nullptr &&
      authorizer_.RequiredPermission(method) != common::v1::PERMISSION_PUBLIC) {
    // Authenticate and check apart, so that a refusal can be recorded with the caller.
    caller = authenticator_->Authenticate(context);
    if (caller.ok()) {
      absl::Status allowed = authorizer_.Check(*caller, method);
      if (absl::IsPermissionDenied(allowed)) NoteRefusal(*caller, method, allowed);
      if (!allowed.ok()) caller = std::move(allowed);
    }
  } else {
    caller = authorizer_.Authorize(context, method);
  }
  if (!caller.ok()) return caller.status();
  // Clinic scope is judged for the method's permission (a chain-wide role reaches every clinic
  // only for what it grants; see Principal::acting_permission).
  caller->acting_permission = authorizer_.RequiredPermission(method);
  return Call{.who = *std::move(caller), .now = clock_->Now(), .method = std::string(method)};
}

absl::StatusOr<Call> RpcFrame::CallFor(absl::string_view authorization,
                                       absl::string_view method) const {
  ASSIGN_OR_RETURN(Principal who, authorizer_.AuthorizeHeader(authorization, method));
  return Call{.who = std::move(who), .now = clock_->Now(), .method = std::string(method)};
}

}  // namespace smp
