#include "services/identity/clinics.h"

#include <utility>

#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/identity/clinic_rules.h"

namespace smp::identity {

absl::StatusOr<v1::Clinic> Clinics::Create(const Call& call,
                                           const v1::CreateClinicRequest& request) const {
  RETURN_IF_ERROR(ValidateClinic(request.clinic(), "clinic"));
  return RunIdempotent<v1::Clinic>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Clinic> {
        ASSIGN_OR_RETURN(v1::Clinic created, store_.CreateClinic(txn, request.clinic(), call.now));
        RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "create_clinic", created.id(),
                                           created.name(), call.now));
        return created;
      });
}

absl::StatusOr<v1::Clinic> Clinics::Get(const Call& call,
                                        const v1::GetClinicRequest& request) const {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  // A clinic is its own scope: checked before reading, so that a clinic outside the caller's
  // scope is refused alike whether or not it exists.
  RETURN_IF_ERROR(call.who.CheckClinic(request.id()));
  v1::Clinic clinic;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(clinic, store_.GetClinic(txn, request.id()));
    return absl::OkStatus();
  }));
  return clinic;
}

absl::StatusOr<v1::ListClinicsResponse> Clinics::List(const Call& call,
                                                      const v1::ListClinicsRequest& request) const {
  constexpr char kQuery[] = "clinics";
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), kQuery));
  v1::ListClinicsResponse response;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Clinic> result,
                     store_.ListClinics(txn, page, call.who.ClinicFilter()));
    for (v1::Clinic& c : result.items) *response.add_clinics() = std::move(c);
    response.set_next_page_token(NextPageToken(kQuery, result.last_key));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Clinic> Clinics::Update(const Call& call,
                                           const v1::UpdateClinicRequest& request) const {
  const v1::Clinic& patch = request.clinic();
  RETURN_IF_ERROR(ValidateId("clinic.id", patch.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("clinic.etag", patch.etag()));
  RETURN_IF_ERROR(call.who.CheckClinic(patch.id()));
  return RunIdempotent<v1::Clinic>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Clinic> {
        ASSIGN_OR_RETURN(v1::Clinic current, store_.GetClinic(txn, patch.id()));
        ASSIGN_OR_RETURN(v1::Clinic updated,
                         ApplyClinicUpdate(current, patch, request.update_mask()));
        ASSIGN_OR_RETURN(v1::Clinic saved, store_.UpdateClinic(txn, updated, version, call.now));
        RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "update_clinic", saved.id(),
                                           request.update_mask().ShortDebugString(), call.now));
        return saved;
      });
}

}  // namespace smp::identity
