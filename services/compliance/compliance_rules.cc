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

bool ScreeningAllows(const v1::Screening& screening) {
  return screening.outcome() == v1::SCREENING_OUTCOME_CLEAR || screening.has_override();
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
  } else if (!ScreeningAllows(*latest)) {
    std::string found;
    for (int c : latest->findings()) {
      absl::StrAppend(&found, found.empty() ? "" : ", ",
                      v1::Contraindication_Name(c).substr(strlen("CONTRAINDICATION_")));
    }
    reasons.push_back(Reason(
        v1::CONTRAINDICATED,
        absl::StrCat(
            v1::ScreeningOutcome_Name(latest->outcome()).substr(strlen("SCREENING_OUTCOME_")), " (",
            found, ") without a clinician's override")));
  }
  return reasons;
}

}  // namespace smp::compliance
