#ifndef SMP_SERVICES_SCHEDULING_COMPLIANCE_GATE_H_
#define SMP_SERVICES_SCHEDULING_COMPLIANCE_GATE_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/peer/service_credentials.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

struct EligibilityQuery {
  std::string patient_id;
  std::string practitioner_id;
  std::string clinic_id;
  absl::CivilDay date;  // clinic-local day of the procedure (of `at`)
  v1::AppointmentType type;
  absl::Time at;  // when the procedure starts: consent and screening are judged as they stand then
};

// Asks compliance whether a procedure may go ahead at a time: booked, moved (another time or
// practitioner) or started. Practitioner credentials and clinic permit on that clinic-local date,
// consent and screening as they will stand at that instant. OK when allowed; FAILED_PRECONDITION
// with ErrorInfo NOT_ELIGIBLE (metadata `code`: the first IneligibilityCode) listing every reason
// when not; UNAVAILABLE when compliance cannot answer (the booking must then fail, never pass).
class ComplianceGate {
 public:
  virtual ~ComplianceGate() = default;
  virtual absl::Status CheckAllowed(const EligibilityQuery& query) = 0;
};

// The gate over gRPC: smp.compliance.v1.EligibilityService/CheckEligibility with a deadline,
// authenticated as the scheduling service's own account.
class GrpcComplianceGate final : public ComplianceGate {
 public:
  GrpcComplianceGate(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                     absl::Duration deadline);
  absl::Status CheckAllowed(const EligibilityQuery& query) override;

 private:
  std::unique_ptr<compliance::v1::EligibilityService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

// The gate when no compliance address is configured: every gated booking is UNAVAILABLE.
class UnconfiguredComplianceGate final : public ComplianceGate {
 public:
  absl::Status CheckAllowed(const EligibilityQuery& query) override;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_COMPLIANCE_GATE_H_
