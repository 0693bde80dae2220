#ifndef SMP_SERVICES_COMPLIANCE_RECORD_VALIDATION_H_
#define SMP_SERVICES_COMPLIANCE_RECORD_VALIDATION_H_

// What makes each compliance record acceptable. INVALID_ARGUMENT naming the field; plain functions.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

absl::Status ValidateCredential(const v1::Credential& c);
absl::Status ValidatePermit(const v1::Permit& p);
// Signed no later than `now` (plus a minute of clock skew).
absl::Status ValidateConsent(const v1::Consent& c, absl::Time now);
absl::Status ValidateScreening(const v1::Screening& s, absl::Time now);
absl::Status ValidateProcedure(const v1::ProcedureRecord& r, absl::Time now);
absl::Status ValidateIncident(const v1::Incident& i, absl::Time now);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_RECORD_VALIDATION_H_
