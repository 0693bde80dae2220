#include "services/scheduling/treatment_plans.h"

#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class TreatmentPlansTest : public SchedulingTestEnv {
 protected:
  v1::CreateTreatmentPlanRequest NewPlan(const std::string& request_id,
                                         const std::string& clinic) const {
    v1::CreateTreatmentPlanRequest req;
    req.set_request_id(request_id);
    req.mutable_plan()->set_patient_id(patient_);
    req.mutable_plan()->set_clinic_id(clinic);
    req.mutable_plan()->set_area(v1::HAIRLINE);
    req.mutable_plan()->set_planned_sessions(3);
    return req;
  }

  TreatmentPlans plans_{db_.get(), &store_};
};

TEST_F(TreatmentPlansTest, CreatesReadsAndReplays) {
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan plan,
                       plans_.Create(Desk("CreateTreatmentPlan"), NewPlan("plan-1", clinic_a_)));
  EXPECT_EQ(plan.status(), v1::PLAN_ACTIVE);
  EXPECT_EQ(plan.min_interval().seconds(), 10 * 24 * 3600);  // the default healing interval
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan again,
                       plans_.Create(Desk("CreateTreatmentPlan"), NewPlan("plan-1", clinic_a_)));
  EXPECT_EQ(again.id(), plan.id());

  v1::GetTreatmentPlanRequest get;
  get.set_id(plan.id());
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan read, plans_.Get(Desk("GetTreatmentPlan"), get));
  EXPECT_EQ(read.id(), plan.id());
  EXPECT_FALSE(read.has_next_session_window());  // no session booked yet
  EXPECT_EQ(ErrorReason(plans_.Get(OtherDesk("GetTreatmentPlan"), get).status()),
            reason::kOutsideClinicScope);
}

TEST_F(TreatmentPlansTest, ValidationAndScope) {
  v1::CreateTreatmentPlanRequest req = NewPlan("plan-bad", clinic_a_);
  req.mutable_plan()->set_planned_sessions(5);
  EXPECT_THAT(plans_.Create(Desk("CreateTreatmentPlan"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plan.planned_sessions")));
  EXPECT_EQ(
      ErrorReason(
          plans_.Create(OtherDesk("CreateTreatmentPlan"), NewPlan("plan-b", clinic_a_)).status()),
      reason::kOutsideClinicScope);
  // An unknown patient, and a consultation that does not exist.
  req = NewPlan("plan-nobody", clinic_a_);
  req.mutable_plan()->set_patient_id(NewIdAt(now_));
  EXPECT_THAT(plans_.Create(Desk("CreateTreatmentPlan"), req),
              StatusIs(absl::StatusCode::kNotFound));
  req = NewPlan("plan-consult", clinic_a_);
  req.mutable_plan()->set_consultation_appointment_id(NewIdAt(now_));
  EXPECT_THAT(plans_.Create(Desk("CreateTreatmentPlan"), req),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("appointment")));
}

// Issue 13: a plan at one's own clinic cannot name another clinic's patient or consultation.
TEST_F(TreatmentPlansTest, ThePatientAndTheConsultationAreScoped) {
  // Clinic B's desk, planning at clinic B, for clinic A's patient.
  absl::StatusOr<v1::TreatmentPlan> refused =
      plans_.Create(OtherDesk("CreateTreatmentPlan"), NewPlan("plan-b-for-a", clinic_b_));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);

  // A consultation of the patient held at clinic B, named by a plan at clinic A by A's desk.
  std::string consult_id;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::Appointment consult;
    consult.set_id(NewIdAt(now_));
    consult.set_clinic_id(clinic_b_);
    consult.set_patient_id(patient_);
    consult.set_type(v1::CONSULTATION);
    consult.set_status(v1::FULFILLED);
    *consult.mutable_start_time() = ToProtoTimestamp(now_ - absl::Hours(48));
    *consult.mutable_end_time() = ToProtoTimestamp(now_ - absl::Hours(47));
    consult_id = consult.id();
    return store_.InsertAppointment(txn, consult, now_ - absl::Hours(47));
  }));
  v1::CreateTreatmentPlanRequest req = NewPlan("plan-a-with-b", clinic_a_);
  req.mutable_plan()->set_consultation_appointment_id(consult_id);
  refused = plans_.Create(Desk("CreateTreatmentPlan"), req);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);
  // An admin may.
  ASSERT_OK(plans_.Create(Admin("CreateTreatmentPlan"), req).status());
}

