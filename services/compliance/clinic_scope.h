#ifndef SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_
#define SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_

// Clinic scope of the ids a compliance request names (issue 13). Patients and appointments are
// scheduling's; compliance knows the clinics it holds records of them at (consents, screenings,
// procedure records, incidents), and a clinic-scoped caller may name a patient or appointment only
// when every one of those clinics is in its scope. So clinic A's staff can neither read nor add to
// the compliance history of a patient that clinic B has records of. A chain-wide caller (for the
// call's permission) passes. Both answer before any other rule, inside the caller's transaction.
//
// Known limit: a patient or appointment of which compliance holds no record yet is not bound to
// a clinic here; the record being written (with its own clinic, checked by the caller) binds it.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "common/db/database.h"
#include "services/compliance/compliance_store.h"

namespace smp::compliance {

// PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE, metadata patient_id) unless `who` may see every clinic
// compliance has records of `patient_id` at. The message names neither those clinics nor records.
absl::Status CheckPatientInScope(const ComplianceStore& store, Transaction& txn,
                                 const Principal& who, absl::string_view patient_id);

// The same for an appointment (metadata appointment_id).
absl::Status CheckAppointmentInScope(const ComplianceStore& store, Transaction& txn,
                                     const Principal& who, absl::string_view appointment_id);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_CLINIC_SCOPE_H_
