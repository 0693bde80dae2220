#include "services/compliance/record_validation.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/compliance_rules.h"

namespace smp::compliance {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

constexpr absl::Duration kClockSkew = absl::Minutes(1);

// Domain rule, not a date-format limit: no consent, screening, procedure or incident of the chain
// predates 1990 (scalp micropigmentation clinics did not exist before), so an earlier time is a
// typing error.
absl::Time EarliestRecordTime() {
  return absl::FromCivil(absl::CivilDay(1990, 1, 1), absl::UTCTimeZone());
}

absl::Status ValidatePast(absl::string_view field, bool present,
                          const google::protobuf::Timestamp& t, absl::Time now) {
  if (!present) return Invalid(field, "is required");
  if (FromProtoTimestamp(t) > now + kClockSkew) return Invalid(field, "is in the future");
  if (FromProtoTimestamp(t) < EarliestRecordTime()) return Invalid(field, "is implausibly old");
  return absl::OkStatus();
}

absl::Status ValidateValidity(absl::string_view prefix, const common::v1::LocalDate& from,
                              const common::v1::LocalDate& until) {
  ASSIGN_OR_RETURN(const absl::CivilDay first,
                   ParseLocalDate(absl::StrCat(prefix, ".valid_from"), from));
  ASSIGN_OR_RETURN(const absl::CivilDay last,
                   ParseLocalDate(absl::StrCat(prefix, ".valid_until"), until));
  if (last < first) {
    return Invalid(absl::StrCat(prefix, ".valid_until"), "is before valid_from");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCredential(const v1::Credential& c) {
  RETURN_IF_ERROR(ValidateId("credential.practitioner_id", c.practitioner_id()));
  if (c.kind() == v1::CREDENTIAL_KIND_UNSPECIFIED || !v1::CredentialKind_IsValid(c.kind())) {
    return Invalid("credential.kind", "choose a credential kind");
  }
  RETURN_IF_ERROR(ValidateRequiredText("credential.issuer", c.issuer(), 200));
  RETURN_IF_ERROR(ValidateOptionalText("credential.number", c.number(), 100));
  RETURN_IF_ERROR(ValidateValidity("credential", c.valid_from(), c.valid_until()));
  RETURN_IF_ERROR(
      ValidateOptionalText("credential.document_reference", c.document_reference(), 500));
  if (c.kind() == v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
    // OSHA 29 CFR 1910.1030(h)(2): training records keep date, content, trainer and qualification.
    const v1::TrainingDetails& t = c.training();
    RETURN_IF_ERROR(
        ValidateRequiredText("credential.training.content_summary", t.content_summary(), 1000));
    RETURN_IF_ERROR(
        ValidateRequiredText("credential.training.trainer_name", t.trainer_name(), 200));
    RETURN_IF_ERROR(ValidateRequiredText("credential.training.trainer_qualification",
                                         t.trainer_qualification(), 200));
    RETURN_IF_ERROR(
        ParseLocalDate("credential.training.training_date", t.training_date()).status());
    RETURN_IF_ERROR(CheckTrainingValidity(c));
  }
  return absl::OkStatus();
}

absl::Status ValidatePermit(const v1::Permit& p) {
  RETURN_IF_ERROR(ValidateId("permit.clinic_id", p.clinic_id()));
  if (p.kind() == v1::PERMIT_KIND_UNSPECIFIED || !v1::PermitKind_IsValid(p.kind())) {
    return Invalid("permit.kind", "choose a permit kind");
  }
  RETURN_IF_ERROR(ValidateRequiredText("permit.issuer", p.issuer(), 200));
  RETURN_IF_ERROR(ValidateOptionalText("permit.number", p.number(), 100));
  RETURN_IF_ERROR(ValidateOptionalText("permit.document_reference", p.document_reference(), 500));
  return ValidateValidity("permit", p.valid_from(), p.valid_until());
}

absl::Status ValidateConsent(const v1::Consent& c, absl::Time now) {
  RETURN_IF_ERROR(ValidateId("consent.patient_id", c.patient_id()));
  RETURN_IF_ERROR(ValidateId("consent.clinic_id", c.clinic_id()));
  if (c.kind() == v1::CONSENT_KIND_UNSPECIFIED || !v1::ConsentKind_IsValid(c.kind())) {
    return Invalid("consent.kind", "choose PROCEDURE or PHOTO_GALLERY");
  }
  RETURN_IF_ERROR(ValidateRequiredText("consent.form_version", c.form_version(), 50));
  return ValidatePast("consent.signed_time", c.has_signed_time(), c.signed_time(), now);
}

absl::Status ValidateScreening(const v1::Screening& s, absl::Time now) {
  RETURN_IF_ERROR(ValidateId("screening.patient_id", s.patient_id()));
  RETURN_IF_ERROR(ValidateId("screening.clinic_id", s.clinic_id()));
  RETURN_IF_ERROR(
      ValidatePast("screening.screened_time", s.has_screened_time(), s.screened_time(), now));
  for (int i = 0; i < s.findings_size(); ++i) {
    if (s.findings(i) == v1::CONTRAINDICATION_UNSPECIFIED ||
        !v1::Contraindication_IsValid(s.findings(i))) {
      return Invalid(absl::StrCat("screening.findings[", i, "]"),
                     absl::StrCat("unknown contraindication ", s.findings(i)));
    }
  }
  return ValidateOptionalText("screening.notes", s.notes(), 1000);
}

absl::Status ValidateProcedure(const v1::ProcedureRecord& r, absl::Time now) {
  RETURN_IF_ERROR(ValidateId("record.appointment_id", r.appointment_id()));
  RETURN_IF_ERROR(ValidateId("record.clinic_id", r.clinic_id()));
  RETURN_IF_ERROR(ValidateId("record.patient_id", r.patient_id()));
  RETURN_IF_ERROR(ValidateId("record.practitioner_id", r.practitioner_id()));
  if (r.procedure_type() == v1::PROCEDURE_TYPE_UNSPECIFIED ||
      !v1::ProcedureType_IsValid(r.procedure_type())) {
    return Invalid("record.procedure_type", "choose a procedure type");
  }
  RETURN_IF_ERROR(
      ValidatePast("record.performed_time", r.has_performed_time(), r.performed_time(), now));
  RETURN_IF_ERROR(ParseLocalDate("record.performed_date", r.performed_date()).status());
  if (r.needles_size() > 50) return Invalid("record.needles", "at most 50 needle cartridges");
  if (r.pigments_size() > 20) return Invalid("record.pigments", "at most 20 pigments");
  for (int i = 0; i < r.needles_size(); ++i) {
    const std::string f = absl::StrCat("record.needles[", i, "]");
    RETURN_IF_ERROR(ValidateRequiredText(absl::StrCat(f, ".lot"), r.needles(i).lot(), 100));
    RETURN_IF_ERROR(ValidateOptionalText(absl::StrCat(f, ".serial"), r.needles(i).serial(), 100));
    RETURN_IF_ERROR(
        ParseLocalDate(absl::StrCat(f, ".expiry_date"), r.needles(i).expiry_date()).status());
  }
  for (int i = 0; i < r.pigments_size(); ++i) {
    const std::string f = absl::StrCat("record.pigments[", i, "]");
    RETURN_IF_ERROR(ValidateRequiredText(absl::StrCat(f, ".lot"), r.pigments(i).lot(), 100));
    RETURN_IF_ERROR(ValidateOptionalText(absl::StrCat(f, ".shade"), r.pigments(i).shade(), 100));
    RETURN_IF_ERROR(
        ParseLocalDate(absl::StrCat(f, ".expiry_date"), r.pigments(i).expiry_date()).status());
  }
  RETURN_IF_ERROR(ValidateOptionalText("record.pigment_blend", r.pigment_blend(), 500));
  RETURN_IF_ERROR(ValidateOptionalText("record.anaesthetic", r.anaesthetic(), 200));
  return ValidateOptionalText("record.notes", r.notes(), 2000);
}

absl::Status ValidateIncident(const v1::Incident& i, absl::Time now) {
  if (i.kind() == v1::INCIDENT_KIND_UNSPECIFIED || !v1::IncidentKind_IsValid(i.kind())) {
    return Invalid("incident.kind", "choose an incident kind");
  }
  RETURN_IF_ERROR(ValidateId("incident.clinic_id", i.clinic_id()));
  if (!i.patient_id().empty()) RETURN_IF_ERROR(ValidateId("incident.patient_id", i.patient_id()));
  if (!i.appointment_id().empty()) {
    RETURN_IF_ERROR(ValidateId("incident.appointment_id", i.appointment_id()));
  }
  RETURN_IF_ERROR(
      ValidatePast("incident.occurred_time", i.has_occurred_time(), i.occurred_time(), now));
  RETURN_IF_ERROR(ValidateRequiredText("incident.description", i.description(), 2000));
  return ValidateOptionalText("incident.follow_up", i.follow_up(), 2000);
}

}  // namespace smp::compliance
