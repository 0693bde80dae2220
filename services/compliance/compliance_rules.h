#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_

// The rules auditors hold the clinics to: screening outcomes, and whether a procedure may go ahead
// (or, looking back, was allowed) on a day. Plain functions over values; no I/O, no clock.

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
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

// A screening as it is recorded: its outcome from its findings (OutcomeOf), no override (that is
// OverrideScreening's), valid `validity` from when it was taken.
v1::Screening ScreeningAsRecorded(v1::Screening screening, absl::Duration validity);

// True when the screening lets treatment go ahead at `at`: CLEAR, or overridden by a clinician
// at or before `at` (an override decided after a procedure does not make it compliant).
bool ScreeningAllows(const v1::Screening& screening, absl::Time at);

// Bloodborne-pathogen training is yearly (OSHA 29 CFR 1910.1030(g)(2)(ii)): INVALID_ARGUMENT
// naming credential.valid_until when it is more than one year after valid_from or after the
// training date (the same calendar day a year later is the last one allowed). Other kinds pass.
absl::Status CheckTrainingValidity(const v1::Credential& credential);

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
//  - a screening made at or before `at`, still valid at `at`, that allows treatment (CLEAR, or
//    overridden at or before `at`).
std::vector<v1::IneligibilityReason> Decide(const EligibilityInputs& inputs);

// A finding of the auditor's report about one procedure's circumstances.
struct ProcedureFinding {
  v1::FindingKind kind;
  std::string detail;
};

// The findings of a procedure judged afterwards (the inputs hold every record on file now):
//  - each reason Decide gives, as its finding (CREDENTIAL_INVALID, PERMIT_INVALID, NO_CONSENT,
//    SCREENING_MISSING, CONTRAINDICATED);
//  - RECORDED_AFTER_PROCEDURE when the consent or the screening that makes the procedure
//    compliant was recorded by the service (record_time) after `at`: judged only on the records
//    on file at `at`, the procedure had no consent (or no allowing screening). Records without a
//    record_time (recorded before the service kept one) count as on file.
std::vector<ProcedureFinding> JudgeProcedure(const EligibilityInputs& inputs);

// Every finding of the auditor's report about one procedure record `r`, in the report's order:
//  - JudgeProcedure(in) (`in` holds the record's day and instant and every record on file);
//  - CHECKLIST_INCOMPLETE when any item of the sterile-procedure checklist is unticked;
//  - per needle, in order: EXPIRED_LOT when its lot expired before the day, then NEEDLE_REUSE when
//    its serial is also recorded in another procedure (`other_use(serial)`: that procedure's id,
//    "" when none; the first by id);
//  - RECALLED_LOT for each needle, then each pigment, whose lot was recalled at or before the
//    procedure's instant (`recall_of(product_id, lot)`: the recall on file, null when none);
//  - EXPIRED_LOT for each pigment whose lot expired before the day.
// Each finding names r's clinic, id and appointment.
std::vector<v1::Finding> ProcedureFindings(
    const v1::ProcedureRecord& r, const EligibilityInputs& in,
    absl::FunctionRef<std::string(const std::string& serial)> other_use,
    absl::FunctionRef<const v1::LotRecall*(const std::string& product_id, const std::string& lot)>
        recall_of);

// The tombstone a retention rule leaves of a screening destroyed at `destroyed`: ids, patient,
// clinic, screened, record and validity times, the outcome and whether (by whom, when) it was
// overridden; the findings, notes and the override's reason are gone.
v1::Screening ScreeningTombstone(const v1::Screening& screening, absl::Time destroyed);

// The instant before which a questionnaire taken at `clinic` must be destroyed at `now`: the same
// wall-clock time `years` calendar years earlier in the clinic's zone (a questionnaire taken on
// 2024-03-01 09:00 local goes at 2026-03-01 09:00 local).
absl::Time DestructionCutoff(absl::Time now, int years, absl::TimeZone zone);

// The clinic-local day of `t`.
absl::CivilDay LocalDayOf(absl::Time t, absl::TimeZone zone);

// The zone named by a stored policy; UTC when empty (or, defensively, when it does not load: it
// was validated when saved).
absl::TimeZone ZoneNamed(const std::string& name);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_RULES_H_
