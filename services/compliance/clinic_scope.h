#ifndef SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_
#define SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_

// Clinic scope of the ids a compliance request names (issue 13). Patients and appointments are
// scheduling's; compliance knows the clinics it holds records of them at (consents, screenings,
// procedure records, incidents), and a clinic-scoped caller may name a patient or appointment only
// when every one of those clinics is in its scope. So clinic A's staff can neither read nor add to
// the compliance history of a patient that clinic B has records of. A chain-wide caller (for the
// call's permission) passes. Both answer before any other rule, inside the caller's transaction.
//
// A patient also belongs to the clinic scheduling says (CheckPatientHomeInScope): a clinic-scoped
// caller writing a patient's record must be a member of it, so an unseen patient is never bound to
// whichever clinic records first. An appointment compliance has no record of yet is bound by the
// record being written (procedure records come from scheduling itself, as a service).

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "common/db/database.h"
#include "services/compliance/compliance_store.h"
#include "services/compliance/patient_directory.h"

namespace smp::compliance {

// PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE, metadata patient_id) unless `who` may see every clinic
// compliance has records of `patient_id` at. The message names neither those clinics nor records.
absl::Status CheckPatientInScope(const ComplianceStore& store, Transaction& txn,
                                 const Principal& who, absl::string_view patient_id);

// The same for an appointment (metadata appointment_id).
absl::Status CheckAppointmentInScope(const ComplianceStore& store, Transaction& txn,
                                     const Principal& who, absl::string_view appointment_id);

// For a clinic-scoped caller writing a record of `patient_id`: PERMISSION_DENIED
// (OUTSIDE_CLINIC_SCOPE, metadata patient_id) unless the patient's clinic per scheduling
// (`directory`) is in its scope; the same answer when scheduling knows no such patient, so the
// answer tells nothing about other clinics' patients. UNAVAILABLE when scheduling cannot say.
// Chain-wide callers and an empty id pass without asking; so does everyone when `directory` is
// null (no --scheduling_address: only the records compliance holds bind the patient, see README).
// Call it outside any transaction (it may wait for scheduling).
absl::Status CheckPatientHomeInScope(PatientDirectory* directory, const Principal& who,
                                     absl::string_view patient_id);
// The same for an appointment (ReportIncident): its clinic per scheduling must be in the caller's
// scope, so an incident cannot be filed against an appointment of another clinic that compliance
// has no record of yet.
absl::Status CheckAppointmentHomeInScope(PatientDirectory* directory, const Principal& who,
                                         absl::string_view appointment_id);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_
