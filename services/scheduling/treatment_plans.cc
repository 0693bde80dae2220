#include "services/scheduling/treatment_plans.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/scheduling/plan_rules.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {

absl::StatusOr<v1::TreatmentPlan> TreatmentPlans::Create(
    const Call& call, const v1::CreateTreatmentPlanRequest& req) const {
  v1::TreatmentPlan plan = req.plan();
  RETURN_IF_ERROR(NormalizeNewPlan(plan));
  RETURN_IF_ERROR(call.who.CheckClinic(plan.clinic_id()));
  return RunIdempotent<v1::TreatmentPlan>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::TreatmentPlan> {
        RETURN_IF_ERROR(store_->RequireSchedule(txn, plan.clinic_id(), "plan.clinic_id").status());
        // The patient and the consultation are scoped like the plan's clinic (issue 13).
        ASSIGN_OR_RETURN(v1::Patient patient, store_->GetPatient(txn, plan.patient_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(patient.preferred_clinic_id()));
        if (!plan.consultation_appointment_id().empty()) {
          ASSIGN_OR_RETURN(v1::Appointment consult,
                           store_->GetAppointment(txn, plan.consultation_appointment_id()));
          RETURN_IF_ERROR(call.who.CheckClinic(consult.clinic_id()));
          if (consult.patient_id() != plan.patient_id() || consult.type() != v1::CONSULTATION) {
            return absl::InvalidArgumentError(
                "plan.consultation_appointment_id: not a consultation of this patient");
          }
        }
        return store_->CreatePlan(txn, plan, call.now);
      });
}

absl::StatusOr<v1::TreatmentPlan> TreatmentPlans::Get(
    const Call& call, const v1::GetTreatmentPlanRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  ASSIGN_OR_RETURN(v1::TreatmentPlan plan,
                   ReadInClinicScope<v1::TreatmentPlan>(*db_, call, [&](Transaction& txn) {
                     return store_->GetPlan(txn, req.id());
                   }));
  // The next window counts local calendar days: the plan's clinic's zone.
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                     store_->RequireSchedule(txn, plan.clinic_id(), "id"));
    SetNextWindow(plan, ZoneOf(schedule), call.now, plan);
    return absl::OkStatus();
  }));
  return plan;
}

absl::StatusOr<v1::ListTreatmentPlansResponse> TreatmentPlans::List(
    const Call& call, const v1::ListTreatmentPlansRequest& req) const {
  RETURN_IF_ERROR(ValidateId("patient_id", req.patient_id()));
  const std::string query = absl::StrCat("plans?patient=", req.patient_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListTreatmentPlansResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Patient patient, store_->GetPatient(txn, req.patient_id()));
    RETURN_IF_ERROR(call.who.CheckClinic(patient.preferred_clinic_id()));
    ASSIGN_OR_RETURN(Page<v1::TreatmentPlan> plans,
                     store_->ListPlans(txn, req.patient_id(), call.who.ClinicFilter(), page));
    for (v1::TreatmentPlan& plan : plans.items) {
      ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                       store_->RequireSchedule(txn, plan.clinic_id(), "patient_id"));
      SetNextWindow(plan, ZoneOf(schedule), call.now, plan);
      *out.add_plans() = std::move(plan);
    }
    out.set_next_page_token(NextPageToken(query, plans.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::TreatmentPlan> TreatmentPlans::Cancel(
    const Call& call, const v1::CancelTreatmentPlanRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req.etag()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  return RunIdempotent<v1::TreatmentPlan>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::TreatmentPlan> {
        ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_->GetPlan(txn, req.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(plan.clinic_id()));
        if (plan.status() != v1::PLAN_ACTIVE) {
          return WithPreconditionFailure(
              absl::FailedPreconditionError(
                  absl::StrCat("plan ", plan.id(), " is ", v1::PlanStatus_Name(plan.status()))),
              "PLAN_NOT_ACTIVE", absl::StrCat("treatment_plans/", plan.id()),
              "only an active plan can be cancelled");
        }
        plan.set_status(v1::PLAN_CANCELLED);
        return store_->UpdatePlan(txn, plan, version);
      });
}

}  // namespace smp::scheduling
