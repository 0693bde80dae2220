#include "services/compliance/clinic_scope.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"

namespace smp::compliance {
namespace {

absl::Status Refuse(absl::string_view kind, absl::string_view id) {
  return WithErrorInfo(absl::PermissionDeniedError(absl::StrCat(
                           kind, " ", id, " has records at a clinic outside your clinic scope")),
                       reason::kOutsideClinicScope, {{absl::StrCat(kind, "_id"), std::string(id)}});
}

bool AllInScope(const Principal& who, const std::vector<std::string>& clinics) {
  for (const std::string& clinic : clinics) {
    if (!who.CanAccessClinic(clinic)) return false;
  }
  return true;
}

}  // namespace

absl::Status CheckPatientInScope(const ComplianceStore& store, Transaction& txn,
                                 const Principal& who, absl::string_view patient_id) {
  if (who.IsChainWide() || patient_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> clinics, store.ClinicsOfPatient(txn, patient_id));
  return AllInScope(who, clinics) ? absl::OkStatus() : Refuse("patient", patient_id);
}

absl::Status CheckAppointmentInScope(const ComplianceStore& store, Transaction& txn,
                                     const Principal& who, absl::string_view appointment_id) {
  if (who.IsChainWide() || appointment_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> clinics,
                   store.ClinicsOfAppointment(txn, appointment_id));
  return AllInScope(who, clinics) ? absl::OkStatus() : Refuse("appointment", appointment_id);
}

absl::Status CheckPatientHomeInScope(PatientDirectory* directory, const Principal& who,
                                     absl::string_view patient_id) {
  if (directory == nullptr || who.IsChainWide() || patient_id.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> clinic = directory->ClinicOfPatient(std::string(patient_id));
  if (absl::IsNotFound(clinic.status())) return Refuse("patient", patient_id);
  if (!clinic.ok()) return clinic.status();
  if (!who.CanAccessClinic(*clinic)) return Refuse("patient", patient_id);
  return absl::OkStatus();
}

absl::Status CheckAppointmentHomeInScope(PatientDirectory* directory, const Principal& who,
                                         absl::string_view appointment_id) {
  if (directory == nullptr || who.IsChainWide() || appointment_id.empty()) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> clinic = directory->ClinicOfAppointment(std::string(appointment_id));
  if (absl::IsNotFound(clinic.status())) return Refuse("appointment", appointment_id);
  if (!clinic.ok()) return clinic.status();
  if (!who.CanAccessClinic(*clinic)) return Refuse("appointment", appointment_id);
  return absl::OkStatus();
}

}  // namespace smp::compliance
