#ifndef SMP_SERVICES_IDENTITY_CLINICS_H_
#define SMP_SERVICES_IDENTITY_CLINICS_H_

// The clinic operations of identity: CreateClinic, GetClinic, ListClinics, UpdateClinic. Each
// validates the request, checks the caller's clinic scope, and runs the rules (clinic_rules.h) and
// the store in one transaction; writes are idempotent by request_id and recorded in the change
// record. The caller's permission for the RPC was checked by the frame before.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/identity_store.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

class Clinics {
 public:
  // `db` must outlive this.
  explicit Clinics(Database* db) : db_(db) {}

  // INVALID_ARGUMENT naming the field (clinic.*, request_id).
  absl::StatusOr<v1::Clinic> Create(const Call& call, const v1::CreateClinicRequest& request) const;
  // PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) for a clinic outside the caller's scope, NOT_FOUND.
  absl::StatusOr<v1::Clinic> Get(const Call& call, const v1::GetClinicRequest& request) const;
  // The clinics of the caller's scope, a page at a time, ordered by id.
  absl::StatusOr<v1::ListClinicsResponse> List(const Call& call,
                                               const v1::ListClinicsRequest& request) const;
  // The fields of update_mask; ABORTED (STALE_ETAG) when clinic.etag is not current.
  absl::StatusOr<v1::Clinic> Update(const Call& call, const v1::UpdateClinicRequest& request) const;

 private:
  Database* const db_;
  IdentityStore store_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_CLINICS_H_
