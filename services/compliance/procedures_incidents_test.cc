#include "services/compliance/procedures_incidents.h"

#include "services/compliance/compliance_reasons.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class ProceduresIncidentsTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<ProceduresIncidents>(audit_.get(), &patients_);
  }
  std::unique_ptr<ProceduresIncidents> unit_;
};

TEST_F(ProceduresIncidentsTest, OneProcedureRecordPerAppointment) {
  v1::RecordProcedureRequest req;
  req.set_request_id("p1");
  *req.mutable_record() = Procedure(clinic_a_);
  const Call tech = StaffA(common::v1::ROLE_TECHNICIAN, "RecordProcedure");
  ASSERT_OK_AND_ASSIGN(v1::ProcedureRecord first, unit_->RecordProcedure(tech, req));
  EXPECT_EQ(first.appointment_id(), req.record().appointment_id());
  ASSERT_OK_AND_ASSIGN(v1::ProcedureRecord replay, unit_->RecordProcedure(tech, req));
  EXPECT_EQ(replay.id(), first.id());
  req.set_request_id("p2");  // a second record for the same appointment
  absl::Status second = unit_->RecordProcedure(tech, req).status();
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ErrorReason(second), reason::kProcedureRecorded);
  EXPECT_EQ(ErrorMetadata(second, "appointment_id"), req.record().appointment_id());
  EXPECT_EQ(AuditEntries().size(), 1u);
}

TEST_F(ProceduresIncidentsTest, ProcedureValidationAndScope) {
  v1::RecordProcedureRequest req;
  req.set_request_id("p1");
  *req.mutable_record() = Procedure(clinic_a_);
  *req.mutable_record()->mutable_needles(0)->mutable_expiry_date() = Date(2027, 13, 1);
  EXPECT_THAT(
      unit_->RecordProcedure(Admin("RecordProcedure"), req).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.needles[0].expiry_date")));
  *req.mutable_record() = Procedure(clinic_a_);
  absl::Status refused =
      unit_->RecordProcedure(StaffB(common::v1::ROLE_TECHNICIAN, "RecordProcedure"), req).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_TRUE(AuditEntries().empty());
}

// Issue 13: an incident reported "at clinic B" cannot name clinic A's appointment or patient.
TEST_F(ProceduresIncidentsTest, AnIncidentCannotNameAnotherClinicsAppointment) {
  v1::RecordProcedureRequest record;
  record.set_request_id("p1");
  *record.mutable_record() = Procedure(clinic_a_);
  ASSERT_OK(unit_->RecordProcedure(Admin("RecordProcedure"), record).status());

  v1::ReportIncidentRequest report;
  report.set_request_id("i-b");
  *report.mutable_incident() = Incident(clinic_b_);
  report.mutable_incident()->set_appointment_id(record.record().appointment_id());
  const Call tech_b = StaffB(common::v1::ROLE_TECHNICIAN, "ReportIncident");
  absl::Status refused = unit_->ReportIncident(tech_b, report).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  // Nor clinic A's patient under a fresh appointment id.
  *report.mutable_incident() = Incident(clinic_b_);
  report.set_request_id("i-b2");
  report.mutable_incident()->set_patient_id(record.record().patient_id());
  refused = unit_->ReportIncident(tech_b, report).status();
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_EQ(AuditEntries().size(), 1u);  // the procedure only
  // Clinic A's technician may report on it.
  report.set_request_id("i-a");
  *report.mutable_incident() = Incident(clinic_a_);
  report.mutable_incident()->set_appointment_id(record.record().appointment_id());
  ASSERT_OK(unit_->ReportIncident(StaffA(common::v1::ROLE_TECHNICIAN, "ReportIncident"), report)
                .status());
}

TEST_F(ProceduresIncidentsTest, IncidentFollowUpsAccumulate) {
  v1::ReportIncidentRequest report;
  report.set_request_id("i1");
  *report.mutable_incident() = Incident(clinic_a_);
  ASSERT_OK_AND_ASSIGN(
      v1::Incident incident,
      unit_->ReportIncident(StaffA(common::v1::ROLE_TECHNICIAN, "ReportIncident", "tech-a"),
                            report));
  EXPECT_EQ(incident.reported_by(), "tech-a");
  EXPECT_EQ(ErrorReason(
                unit_->ReportIncident(StaffB(common::v1::ROLE_TECHNICIAN, "ReportIncident"), report)
                    .status()),
            ::smp::reason::kOutsideClinicScope);

  v1::RecordIncidentFollowUpRequest follow;
  follow.set_request_id("f1");
  follow.set_id(incident.id());
  follow.set_follow_up("called the patient");
  const Call desk = StaffA(common::v1::ROLE_FRONT_DESK, "RecordIncidentFollowUp", "desk-a");
  ASSERT_OK(unit_->RecordIncidentFollowUp(desk, follow).status());
  ASSERT_OK(unit_->RecordIncidentFollowUp(desk, follow).status());  // a retry adds nothing
  follow.set_request_id("f2");
  follow.set_follow_up("healed");
  ASSERT_OK_AND_ASSIGN(v1::Incident after, unit_->RecordIncidentFollowUp(desk, follow));
  EXPECT_EQ(after.follow_up(), "2027-01-15 desk-a: called the patient\n2027-01-15 desk-a: healed");
  follow.set_follow_up("");
  follow.set_request_id("f3");
  EXPECT_THAT(unit_->RecordIncidentFollowUp(desk, follow).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("follow_up")));
}

