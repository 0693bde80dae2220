#include "services/compliance/compliance_rules.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"

namespace smp::compliance {
namespace {

bool Contraindicating(v1::Contraindication c) {
  return c == v1::CONTRAINDICATION_HERPES_SIMPLEX || c == v1::CONTRAINDICATION_INFLAMED_SKIN ||
         c == v1::CONTRAINDICATION_KELOID_PRONE;
}

bool NeverOverridable(int c) {
  return c == v1::CONTRAINDICATION_HERPES_SIMPLEX || c == v1::CONTRAINDICATION_INFLAMED_SKIN;
}

v1::IneligibilityReason Reason(v1::IneligibilityCode code, std::string message) {
  v1::IneligibilityReason r;
  r.set_code(code);
  r.set_message(std::move(message));
  return r;
}

bool ValidOn(const common::v1::LocalDate& from, const common::v1::LocalDate& until,
             absl::CivilDay day) {
  return FromLocalDate(from) <= day && day <= FromLocalDate(until);
}

}  // namespace

v1::ScreeningOutcome OutcomeOf(const std::vector<v1::Contraindication>& findings) {
  if (findings.empty()) return v1::SCREENING_OUTCOME_CLEAR;
  if (std::any_of(findings.begin(), findings.end(), Contraindicating)) {
    return v1::SCREENING_OUTCOME_CONTRAINDICATED;
  }
  return v1::SCREENING_OUTCOME_NEEDS_REVIEW;
}

v1::Screening ScreeningAsRecorded(v1::Screening s, absl::Duration validity) {
  s.clear_override();
  std::vector<v1::Contraindication> findings;
  for (int f : s.findings()) findings.push_back(static_cast<v1::Contraindication>(f));
  s.set_outcome(OutcomeOf(findings));
  *s.mutable_valid_until() = ToProtoTimestamp(FromProtoTimestamp(s.screened_time()) + validity);
  return s;
}

absl::Status CheckOverridable(const v1::Screening& screening) {
  if (screening.outcome() == v1::SCREENING_OUTCOME_CLEAR) {
    return absl::FailedPreconditionError("the screening is clear; there is nothing to override");
  }
  for (int c : screening.findings()) {
    if (NeverOverridable(c)) {
      return absl::FailedPreconditionError(absl::StrCat(
          v1::Contraindication_Name(c),
          " cannot be overridden: treatment waits until it has healed; screen again then"));
    }
  }
  return absl::OkStatus();
}

bool ScreeningAllows(const v1::Screening& screening, absl::Time at) {
  return screening.outcome() == v1::SCREENING_OUTCOME_CLEAR ||
         (screening.has_override() &&
          FromProtoTimestamp(screening.override().decided_time()) <= at);
}

absl::Status CheckTrainingValidity(const v1::Credential& c) {
  if (c.kind() != v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) return absl::OkStatus();
  auto year_after = [](const common::v1::LocalDate& d) {
    // The same calendar day a year later (29 February -> 1 March).
    return absl::CivilDay(d.year() + 1, d.month(), d.day());
  };
  const absl::CivilDay until = FromLocalDate(c.valid_until());
  if (until > year_after(c.valid_from()) ||
      (c.training().has_training_date() && until > year_after(c.training().training_date()))) {
    return absl::InvalidArgumentError(
        "credential.valid_until: bloodborne-pathogen training is valid for at most one year after "
        "valid_from and the training date (OSHA 29 CFR 1910.1030: yearly)");
  }
  return absl::OkStatus();
}

const std::vector<v1::CredentialKind>& RequiredCredentials() {
  static const auto* const kinds = new std::vector<v1::CredentialKind>{
      v1::CREDENTIAL_KIND_SMP_CERTIFICATION, v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING,
      v1::CREDENTIAL_KIND_BODY_ART_LICENSE};
  return *kinds;
}

std::vector<v1::IneligibilityReason> Decide(const EligibilityInputs& in) {
  std::vector<v1::IneligibilityReason> reasons;
  for (v1::CredentialKind kind : RequiredCredentials()) {
    const v1::Credential* latest = nullptr;
    bool valid = false;
    for (const v1::Credential& c : in.credentials) {
      if (c.kind() != kind) continue;
      if (ValidOn(c.valid_from(), c.valid_until(), in.day)) valid = true;
      if (latest == nullptr ||
          FromLocalDate(c.valid_until()) > FromLocalDate(latest->valid_until()))
        latest = &c;
    }
    if (valid) continue;
    const std::string name = v1::CredentialKind_Name(kind).substr(strlen("CREDENTIAL_KIND_"));
    reasons.push_back(
        Reason(v1::CREDENTIAL_INVALID,
               latest == nullptr
                   ? absl::StrCat(name, ": none on file")
                   : absl::StrCat(name, ": valid ", DayText(FromLocalDate(latest->valid_from())),
                                  " to ", DayText(FromLocalDate(latest->valid_until())),
                                  ", not on ", DayText(in.day))));
  }

  const bool permitted =
      std::any_of(in.permits.begin(), in.permits.end(), [&](const v1::Permit& p) {
        return p.kind() == v1::PERMIT_KIND_COUNTY_HEALTH &&
               ValidOn(p.valid_from(), p.valid_until(), in.day);
      });
  if (!permitted) {
    reasons.push_back(Reason(v1::PERMIT_INVALID,
                             absl::StrCat("no county health permit valid on ", DayText(in.day))));
  }

  const bool consented =
      std::any_of(in.consents.begin(), in.consents.end(), [&](const v1::Consent& c) {
        return c.kind() == v1::CONSENT_KIND_PROCEDURE &&
               FromProtoTimestamp(c.signed_time()) <= in.at &&
               (!c.has_withdrawn_time() || FromProtoTimestamp(c.withdrawn_time()) > in.at);
      });
  if (!consented) {
    reasons.push_back(Reason(v1::CONSENT_MISSING, "no procedure consent in force"));
  }

  // The newest screening made by then decides.
  const v1::Screening* latest = nullptr;
  for (const v1::Screening& s : in.screenings) {
    if (FromProtoTimestamp(s.screened_time()) > in.at) continue;
    if (latest == nullptr ||
        FromProtoTimestamp(s.screened_time()) > FromProtoTimestamp(latest->screened_time())) {
      latest = &s;
    }
  }
  if (latest == nullptr) {
    reasons.push_back(Reason(v1::SCREENING_MISSING, "no contraindication screening on file"));
  } else if (FromProtoTimestamp(latest->valid_until()) < in.at) {
    reasons.push_back(
        Reason(v1::SCREENING_MISSING, "the last screening is outdated; screen again"));
  } else if (!ScreeningAllows(*latest, in.at)) {
    std::string found;
    for (int c : latest->findings()) {
      absl::StrAppend(&found, found.empty() ? "" : ", ",
                      v1::Contraindication_Name(c).substr(strlen("CONTRAINDICATION_")));
    }
    reasons.push_back(Reason(
        v1::CONTRAINDICATED,
        absl::StrCat(
            "the screening found ",
            latest->has_destroyed_time() ? "contraindications (findings destroyed by retention)"
                                         : found,
            " (outcome ",
            v1::ScreeningOutcome_Name(latest->outcome()).substr(strlen("SCREENING_OUTCOME_")),
            ") and there is no ",
            latest->has_override() ? "override decided before the procedure"
                                   : "clinician's override")));
  }
  return reasons;
}

namespace {

bool OnFileAt(const google::protobuf::Timestamp& record_time, bool has_record_time, absl::Time at) {
  return !has_record_time || FromProtoTimestamp(record_time) <= at;
}

v1::FindingKind FindingOf(v1::IneligibilityCode code) {
  switch (code) {
    case v1::CREDENTIAL_INVALID:
      return v1::FINDING_KIND_CREDENTIAL_INVALID;
    case v1::PERMIT_INVALID:
      return v1::FINDING_KIND_PERMIT_INVALID;
    case v1::CONSENT_MISSING:
      return v1::FINDING_KIND_NO_CONSENT;
    case v1::CONTRAINDICATED:
      return v1::FINDING_KIND_CONTRAINDICATED;
    default:
      return v1::FINDING_KIND_SCREENING_MISSING;
  }
}

bool ScreeningCode(v1::IneligibilityCode code) {
  return code == v1::SCREENING_MISSING || code == v1::CONTRAINDICATED;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", FromProtoTimestamp(t), absl::UTCTimeZone());
}

}  // namespace

std::vector<ProcedureFinding> JudgeProcedure(const EligibilityInputs& in) {
  std::vector<ProcedureFinding> findings;
  const std::vector<v1::IneligibilityReason> now_reasons = Decide(in);
  bool consent_issue = false;
  bool screening_issue = false;
  for (const v1::IneligibilityReason& r : now_reasons) {
    consent_issue |= r.code() == v1::CONSENT_MISSING;
    screening_issue |= ScreeningCode(r.code());
    findings.push_back({FindingOf(r.code()), r.message()});
  }
  if (consent_issue && screening_issue) return findings;

  std::vector<const v1::Consent*> late_consents;
  std::vector<const v1::Screening*> late_screenings;
  for (const v1::Consent& c : in.consents) {
    if (!OnFileAt(c.record_time(), c.has_record_time(), in.at)) late_consents.push_back(&c);
  }
  for (const v1::Screening& s : in.screenings) {
    if (!OnFileAt(s.record_time(), s.has_record_time(), in.at)) late_screenings.push_back(&s);
  }
  if (late_consents.empty() && late_screenings.empty()) return findings;
  // The same judgement over the consents and screenings on file at the time of the procedure
  // (only its consent and screening reasons are read below, so the credentials and permits are
  // left out rather than copied: a report judges every procedure of a year this way).
  EligibilityInputs then;
  then.day = in.day;
  then.at = in.at;
  for (const v1::Consent& c : in.consents) {
    if (OnFileAt(c.record_time(), c.has_record_time(), in.at)) then.consents.push_back(c);
  }
  for (const v1::Screening& s : in.screenings) {
    if (OnFileAt(s.record_time(), s.has_record_time(), in.at)) then.screenings.push_back(s);
  }
  bool consent_then = false;
  bool screening_then = false;
  for (const v1::IneligibilityReason& r : Decide(then)) {
    consent_then |= r.code() == v1::CONSENT_MISSING;
    screening_then |= ScreeningCode(r.code());
  }
  if (consent_then && !consent_issue) {
    std::string detail = "the procedure consent was recorded after the procedure";
    for (const v1::Consent* c : late_consents) {
      if (c->kind() != v1::CONSENT_KIND_PROCEDURE) continue;
      detail = absl::StrCat("procedure consent ", c->id(), " signed ", TimeText(c->signed_time()),
                            " was recorded ", TimeText(c->record_time()), ", after the procedure");
      break;
    }
    findings.push_back({v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE, std::move(detail)});
  }
  if (screening_then && !screening_issue) {
    std::string detail = "the screening in force was recorded after the procedure";
    for (const v1::Screening* s : late_screenings) {
      if (FromProtoTimestamp(s->screened_time()) > in.at) continue;
      detail = absl::StrCat("screening ", s->id(), " taken ", TimeText(s->screened_time()),
                            " was recorded ", TimeText(s->record_time()), ", after the procedure");
      break;
    }
    findings.push_back({v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE, std::move(detail)});
  }
  return findings;
}

std::vector<v1::Finding> ProcedureFindings(
    const v1::ProcedureRecord& r, const EligibilityInputs& in,
    absl::FunctionRef<std::string(const std::string& serial)> other_use,
    absl::FunctionRef<const v1::LotRecall*(const std::string& product_id, const std::string& lot)>
        recall_of) {
  std::vector<v1::Finding> findings;
  auto add = [&](v1::FindingKind kind, std::string detail) {
    v1::Finding& f = findings.emplace_back();
    f.set_kind(kind);
    f.set_clinic_id(r.clinic_id());
    f.set_procedure_id(r.id());
    f.set_appointment_id(r.appointment_id());
    f.set_detail(std::move(detail));
  };
  for (ProcedureFinding& f : JudgeProcedure(in)) add(f.kind, std::move(f.detail));
  const v1::ProcedureChecklist& c = r.checklist();
  if (!(c.sealed_needles_opened_before_client() && c.gloves_worn() && c.mask_worn() &&
        c.sterile_field() && c.sharps_disposed())) {
    add(v1::FINDING_KIND_CHECKLIST_INCOMPLETE, "the sterile-procedure checklist is incomplete");
  }
  for (const v1::NeedleUse& n : r.needles()) {
    if (FromLocalDate(n.expiry_date()) < in.day) {
      add(v1::FINDING_KIND_EXPIRED_LOT, absl::StrCat("needle lot ", n.lot(), " expired ",
                                                     DayText(FromLocalDate(n.expiry_date()))));
    }
    if (n.serial().empty()) continue;
    const std::string other = other_use(n.serial());
    if (!other.empty()) {
      add(v1::FINDING_KIND_NEEDLE_REUSE,
          absl::StrCat("needle ", n.serial(), " is also recorded in procedure ", other));
    }
  }
  // A lot used at or after its recall.
  const absl::Time at = FromProtoTimestamp(r.performed_time());
  auto check_recall = [&](const std::string& product, const std::string& lot,
                          absl::string_view what) {
    const v1::LotRecall* recall = recall_of(product, lot);
    if (recall != nullptr && FromProtoTimestamp(recall->recall_time()) <= at) {
      add(v1::FINDING_KIND_RECALLED_LOT,
          absl::StrCat(what, " lot ", lot, " was recalled: ", recall->reason()));
    }
  };
  for (const v1::NeedleUse& n : r.needles()) check_recall(n.product_id(), n.lot(), "needle");
  for (const v1::PigmentUse& p : r.pigments()) check_recall(p.product_id(), p.lot(), "pigment");
  for (const v1::PigmentUse& p : r.pigments()) {
    if (FromLocalDate(p.expiry_date()) < in.day) {
      add(v1::FINDING_KIND_EXPIRED_LOT, absl::StrCat("pigment lot ", p.lot(), " expired ",
                                                     DayText(FromLocalDate(p.expiry_date()))));
    }
  }
  return findings;
}

v1::Screening ScreeningTombstone(const v1::Screening& s, absl::Time destroyed) {
  v1::Screening t;
  t.set_id(s.id());
  t.set_patient_id(s.patient_id());
  t.set_clinic_id(s.clinic_id());
  *t.mutable_screened_time() = s.screened_time();
  t.set_outcome(s.outcome());
  *t.mutable_valid_until() = s.valid_until();
  if (s.has_record_time()) *t.mutable_record_time() = s.record_time();
  if (s.has_override()) {
    t.mutable_override()->set_clinician_id(s.override().clinician_id());
    *t.mutable_override()->mutable_decided_time() = s.override().decided_time();
  }
  *t.mutable_destroyed_time() = ToProtoTimestamp(destroyed);
  return t;
}

absl::Time DestructionCutoff(absl::Time now, int years, absl::TimeZone zone) {
  const absl::CivilSecond local = absl::ToCivilSecond(now, zone);
  const absl::CivilSecond before(local.year() - years, local.month(), local.day(), local.hour(),
                                 local.minute(), local.second());
  // A wall-clock time repeated by a DST change resolves to its first occurrence (absl's `pre`).
  return zone.At(before).pre;
}

absl::CivilDay LocalDayOf(absl::Time t, absl::TimeZone zone) { return absl::ToCivilDay(t, zone); }

absl::TimeZone ZoneNamed(const std::string& name) {
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!name.empty() && !absl::LoadTimeZone(name, &zone)) return absl::UTCTimeZone();
  return zone;
}

}  // namespace smp::compliance
