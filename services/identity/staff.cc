#include "services/identity/staff.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/identity/identity_reasons.h"
#include "services/identity/sessions.h"
#include "services/identity/staff_rules.h"

namespace smp::identity {
namespace {

constexpr size_t kMaxReasonChars = 500;

// Every clinic an account is to work at must be in the caller's scope: a clinic-scoped caller
// cannot grant access to another clinic.
absl::Status CheckClinicsInScope(const Call& call, const v1::Staff& staff) {
  for (const std::string& clinic : staff.clinic_ids()) {
    RETURN_IF_ERROR(call.who.CheckClinic(clinic));
  }
  return absl::OkStatus();
}

const char* StateName(v1::StaffState state) {
  return state == v1::STAFF_STATE_ACTIVE ? "active" : "disabled";
}

}  // namespace

absl::StatusOr<v1::Staff> StaffAccounts::Create(const Call& call,
                                                const v1::CreateStaffRequest& request) const {
  v1::Staff staff = request.staff();
  staff.set_username(NormalizeUsername(staff.username()));
  RETURN_IF_ERROR(ValidateUsername("staff.username", staff.username()));
  RETURN_IF_ERROR(ValidateStaffProfile(staff, "staff"));
  RETURN_IF_ERROR(ValidatePassword("initial_password", request.initial_password()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  RETURN_IF_ERROR(CheckClinicsInScope(call, staff));
  // Hash outside the write transaction: it is slow and needs no lock. A replay hashes in vain,
  // which is cheaper than holding the database's write lock for 50 ms per account.
  ASSIGN_OR_RETURN(std::string hash, hasher_->Hash(request.initial_password()));
  return RunIdempotent<v1::Staff>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
        RETURN_IF_ERROR(store_.CheckClinicsExist(txn, staff, "staff"));
        ASSIGN_OR_RETURN(v1::Staff created, store_.CreateStaff(txn, staff, hash, call.now));
        RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "create_staff", created.id(),
                                           created.username(), call.now));
        return created;
      });
}

absl::StatusOr<v1::Staff> StaffAccounts::Get(const Call& call,
                                             const v1::GetStaffRequest& request) const {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  v1::Staff staff;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(staff, store_.GetStaff(txn, request.id()));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(CheckCanSeeStaff(call.who, staff));
  return staff;
}

absl::StatusOr<v1::ListStaffResponse> StaffAccounts::List(
    const Call& call, const v1::ListStaffRequest& request) const {
  RETURN_IF_ERROR(ValidateOptionalId("clinic_id", request.clinic_id()));
  std::optional<std::vector<std::string>> clinics = call.who.ClinicFilter();
  if (!request.clinic_id().empty()) {
    RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
    clinics = std::vector<std::string>{request.clinic_id()};
  }
  const std::string query = absl::StrCat("staff?clinic=", request.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  v1::ListStaffResponse response;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Staff> result, store_.ListStaff(txn, page, clinics));
    for (v1::Staff& s : result.items) *response.add_staff() = std::move(s);
    response.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Staff> StaffAccounts::Update(const Call& call,
                                                const v1::UpdateStaffRequest& request) const {
  const v1::Staff& patch = request.staff();
  RETURN_IF_ERROR(ValidateId("staff.id", patch.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("staff.etag", patch.etag()));
  ASSIGN_OR_RETURN(
      v1::Staff saved,
      RunIdempotent<v1::Staff>(
          *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
            ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, patch.id()));
            RETURN_IF_ERROR(CheckCanSeeStaff(call.who, current));
            ASSIGN_OR_RETURN(v1::Staff updated,
                             ApplyStaffUpdate(current, patch, request.update_mask()));
            RETURN_IF_ERROR(CheckClinicsInScope(call, updated));
            RETURN_IF_ERROR(store_.CheckClinicsExist(txn, updated, "staff"));
            ASSIGN_OR_RETURN(v1::Staff written,
                             store_.UpdateStaffProfile(txn, updated, version, call.now));
            if (IsActiveAdmin(current) && !IsActiveAdmin(written)) {
              ASSIGN_OR_RETURN(int64_t admins, store_.CountActiveAdmins(txn));
              RETURN_IF_ERROR(CheckAdminRemains(static_cast<int>(admins)));
            }
            RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "update_staff", written.id(),
                                               request.update_mask().ShortDebugString(), call.now));
            // Sessions carry the grants they were made with, so they go when roles or clinics
            // are written. Decided by the mask, not by a diff.
            if (UpdateTouchesGrants(request.update_mask())) {
              RETURN_IF_ERROR(revocations_.Record(txn, written.id(), "update_staff", call.now));
            }
            return written;
          }));
  if (!UpdateTouchesGrants(request.update_mask())) return saved;
  return FinishRevocation(std::move(saved));
}

