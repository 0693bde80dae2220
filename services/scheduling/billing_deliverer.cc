#include "services/scheduling/billing_deliverer.h"

#include <grpcpp/client_context.h>

#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace smp::scheduling {

BillingDeliverer::BillingDeliverer(std::shared_ptr<grpc::Channel> channel,
                                   ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(billing::v1::BillingService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status BillingDeliverer::Deliver(const OutboxEvent& event) {
  billing::v1::RecordChargeEventRequest request;
  if (!request.ParseFromString(event.payload)) {
    return absl::DataLossError("outbox payload is not a RecordChargeEventRequest");
  }
  request.set_event_id(event.id);
  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  RETURN_IF_ERROR(credentials_->Authorize(context));
  billing::v1::ChargeEventResult result;
  const grpc::Status status = stub_->RecordChargeEvent(&context, request, &result);
  credentials_->Observe(status);
  return FromGrpcStatus(status);
}

}  // namespace smp::scheduling
