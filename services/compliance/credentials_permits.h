#ifndef SMP_SERVICES_COMPLIANCE_CREDENTIALS_PERMITS_H_
#define SMP_SERVICES_COMPLIANCE_CREDENTIALS_PERMITS_H_

// Operations on practitioners' credentials and clinics' permits (RecordCredential,
// ListCredentials, RecordPermit, ListPermits, ListExpiring).

#include "absl/status/statusor.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class CredentialsPermits {
 public:
  // `audit` must outlive the unit.
  explicit CredentialsPermits(const AuditTrail* audit) : audit_(audit) {}

  absl::StatusOr<v1::Credential> RecordCredential(const Call& call,
                                                  const v1::RecordCredentialRequest& req) const;
  // Clinic-scoped staff read only their own (PERMISSION_DENIED, OWN_RECORDS_ONLY).
  absl::StatusOr<v1::ListCredentialsResponse> ListCredentials(
      const Call& call, const v1::ListCredentialsRequest& req) const;
  absl::StatusOr<v1::Permit> RecordPermit(const Call& call,
                                          const v1::RecordPermitRequest& req) const;
  absl::StatusOr<v1::ListPermitsResponse> ListPermits(const Call& call,
                                                      const v1::ListPermitsRequest& req) const;
  // Permits of the asked (or the caller's) clinics whose last valid day is within `within_days` of
  // the clinic's local today, and credentials (chain-wide callers: all; others: their own) within
  // `within_days` of the latest local today among the clinics in question (see the .cc).
  absl::StatusOr<v1::ListExpiringResponse> ListExpiring(const Call& call,
                                                        const v1::ListExpiringRequest& req) const;

 private:
  const AuditTrail* audit_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_CREDENTIALS_PERMITS_H_
