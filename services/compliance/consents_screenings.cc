#include "services/compliance/consents_screenings.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/clinic_scope.h"
#include "services/compliance/compliance_reasons.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/record_validation.h"

namespace smp::compliance {

absl::StatusOr<v1::Consent> ConsentsScreenings::RecordConsent(
    const Call& call, const v1::RecordConsentRequest& req) const {
  RETURN_IF_ERROR(call.who.CheckClinic(req.consent().clinic_id()));
  RETURN_IF_ERROR(ValidateConsent(req.consent(), call.now));
  RETURN_IF_ERROR(CheckPatientHomeInScope(patients_, call.who, req.consent().patient_id()));
  return audit_->Create<v1::Consent>(
      call, req, "consent", [&](Transaction& txn) -> absl::StatusOr<v1::Consent> {
        RETURN_IF_ERROR(
            CheckPatientInScope(audit_->store(), txn, call.who, req.consent().patient_id()));
        v1::Consent c = req.consent();
        c.clear_withdrawn_time();
        return audit_->store().AddConsent(txn, std::move(c), call.now);
      });
}

absl::StatusOr<v1::Consent> ConsentsScreenings::WithdrawConsent(
    const Call& call, const v1::WithdrawConsentRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  const absl::Time when =
      req.has_withdrawn_time() ? FromProtoTimestamp(req.withdrawn_time()) : call.now;
  if (when > call.now + absl::Minutes(1)) {
    return absl::InvalidArgumentError("withdrawn_time: is in the future");
  }
  return RunIdempotent<v1::Consent>(
      audit_->db(), call, req, AuditChainQueue(),
      [&](Transaction& txn) -> absl::StatusOr<v1::Consent> {
        ASSIGN_OR_RETURN(v1::Consent c, audit_->store().GetConsent(txn, req.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(c.clinic_id()));
        if (c.has_withdrawn_time()) {
          return WithErrorInfo(absl::FailedPreconditionError(
                                   absl::StrCat("consent ", c.id(), " was already withdrawn")),
                               reason::kAlreadyWithdrawn, {{"consent_id", c.id()}});
        }
        if (when < FromProtoTimestamp(c.signed_time())) {
          return absl::InvalidArgumentError("withdrawn_time: is before the consent was signed");
        }
        *c.mutable_withdrawn_time() = ToProtoTimestamp(when);
        RETURN_IF_ERROR(audit_->store().UpdateConsent(txn, c));
        RETURN_IF_ERROR(
            audit_->Record(txn, call, v1::AUDIT_ACTION_UPDATE, "consent", c.id(), "withdrawn")
                .status());
        return c;
      });
}

absl::StatusOr<v1::ListConsentsResponse> ConsentsScreenings::ListConsents(
    const Call& call, const v1::ListConsentsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("patient_id", req.patient_id()));
  const std::string query = absl::StrCat("ListConsents/", req.patient_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListConsentsResponse out;
  RETURN_IF_ERROR(
      audit_->Read(call, "patient", req.patient_id(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(auto found, audit_->store().ListConsents(txn, req.patient_id(), page));
        for (auto& c : found.items) {
          if (call.who.CanAccessClinic(c.clinic_id())) *out.add_consents() = std::move(c);
        }
        out.set_next_page_token(NextPageToken(query, found.last_key));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Screening> ConsentsScreenings::RecordScreening(
    const Call& call, const v1::RecordScreeningRequest& req) const {
  RETURN_IF_ERROR(call.who.CheckClinic(req.screening().clinic_id()));
  RETURN_IF_ERROR(ValidateScreening(req.screening(), call.now));
  RETURN_IF_ERROR(CheckPatientHomeInScope(patients_, call.who, req.screening().patient_id()));
  return audit_->Create<v1::Screening>(
      call, req, "screening", [&](Transaction& txn) -> absl::StatusOr<v1::Screening> {
        // Another clinic's patient cannot be screened here (the newest screening decides
        // eligibility everywhere, so this would unblock or block that clinic's bookings).
        RETURN_IF_ERROR(
            CheckPatientInScope(audit_->store(), txn, call.who, req.screening().patient_id()));
        return audit_->store().AddScreening(
            txn, ScreeningAsRecorded(req.screening(), screening_validity_), call.now);
      });
}

absl::StatusOr<v1::Screening> ConsentsScreenings::OverrideScreening(
    const Call& call, const v1::OverrideScreeningRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 1000));
  return RunIdempotent<v1::Screening>(
      audit_->db(), call, req, AuditChainQueue(),
      [&](Transaction& txn) -> absl::StatusOr<v1::Screening> {
        ASSIGN_OR_RETURN(v1::Screening s, audit_->store().GetScreening(txn, req.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(s.clinic_id()));
        absl::Status overridable =
            s.has_destroyed_time() ? absl::FailedPreconditionError(
                                         "the screening's content was destroyed by retention")
            : s.has_override()
                ? absl::FailedPreconditionError("the screening is already overridden")
                : CheckOverridable(s);
        if (!overridable.ok()) {
          return WithErrorInfo(std::move(overridable), reason::kNotOverridable,
                               {{"screening_id", s.id()}});
        }
        v1::ScreeningOverride* o = s.mutable_override();
        o->set_clinician_id(call.who.staff_id);
        o->set_reason(req.reason());
        *o->mutable_decided_time() = ToProtoTimestamp(call.now);
        RETURN_IF_ERROR(audit_->store().UpdateScreening(txn, s));
        // The reason is health data: it stays on the screening (which retention may destroy), not
        // in the audit log, which is never rewritten.
        RETURN_IF_ERROR(
            audit_->Record(txn, call, v1::AUDIT_ACTION_UPDATE, "screening", s.id(), "overridden")
                .status());
        return s;
      });
}

absl::StatusOr<v1::ListScreeningsResponse> ConsentsScreenings::ListScreenings(
    const Call& call, const v1::ListScreeningsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("patient_id", req.patient_id()));
  const std::string query = absl::StrCat("ListScreenings/", req.patient_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListScreeningsResponse out;
  RETURN_IF_ERROR(
      audit_->Read(call, "patient", req.patient_id(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(auto found, audit_->store().ListScreenings(txn, req.patient_id(), page));
        for (auto& s : found.items) {
          if (call.who.CanAccessClinic(s.clinic_id())) *out.add_screenings() = std::move(s);
        }
        out.set_next_page_token(NextPageToken(query, found.last_key));
        return absl::OkStatus();
      }));
  return out;
}

}  // namespace smp::compliance
