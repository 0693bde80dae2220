#ifndef SMP_SERVICES_INVENTORY_COMPLIANCE_DELIVERER_H_
#define SMP_SERVICES_INVENTORY_COMPLIANCE_DELIVERER_H_
// Inventory's client of compliance: delivers the outbox events inventory writes for compliance (an
// incident for each refused used, expired or recalled unit, and each lot recall). The event's
// payload is the compliance request itself; its outbox id becomes the request_id, which compliance
// deduplicates on, so a redelivery records once.

#include <grpcpp/channel.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/peer/service_credentials.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"

namespace smp::inventory {

// The outbox destination and the event kinds inventory writes (each names the compliance RPC it
// becomes). The strings are stored in outbox rows: never change them.
inline constexpr char kComplianceDestination[] = "compliance";
inline constexpr char kReportIncidentKind[] = "compliance.ReportIncident";
inline constexpr char kRecordLotRecallKind[] = "compliance.RecordLotRecall";

class ComplianceDeliverer final : public EventDeliverer {
 public:
  // `credentials` must outlive the deliverer.
  ComplianceDeliverer(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                      absl::Duration deadline);

  // OK once compliance has the record (ALREADY_EXISTS counts: it had it). An event of an unknown
  // kind or an unreadable payload fails every attempt and so stays visible in the outbox.
  absl::Status Deliver(const OutboxEvent& event) override;

 private:
  std::unique_ptr<compliance::v1::ComplianceService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_COMPLIANCE_DELIVERER_H_
