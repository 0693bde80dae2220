#include "services/compliance/eligibility.h"

#include <utility>

#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/clinic_scope.h"
#include "services/compliance/compliance_rules.h"

namespace smp::compliance {

absl::StatusOr<v1::CheckEligibilityResponse> Eligibility::CheckEligibility(
    const Call& call, const v1::CheckEligibilityRequest& req) const {
  RETURN_IF_ERROR(ValidateId("patient_id", req.patient_id()));
  RETURN_IF_ERROR(ValidateId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  ASSIGN_OR_RETURN(const absl::CivilDay day, ParseLocalDate("date", req.date()));
  if (req.procedure_type() == v1::PROCEDURE_TYPE_UNSPECIFIED ||
      !v1::ProcedureType_IsValid(req.procedure_type())) {
    return absl::InvalidArgumentError("procedure_type: choose a procedure type");
  }
  // The instant the procedure starts; the contract's dates run 1900..9999.
  constexpr int64_t kFirstSecond = -2208988800;  // 1900-01-01T00:00:00Z
  constexpr int64_t kLastSecond = 253402300799;  // 9999-12-31T23:59:59Z
  if (req.has_procedure_time() && (req.procedure_time().seconds() < kFirstSecond ||
                                   req.procedure_time().seconds() > kLastSecond)) {
    return absl::InvalidArgumentError("procedure_time: must lie in the years 1900..9999");
  }
  const absl::Time at =
      req.has_procedure_time() ? FromProtoTimestamp(req.procedure_time()) : call.now;
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::CheckEligibilityResponse out;
  RETURN_IF_ERROR(
      audit_->Read(call, "patient", req.patient_id(), [&](Transaction& txn) -> absl::Status {
        const ComplianceStore& store = audit_->store();
        // Another clinic's patient is refused before anything about them is read.
        RETURN_IF_ERROR(CheckPatientInScope(store, txn, call.who, req.patient_id()));
        EligibilityInputs in;
        in.day = day;
        in.at = at;
        ASSIGN_OR_RETURN(in.credentials, store.CredentialsOf(txn, req.practitioner_id()));
        ASSIGN_OR_RETURN(in.permits, store.PermitsOf(txn, req.clinic_id()));
        ASSIGN_OR_RETURN(in.consents, store.ConsentsOf(txn, req.patient_id()));
        ASSIGN_OR_RETURN(in.screenings, store.ScreeningsOf(txn, req.patient_id()));
        // A clinic-scoped caller learns allowed/denied and the reason codes; the detail (dates,
        // named contraindications, another clinic's practitioner's credentials) is for the
        // chain-wide callers: scheduling's gate, admins and auditors.
        const bool details = call.who.IsChainWide();
        for (v1::IneligibilityReason& r : Decide(in)) {
          if (!details) r.clear_message();
          *out.add_reasons() = std::move(r);
        }
        out.set_allowed(out.reasons_size() == 0);
        return absl::OkStatus();
      }));
  return out;
}

}  // namespace smp::compliance
