#ifndef SMP_SERVICES_COMPLIANCE_CONSENTS_SCREENINGS_H_
#define SMP_SERVICES_COMPLIANCE_CONSENTS_SCREENINGS_H_

// Operations on patients' consents and contraindication screenings (RecordConsent,
// WithdrawConsent, ListConsents, RecordScreening, OverrideScreening, ListScreenings).

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/patient_directory.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class ConsentsScreenings {
 public:
  // `audit` and `patients` must outlive the unit. A screening counts for eligibility for
  // `screening_validity` after it was taken. `patients` (may be null) says which clinic a
  // patient belongs to (a clinic-scoped caller records only for its clinics' patients, see
  // clinic_scope.h).
  ConsentsScreenings(const AuditTrail* audit, PatientDirectory* patients,
                     absl::Duration screening_validity)
      : audit_(audit), patients_(patients), screening_validity_(screening_validity) {}

  absl::StatusOr<v1::Consent> RecordConsent(const Call& call,
                                            const v1::RecordConsentRequest& req) const;
  // FAILED_PRECONDITION (ALREADY_WITHDRAWN) the second time.
  absl::StatusOr<v1::Consent> WithdrawConsent(const Call& call,
                                              const v1::WithdrawConsentRequest& req) const;
  // The patient's consents in the caller's clinics, newest first, a page at a time (a page may hold
  // fewer than page_size when some are of other clinics).
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(const Call& call,
                                                        const v1::ListConsentsRequest& req) const;
  // The outcome and valid_until are computed, never taken from the request.
  absl::StatusOr<v1::Screening> RecordScreening(const Call& call,
                                                const v1::RecordScreeningRequest& req) const;
  // A clinician's override; FAILED_PRECONDITION (NOT_OVERRIDABLE) for findings that must heal
  // first, a CLEAR screening or a second override.
  absl::StatusOr<v1::Screening> OverrideScreening(const Call& call,
                                                  const v1::OverrideScreeningRequest& req) const;
  // As ListConsents, newest screened first.
  absl::StatusOr<v1::ListScreeningsResponse> ListScreenings(
      const Call& call, const v1::ListScreeningsRequest& req) const;

 private:
  const AuditTrail* audit_;
  PatientDirectory* patients_;
  absl::Duration screening_validity_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_CONSENTS_SCREENINGS_H_
