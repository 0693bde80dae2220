#include "services/scheduling/billing_deliverer.h"

#include <utility>

#include "common/peer/peer_call.h"

namespace smp::scheduling {

namespace bv1 = ::smp::billing::v1;

BillingDeliverer::BillingDeliverer(std::shared_ptr<grpc::Channel> channel,
                                   ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(bv1::BillingService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status BillingDeliverer::Deliver(const OutboxEvent& event) {
  return DeliverEvent<bv1::RecordChargeEventRequest, bv1::ChargeEventResult>(
      event, *credentials_, deadline_,
      // Billing deduplicates on the charge's event id: the outbox event's.
      [](bv1::RecordChargeEventRequest& request, const OutboxEvent& e) {
        request.set_event_id(e.id);
      },
      [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
        return stub_->RecordChargeEvent(ctx, req, resp);
      });
}

}  // namespace smp::scheduling