TEST_F(ProceduresIncidentsTest, FollowUpLogHasALimit) {
  v1::ReportIncidentRequest report;
  report.set_request_id("i1");
  *report.mutable_incident() = Incident(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::Incident incident,
                       unit_->ReportIncident(Admin("ReportIncident"), report));
  v1::RecordIncidentFollowUpRequest follow;
  follow.set_id(incident.id());
  follow.set_follow_up(std::string(1900, 'x'));
  absl::Status last;
  for (int i = 0; i < 12 && last.ok(); ++i) {
    follow.set_request_id(absl::StrCat("f", i));
    last = unit_->RecordIncidentFollowUp(Admin("RecordIncidentFollowUp"), follow).status();
  }
  EXPECT_THAT(last, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ErrorReason(last), reason::kFollowUpLogFull);
}

TEST_F(ProceduresIncidentsTest, RecallsAreChainWideAndOnFileOnce) {
  v1::RecordLotRecallRequest req;
  req.set_request_id("r1");
  req.mutable_recall()->set_product_id(NewId());
  req.mutable_recall()->set_lot("LOT9");
  req.mutable_recall()->set_reason("microbial contamination");
  *req.mutable_recall()->mutable_recall_time() = ToProtoTimestamp(now_);
  absl::Status clinic_staff =
      unit_->RecordLotRecall(StaffA(common::v1::ROLE_INVENTORY_STAFF, "RecordLotRecall"), req)
          .status();
  EXPECT_THAT(clinic_staff, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(clinic_staff), reason::kChainWideOnly);
  const std::string recalled_by = NewId();
  req.mutable_recall()->set_recalled_by(recalled_by);
  ASSERT_OK_AND_ASSIGN(v1::LotRecall recall, unit_->RecordLotRecall(Admin("RecordLotRecall"), req));
  EXPECT_EQ(recall.lot(), "LOT9");
  // The audit names the person who recalled at inventory, not only the delivering account.
  EXPECT_THAT(AuditEntries().back().detail(), HasSubstr("recalled by " + recalled_by));
  ASSERT_OK(unit_->RecordLotRecall(Admin("RecordLotRecall"), req).status());  // a retry
  req.set_request_id("r2");
  absl::Status twice = unit_->RecordLotRecall(Admin("RecordLotRecall"), req).status();
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ErrorReason(twice), reason::kRecallOnFile);
  req.mutable_recall()->clear_recall_time();
  EXPECT_THAT(unit_->RecordLotRecall(Admin("RecordLotRecall"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recall.recall_time")));
}

}  // namespace
}  // namespace smp::compliance
