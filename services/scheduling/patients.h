#ifndef SMP_SERVICES_SCHEDULING_PATIENTS_H_
#define SMP_SERVICES_SCHEDULING_PATIENTS_H_

// Patients: demographics and contact, in the clinic scope of their preferred clinic.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class Patients {
 public:
  // `db` and `store` must outlive the unit.
  Patients(Database* db, const SchedulingStore* store) : db_(db), store_(store) {}

  // A new patient of the caller's clinic (preferred_clinic_id in scope); idempotent by request_id.
  absl::StatusOr<v1::Patient> Create(const Call& call, const v1::CreatePatientRequest& req) const;
  // PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) when the preferred clinic is not the caller's.
  absl::StatusOr<v1::Patient> Get(const Call& call, const v1::GetPatientRequest& req) const;
  // The fields named in update_mask, at the patient's current etag (ABORTED, STALE_ETAG).
  absl::StatusOr<v1::Patient> Update(const Call& call, const v1::UpdatePatientRequest& req) const;
  // Patients matching a name, phone or email fragment within the caller's clinics; paged by id.
  absl::StatusOr<v1::SearchPatientsResponse> Search(const Call& call,
                                                    const v1::SearchPatientsRequest& req) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_PATIENTS_H_