template <typename Request>
absl::StatusOr<v1::Staff> StaffAccounts::SetState(const Call& call, const Request& request,
                                                  v1::StaffState state, absl::string_view action,
                                                  absl::string_view detail) const {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return RunIdempotent<v1::Staff>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
        ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, request.id()));
        RETURN_IF_ERROR(CheckCanSeeStaff(call.who, current));
        if (current.state() == state) {
          return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                                   "staff ", request.id(), " is already ", StateName(state))),
                               identity_reason::kAlreadyInState,
                               {{"staff_id", request.id()}, {"state", v1::StaffState_Name(state)}});
        }
        ASSIGN_OR_RETURN(v1::Staff saved, store_.SetStaffState(txn, request.id(), state, call.now));
        if (IsActiveAdmin(current) && !IsActiveAdmin(saved)) {
          ASSIGN_OR_RETURN(int64_t admins, store_.CountActiveAdmins(txn));
          RETURN_IF_ERROR(CheckAdminRemains(static_cast<int>(admins)));
        }
        RETURN_IF_ERROR(
            store_.RecordEvent(txn, call.who.staff_id, action, saved.id(), detail, call.now));
        if (state == v1::STAFF_STATE_DISABLED) {
          RETURN_IF_ERROR(revocations_.Record(txn, saved.id(), action, call.now));
        }
        return saved;
      });
}

absl::StatusOr<v1::Staff> StaffAccounts::FinishRevocation(v1::Staff saved) const {
  ASSIGN_OR_RETURN(bool pending, revocations_.Finish(saved.id()));
  saved.set_session_revocation_pending(pending);
  return saved;
}

absl::StatusOr<v1::Staff> StaffAccounts::Disable(const Call& call,
                                                 const v1::DisableStaffRequest& request) const {
  RETURN_IF_ERROR(ValidateRequiredText("reason", request.reason(), kMaxReasonChars));
  ASSIGN_OR_RETURN(v1::Staff saved, SetState(call, request, v1::STAFF_STATE_DISABLED,
                                             "disable_staff", request.reason()));
  // After the commit, so that a concurrent login either sees "disabled" or has its new session
  // revoked (by its own re-check, see Sessions::ConfirmStillActive, or here).
  return FinishRevocation(std::move(saved));
}

absl::StatusOr<v1::Staff> StaffAccounts::Enable(const Call& call,
                                                const v1::EnableStaffRequest& request) const {
  return SetState(call, request, v1::STAFF_STATE_ACTIVE, "enable_staff", "");
}

absl::StatusOr<v1::Staff> StaffAccounts::ResetPassword(
    const Call& call, const v1::ResetStaffPasswordRequest& request) const {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  RETURN_IF_ERROR(ValidatePassword("new_password", request.new_password()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  ASSIGN_OR_RETURN(std::string hash, hasher_->Hash(request.new_password()));
  ASSIGN_OR_RETURN(
      v1::Staff saved,
      RunIdempotent<v1::Staff>(
          *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Staff> {
            ASSIGN_OR_RETURN(v1::Staff current, store_.GetStaff(txn, request.id()));
            RETURN_IF_ERROR(CheckCanSeeStaff(call.who, current));
            RETURN_IF_ERROR(store_.SetPasswordHash(txn, request.id(), hash, call.now));
            RETURN_IF_ERROR(store_.RecordEvent(txn, call.who.staff_id, "reset_password",
                                               request.id(), "", call.now));
            RETURN_IF_ERROR(revocations_.Record(txn, request.id(), "reset_password", call.now));
            return store_.GetStaff(txn, request.id());
          }));
  return FinishRevocation(std::move(saved));
}

}  // namespace smp::identity
