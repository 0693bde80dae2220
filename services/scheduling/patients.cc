#include "services/scheduling/patients.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {
namespace {

// A birth date may be today in any time zone: tomorrow in UTC is the first day refused.
absl::CivilDay LatestBirthDay(absl::Time now) {
  return absl::ToCivilDay(now, absl::UTCTimeZone()) + 1;
}

}  // namespace

absl::StatusOr<v1::Patient> Patients::Create(const Call& call,
                                             const v1::CreatePatientRequest& req) const {
  RETURN_IF_ERROR(ValidatePatient(req.patient(), LatestBirthDay(call.now)));
  RETURN_IF_ERROR(call.who.CheckClinic(req.patient().preferred_clinic_id()));
  return RunIdempotent<v1::Patient>(*db_, call, req, [&](Transaction& txn) {
    return store_->CreatePatient(txn, req.patient(), call.now);
  });
}

absl::StatusOr<v1::Patient> Patients::Get(const Call& call,
                                          const v1::GetPatientRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  v1::Patient patient;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(patient, store_->GetPatient(txn, req.id()));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(call.who.CheckClinic(patient.preferred_clinic_id()));
  return patient;
}

absl::StatusOr<v1::Patient> Patients::Update(const Call& call,
                                             const v1::UpdatePatientRequest& req) const {
  RETURN_IF_ERROR(ValidateId("patient.id", req.patient().id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("patient.etag", req.patient().etag()));
  if (req.update_mask().paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: name the fields to change");
  }
  return RunIdempotent<v1::Patient>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::Patient> {
        ASSIGN_OR_RETURN(v1::Patient p, store_->GetPatient(txn, req.patient().id()));
        RETURN_IF_ERROR(call.who.CheckClinic(p.preferred_clinic_id()));
        const v1::Patient& patch = req.patient();
        for (const std::string& path : req.update_mask().paths()) {
          if (path == "given_name") {
            p.set_given_name(patch.given_name());
          } else if (path == "family_name") {
            p.set_family_name(patch.family_name());
          } else if (path == "birth_date") {
            *p.mutable_birth_date() = patch.birth_date();
          } else if (path == "phone") {
            p.set_phone(patch.phone());
          } else if (path == "email") {
            p.set_email(patch.email());
          } else if (path == "preferred_clinic_id") {
            p.set_preferred_clinic_id(patch.preferred_clinic_id());
          } else {
            return absl::InvalidArgumentError(
                absl::StrCat("update_mask: \"", path.substr(0, 64), "\" cannot be updated"));
          }
        }
        RETURN_IF_ERROR(ValidatePatient(p, LatestBirthDay(call.now)));
        RETURN_IF_ERROR(call.who.CheckClinic(p.preferred_clinic_id()));
        return store_->UpdatePatient(txn, p, version, call.now);
      });
}

absl::StatusOr<v1::SearchPatientsResponse> Patients::Search(
    const Call& call, const v1::SearchPatientsRequest& req) const {
  RETURN_IF_ERROR(ValidateRequiredText("query", req.query(), 100));
  const std::string needle = absl::AsciiStrToLower(absl::StripAsciiWhitespace(req.query()));
  if (needle.size() < 2) return absl::InvalidArgumentError("query: at least 2 characters");
  RETURN_IF_ERROR(ValidateOptionalId("clinic_id", req.clinic_id()));
  std::optional<std::vector<std::string>> clinics = call.who.ClinicFilter();
  if (!req.clinic_id().empty()) {
    RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
    clinics = std::vector<std::string>{req.clinic_id()};
  }
  const std::string query = absl::StrCat("patients?q=", needle, "&clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::SearchPatientsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Patient> result, store_->SearchPatients(txn, needle, clinics, page));
    for (v1::Patient& p : result.items) *out.add_patients() = std::move(p);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::scheduling
