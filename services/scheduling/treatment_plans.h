#ifndef SMP_SERVICES_SCHEDULING_TREATMENT_PLANS_H_
#define SMP_SERVICES_SCHEDULING_TREATMENT_PLANS_H_

// Treatment plans: a patient's course of 2-4 sessions at one clinic (see plan_rules.h), in the
// clinic scope of that clinic.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class TreatmentPlans {
 public:
  // `db` and `store` must outlive the unit.
  TreatmentPlans(Database* db, const SchedulingStore* store) : db_(db), store_(store) {}

  // A new active plan for a known patient at a clinic with a schedule; a consultation named must
  // be a consultation of this patient. Idempotent by request_id.
  absl::StatusOr<v1::TreatmentPlan> Create(const Call& call,
                                           const v1::CreateTreatmentPlanRequest& req) const;
  // The plan with its sessions and the window of the next session to book.
  absl::StatusOr<v1::TreatmentPlan> Get(const Call& call,
                                        const v1::GetTreatmentPlanRequest& req) const;
  // One page of a patient's plans in the caller's clinics, newest first.
  absl::StatusOr<v1::ListTreatmentPlansResponse> List(
      const Call& call, const v1::ListTreatmentPlansRequest& req) const;
  // Cancels an active plan at its current etag; FAILED_PRECONDITION when it is not active.
  absl::StatusOr<v1::TreatmentPlan> Cancel(const Call& call,
                                           const v1::CancelTreatmentPlanRequest& req) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_TREATMENT_PLANS_H_
