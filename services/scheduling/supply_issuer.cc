#include "services/scheduling/supply_issuer.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"
#include "common/peer/service_credentials.h"
#include "common/status/grpc_status.h"

namespace smp::scheduling {

GrpcSupplyIssuer::GrpcSupplyIssuer(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : stub_(inventory::v1::InventoryService::NewStub(std::move(channel))), deadline_(deadline) {}

absl::StatusOr<std::vector<inventory::v1::IssuedItem>> GrpcSupplyIssuer::Issue(
    const SupplyRequest& request, const std::string& caller_authorization) {
  inventory::v1::IssueToProcedureRequest issue;
  issue.set_request_id(absl::StrCat("start:", request.start_attempt_id));
  issue.set_start_attempt_id(request.start_attempt_id);
  issue.set_clinic_id(request.clinic_id);
  issue.set_appointment_id(request.appointment_id);
  issue.set_patient_id(request.patient_id);
  for (const inventory::v1::IssueLine& line : request.lines) *issue.add_lines() = line;

  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  context.AddMetadata("authorization", caller_authorization);
  inventory::v1::IssueToProcedureResponse response;
  const grpc::Status status = stub_->IssueToProcedure(&context, issue, &response);
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return std::vector<inventory::v1::IssuedItem>(response.items().begin(),
                                                    response.items().end());
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::UnavailableError(absl::StrCat(
          "inventory cannot issue the supplies now (", grpc::StatusCode(status.error_code()), ": ",
          status.error_message(), "); the procedure has not started, try again"));
    default: {
      // Inventory's own verdict on the supplies (or on the caller), passed on as it is, with its
      // structured details (UNIT_ALREADY_USED, EXPIRED, RECALLED and their serial or lot).
      const absl::Status verdict = FromGrpcStatus(status);
      absl::Status out(verdict.code(), absl::StrCat("supplies: ", status.error_message()));
      verdict.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
        out.SetPayload(type_url, payload);
      });
      return out;
    }
  }
}

SupplyReturnDeliverer::SupplyReturnDeliverer(std::shared_ptr<grpc::Channel> channel,
                                             ServiceCredentials* credentials,
                                             absl::Duration deadline)
    : stub_(inventory::v1::InventoryService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status SupplyReturnDeliverer::Deliver(const OutboxEvent& event) {
  if (event.kind != kReturnProcedureIssueKind) {
    return absl::InvalidArgumentError(absl::StrCat("outbox event ", event.id, " has kind \"",
                                                   event.kind,
                                                   "\", which scheduling does not send inventory"));
  }
  return DeliverEvent<inventory::v1::ReturnProcedureIssueRequest,
                      inventory::v1::ReturnProcedureIssueResponse>(
      event, *credentials_, deadline_,
      [](inventory::v1::ReturnProcedureIssueRequest& request, const OutboxEvent& e) {
        request.set_request_id(e.id);
      },
      [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
        return stub_->ReturnProcedureIssue(ctx, req, resp);
      });
}

absl::StatusOr<std::vector<inventory::v1::IssuedItem>> UnconfiguredSupplyIssuer::Issue(
    const SupplyRequest&, const std::string&) {
  return absl::UnavailableError(
      "no inventory is configured (--inventory_address); procedures cannot start, consultations "
      "can");
}

}  // namespace smp::scheduling
