#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_

// The rules auditors hold the clinics to: screening outcomes, and whether a procedure may go ahead
// (or, looking back, was allowed) on a day. Plain functions over values; no I/O, no clock.

#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "smp/compliance/v1/compliance.pb.h"
#include "smp/compliance/v1/eligibility.pb.h"

namespace smp::compliance {

// How long a screening counts for eligibility unless configured (--screening_validity).
inline constexpr absl::Duration kScreeningValidity = absl::Hours(24 * 90);

// The outcome the questionnaire's findings give:
//  - herpes simplex, inflamed skin, keloid-prone skin: CONTRAINDICATED;
//  - eczema, psoriasis, vitiligo, numbing-agent allergy, minoxidil use, other: NEEDS_REVIEW;
//  - nothing: CLEAR.
v1::ScreeningOutcome OutcomeOf(const std::vector<v1::Contraindication>& findings);

// FAILED_PRECONDITION when a clinician may not override these findings: an active herpes outbreak
// or inflamed skin must heal first; a CLEAR screening needs no override.
absl::Status CheckOverridable(const v1::Screening& screening);

// True when the screening lets treatment go ahead: CLEAR, or overridden by a clinician.
bool ScreeningAllows(const v1::Screening& screening);

// The credentials a practitioner must hold on the day of any procedure.
const std::vector<v1::CredentialKind>& RequiredCredentials();

// Everything known about one procedure's circumstances.
struct EligibilityInputs {
  absl::CivilDay day;                       // clinic-local day of the procedure
  absl::Time at;                            // the instant consent and screening are judged at
  std::vector<v1::Credential> credentials;  // the practitioner's
  std::vector<v1::Permit> permits;          // the clinic's
  std::vector<v1::Consent> consents;        // the patient's
  std::vector<v1::Screening> screenings;    // the patient's
};

// Every reason the procedure is (or was) not allowed; empty when allowed:
//  - each required credential valid on `day` (valid_from <= day <= valid_until, inclusive);
//  - a county health permit valid on `day`;
//  - a procedure consent signed at or before `at` and not withdrawn by then;
//  - a screening made at or before `at`, still valid at `at`, that allows treatment.
std::vector<v1::IneligibilityReason> Decide(const EligibilityInputs& inputs);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_
