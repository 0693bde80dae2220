#ifndef SMP_SERVICES_SCHEDULING_COMPLIANCE_DELIVERER_H_
#define SMP_SERVICES_SCHEDULING_COMPLIANCE_DELIVERER_H_

// What scheduling tells compliance through its outbox: the record of each completed procedure.
// The event's payload is compliance's RecordProcedureRequest itself; its outbox id becomes the
// request_id, which compliance deduplicates on, so a redelivery records once.

#include <grpcpp/channel.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/peer/service_credentials.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"

namespace smp::scheduling {

// The outbox destination and event kind. The strings are those the suite's outboxes have always
// stored (common/peer/compliance_deliverer.h used the same), so rows written before still deliver.
inline constexpr char kComplianceDestination[] = "compliance";
inline constexpr char kRecordProcedureKind[] = "compliance.RecordProcedure";

class ComplianceDeliverer final : public EventDeliverer {
 public:
  // `credentials` must outlive the deliverer.
  ComplianceDeliverer(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                      absl::Duration deadline);
  // OK once compliance has the record (ALREADY_EXISTS counts: it had it). An event of another
  // kind or an unreadable payload fails every attempt and so stays visible in the outbox.
  absl::Status Deliver(const OutboxEvent& event) override;

 private:
  std::unique_ptr<compliance::v1::ComplianceService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_COMPLIANCE_DELIVERER_H_
