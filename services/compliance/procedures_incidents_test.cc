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
  // Puts `clinic` in `zone` (its policy's time zone).
  void ZoneOf(const std::string& clinic, const std::string& zone) {
    v1::RetentionPolicy p;
    p.set_clinic_id(clinic);
    p.set_client_records_years(3);
    p.set_time_zone(zone);
    ASSERT_OK(
        db_->Run(TxMode::kWrite, [&](Transaction& txn) { return store_.PutRetention(txn, p); }));
  }
  v1::Incident Report(v1::Incident incident, const std::string& request_id) {
    v1::ReportIncidentRequest req;
    req.set_request_id(request_id);
    *req.mutable_incident() = std::move(incident);
    absl::StatusOr<v1::Incident> out = unit_->ReportIncident(Admin("ReportIncident"), req);
    EXPECT_OK(out.status());
    return out.ok() ? *out : v1::Incident();
  }
  static v1::ListIncidentsRequest Days(common::v1::LocalDate first, common::v1::LocalDate last) {
    v1::ListIncidentsRequest req;
    *req.mutable_period()->mutable_start_date() = first;
    *req.mutable_period()->mutable_end_date() = last;
    return req;
  }
  std::unique_ptr<ProceduresIncidents> unit_;
};

TEST_F(ProceduresIncidentsTest, ListIncidentsShowsEveryIncidentOfThePeriodByKindAPageAtATime) {
  // A refused needle reuse on an appointment that never completed, and incidents of no
  // appointment at all: each is listed.
  v1::Incident reuse = Incident(clinic_a_);
  reuse.set_kind(v1::INCIDENT_KIND_NEEDLE_REUSE_ATTEMPT);
  reuse.set_appointment_id(NewId());
  reuse.set_description("unit U-1 was already used");
  const v1::Incident first = Report(reuse, "i1");
  EXPECT_EQ(FromProtoTimestamp(first.record_time()), now_);  // the server's clock
  v1::Incident stick = Incident(clinic_a_);
  stick.set_kind(v1::INCIDENT_KIND_NEEDLE_STICK_EXPOSURE);
  *stick.mutable_occurred_time() = ToProtoTimestamp(now_ - absl::Minutes(30));
  Report(stick, "i2");
  Report(Incident(clinic_b_), "i3");
  v1::Incident old = Incident(clinic_a_);
  *old.mutable_occurred_time() = ToProtoTimestamp(now_ - absl::Hours(24 * 40));
  Report(old, "i4");

  v1::ListIncidentsRequest req = Days(Date(2027, 1, 1), Date(2027, 1, 31));
  req.add_clinic_ids(clinic_a_);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(auto page, unit_->ListIncidents(Auditor("ListIncidents"), req));
  ASSERT_EQ(page.incidents_size(), 1);
  EXPECT_EQ(page.incidents(0).id(), first.id());  // oldest first
  ASSERT_FALSE(page.next_page_token().empty());
  req.set_page_token(page.next_page_token());
  ASSERT_OK_AND_ASSIGN(page, unit_->ListIncidents(Auditor("ListIncidents"), req));
  ASSERT_EQ(page.incidents_size(), 1);
  EXPECT_EQ(page.incidents(0).kind(), v1::INCIDENT_KIND_NEEDLE_STICK_EXPOSURE);
  EXPECT_TRUE(page.next_page_token().empty());  // clinic A's December incident is not January's
  // By kind; every clinic in scope when none is named.
  v1::ListIncidentsRequest by_kind = Days(Date(2027, 1, 1), Date(2027, 1, 31));
  by_kind.add_kinds(v1::INCIDENT_KIND_INFLAMMATION);
  ASSERT_OK_AND_ASSIGN(page, unit_->ListIncidents(Admin("ListIncidents"), by_kind));
  ASSERT_EQ(page.incidents_size(), 1);  // clinic B's; clinic A's is of December
  EXPECT_EQ(page.incidents(0).clinic_id(), clinic_b_);
  // The auditor's reads are on the record.
  EXPECT_EQ(AuditEntries().back().method(), "ListIncidents");
  // Scope is checked before anything else answers; bad input names the field.
  req.clear_page_token();
  req.set_clinic_ids(0, clinic_b_);
  EXPECT_EQ(
      ErrorReason(
          unit_->ListIncidents(StaffA(common::v1::ROLE_TECHNICIAN, "ListIncidents"), req).status()),
      ::smp::reason::kOutsideClinicScope);
  by_kind.add_kinds(static_cast<v1::IncidentKind>(99));
  EXPECT_THAT(unit_->ListIncidents(Admin("ListIncidents"), by_kind).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kinds[1]")));
  EXPECT_THAT(unit_->ListIncidents(Admin("ListIncidents"), v1::ListIncidentsRequest()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
}

TEST_F(ProceduresIncidentsTest, IncidentDaysAndFollowUpDatesAreTheClinicsLocalDays) {
  ZoneOf(clinic_a_, "Pacific/Auckland");
  // 2027-01-15 12:00 UTC is 2027-01-16 01:00 in Auckland.
  const absl::Time noon_utc = now_ + absl::Hours(4);
  v1::Incident late = Incident(clinic_a_);
  *late.mutable_occurred_time() = ToProtoTimestamp(noon_utc);
  v1::ReportIncidentRequest report;
  report.set_request_id("nz");
  *report.mutable_incident() = late;
  ASSERT_OK_AND_ASSIGN(
      v1::Incident incident,
      unit_->ReportIncident(
          ::smp::testing::CallAs(::smp::testing::StaffOf({common::v1::ROLE_ADMIN}, {}, "admin"),
                                 noon_utc, "ReportIncident"),
          report));
  ASSERT_OK_AND_ASSIGN(
      auto on_15th,
      unit_->ListIncidents(Admin("ListIncidents"), Days(Date(2027, 1, 15), Date(2027, 1, 15))));
  EXPECT_EQ(on_15th.incidents_size(), 0);
  ASSERT_OK_AND_ASSIGN(
      auto on_16th,
      unit_->ListIncidents(Admin("ListIncidents"), Days(Date(2027, 1, 16), Date(2027, 1, 16))));
  ASSERT_EQ(on_16th.incidents_size(), 1);
  v1::RecordIncidentFollowUpRequest follow;
  follow.set_request_id("f-nz");
  follow.set_id(incident.id());
  follow.set_follow_up("called the patient");
  const Call desk = ::smp::testing::CallAs(
      ::smp::testing::StaffOf({common::v1::ROLE_FRONT_DESK}, {clinic_a_}, "desk-a"), noon_utc,
      "RecordIncidentFollowUp");
  ASSERT_OK_AND_ASSIGN(v1::Incident after, unit_->RecordIncidentFollowUp(desk, follow));
  EXPECT_THAT(after.follow_up(), ::testing::StartsWith("2027-01-16 "));
}

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

// Issue 13: an appointment compliance has no record of yet is placed where scheduling says, so
// clinic B's technician cannot file an incident against clinic A's appointment before its
// procedure is recorded (before, only compliance's own records were consulted and it passed).
TEST_F(ProceduresIncidentsTest, AnIncidentOnAnAppointmentUnseenByComplianceIsScopedByScheduling) {
  const std::string appointment_a = NewId();
  patients_.SetAppointment(appointment_a, clinic_a_);
  v1::ReportIncidentRequest report;
  report.set_request_id("unseen-b");
  *report.mutable_incident() = Incident(clinic_b_);
  report.mutable_incident()->set_appointment_id(appointment_a);
  absl::Status refused =
      unit_->ReportIncident(StaffB(common::v1::ROLE_TECHNICIAN, "ReportIncident"), report).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_TRUE(AuditEntries().empty());
  // While scheduling cannot answer nothing is filed.
  patients_.down = true;
  report.set_request_id("unseen-a-down");
  *report.mutable_incident() = Incident(clinic_a_);
  report.mutable_incident()->set_appointment_id(NewId());
  EXPECT_THAT(unit_->ReportIncident(StaffA(common::v1::ROLE_TECHNICIAN, "ReportIncident"), report),
              StatusIs(absl::StatusCode::kUnavailable));
  patients_.down = false;
  // Clinic A's technician files it.
  report.set_request_id("unseen-a");
  report.mutable_incident()->set_appointment_id(appointment_a);
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