TEST_F(TreatmentPlansTest, ListPagesNewestFirstWithinTheCallersClinics) {
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan older,
                       plans_.Create(Desk("CreateTreatmentPlan"), NewPlan("p-1", clinic_a_)));
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan newer,
                       plans_.Create(Later(Desk("CreateTreatmentPlan"), absl::Minutes(1)),
                                     NewPlan("p-2", clinic_a_)));
  // A plan of the same patient at clinic B, which clinic A's desk does not see.
  ASSERT_OK(plans_.Create(Admin("CreateTreatmentPlan"), NewPlan("p-3", clinic_b_)).status());

  v1::ListTreatmentPlansRequest list;
  list.set_patient_id(patient_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTreatmentPlansResponse page1,
                       plans_.List(Desk("ListTreatmentPlans"), list));
  ASSERT_EQ(page1.plans_size(), 1);
  EXPECT_EQ(page1.plans(0).id(), newer.id());
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListTreatmentPlansResponse page2,
                       plans_.List(Desk("ListTreatmentPlans"), list));
  ASSERT_EQ(page2.plans_size(), 1);
  EXPECT_EQ(page2.plans(0).id(), older.id());
  EXPECT_TRUE(page2.next_page_token().empty());

  list.clear_page_token();
  list.set_page_size(0);
  ASSERT_OK_AND_ASSIGN(v1::ListTreatmentPlansResponse all,
                       plans_.List(Admin("ListTreatmentPlans"), list));
  EXPECT_EQ(all.plans_size(), 3);
  EXPECT_EQ(ErrorReason(plans_.List(OtherDesk("ListTreatmentPlans"), list).status()),
            reason::kOutsideClinicScope);
}

TEST_F(TreatmentPlansTest, CancelNeedsAnActivePlanAndTheCurrentEtag) {
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan plan,
                       plans_.Create(Desk("CreateTreatmentPlan"), NewPlan("p-1", clinic_a_)));
  v1::CancelTreatmentPlanRequest cancel;
  cancel.set_request_id("cancel-1");
  cancel.set_id(plan.id());
  cancel.set_etag(plan.etag());
  cancel.set_reason("patient moved away");
  EXPECT_EQ(ErrorReason(plans_.Cancel(OtherDesk("CancelTreatmentPlan"), cancel).status()),
            reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan cancelled,
                       plans_.Cancel(Desk("CancelTreatmentPlan"), cancel));
  EXPECT_EQ(cancelled.status(), v1::PLAN_CANCELLED);
  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan replay,
                       plans_.Cancel(Desk("CancelTreatmentPlan"), cancel));
  EXPECT_EQ(replay.etag(), cancelled.etag());

  cancel.set_request_id("cancel-2");  // a cancelled plan cannot be cancelled again
  absl::StatusOr<v1::TreatmentPlan> again = plans_.Cancel(Desk("CancelTreatmentPlan"), cancel);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("PLAN_CANCELLED")));
  EXPECT_EQ(ViolatedPreconditions(again.status()), std::vector<std::string>{"PLAN_NOT_ACTIVE"});

  ASSERT_OK_AND_ASSIGN(v1::TreatmentPlan other,
                       plans_.Create(Desk("CreateTreatmentPlan"), NewPlan("p-2", clinic_a_)));
  cancel.set_request_id("cancel-3");
  cancel.set_id(other.id());
  cancel.set_etag("v9");
  absl::StatusOr<v1::TreatmentPlan> stale = plans_.Cancel(Desk("CancelTreatmentPlan"), cancel);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);
  cancel.clear_reason();
  EXPECT_THAT(plans_.Cancel(Desk("CancelTreatmentPlan"), cancel),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
}

}  // namespace
}  // namespace smp::scheduling::testing
