#ifndef SMP_SERVICES_COMPLIANCE_ELIGIBILITY_H_
#define SMP_SERVICES_COMPLIANCE_ELIGIBILITY_H_

// The gate scheduling asks before booking a procedure (EligibilityService.CheckEligibility).

#include "absl/status/statusor.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/eligibility.pb.h"

namespace smp::compliance {

class Eligibility {
 public:
  // `audit` must outlive the unit.
  explicit Eligibility(const AuditTrail* audit) : audit_(audit) {}

  // allowed=false with every reason (each a stable IneligibilityCode) when the rules refuse;
  // credentials and permit judged on the asked day, consent and screening as they will stand at
  // the request's procedure_time (call.now when unset): a consent withdrawn or a screening
  // lapsing before the procedure refuses it. INVALID_ARGUMENT for a procedure_time outside
  // 1900..9999.
  absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      const Call& call, const v1::CheckEligibilityRequest& req) const;

 private:
  const AuditTrail* audit_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_ELIGIBILITY_H_
