#ifndef SMP_SERVICES_SCHEDULING_BILLING_DELIVERER_H_
#define SMP_SERVICES_SCHEDULING_BILLING_DELIVERER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/peer/service_credentials.h"
#include "smp/billing/v1/billing.grpc.pb.h"

namespace smp::scheduling {

// Delivers charge events from the outbox to billing's RecordChargeEvent, with a deadline and this
// service's own account. The outbox event id becomes the charge's event id, which billing
// deduplicates on, so a redelivery charges once.
class BillingDeliverer final : public EventDeliverer {
 public:
  BillingDeliverer(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                   absl::Duration deadline);
  absl::Status Deliver(const OutboxEvent& event) override;

 private:
  std::unique_ptr<billing::v1::BillingService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_BILLING_DELIVERER_H_
