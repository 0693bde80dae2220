#include "services/scheduling/billing_deliverer.h"

#include <grpcpp/client_context.h>

#include <chrono>

#include "common/status/grpc_status.h"

namespace smp::scheduling {

BillingDeliverer::BillingDeliverer(std::shared_ptr<grpc::Channel> channel,
                                   std::string service_token, absl::Duration deadline)
    : stub_(billing::v1::BillingService::NewStub(std::move(channel))),
      service_token_(std::move(service_token)),
      deadline_(deadline) {}

absl::Status BillingDeliverer::Deliver(const OutboxEvent& event) {
  billing::v1::RecordChargeEventRequest request;
  if (!request.ParseFromString(event.payload)) {
    return absl::DataLossError("outbox payload is not a RecordChargeEventRequest");
  }
  request.set_event_id(event.id);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline_)));
  if (!service_token_.empty()) context.AddMetadata("authorization", "Bearer " + service_token_);
  billing::v1::ChargeEventResult result;
  return FromGrpcStatus(stub_->RecordChargeEvent(&context, request, &result));
}

}  // namespace smp::scheduling
