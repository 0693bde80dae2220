#include "services/compliance/reports.h"

#include <map>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/retention.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class ReportsTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<Reports>(audit_.get());
  }

  v1::GenerateReportRequest January() const {
    v1::GenerateReportRequest req;
    *req.mutable_period()->mutable_start_date() = Date(2027, 1, 1);
    *req.mutable_period()->mutable_end_date() = Date(2027, 1, 31);
    return req;
  }

  void Plant(const v1::ProcedureRecord& r) {
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
      return store_.AddProcedure(txn, r, now_).status();
    }));
  }

  std::vector<v1::ReportPart> Generate(const v1::GenerateReportRequest& req) {
    std::vector<v1::ReportPart> parts;
    EXPECT_OK(unit_->GenerateReport(Admin("GenerateReport"), req, [&](const v1::ReportPart& p) {
      parts.push_back(p);
      return true;
    }));
    return parts;
  }
  static std::vector<v1::Finding> Findings(const std::vector<v1::ReportPart>& parts) {
    std::vector<v1::Finding> out;
    for (const auto& p : parts) {
      if (p.has_finding()) out.push_back(p.finding());
    }
    return out;
  }
  // A procedure of `clinic` for patient_ with the whole sterile checklist ticked.
  v1::ProcedureRecord CheckedProcedure(const std::string& clinic) const {
    v1::ProcedureRecord r = Procedure(clinic);
    r.set_patient_id(patient_);
    v1::ProcedureChecklist* c = r.mutable_checklist();
    c->set_sealed_needles_opened_before_client(true);
    c->set_gloves_worn(true);
    c->set_mask_worn(true);
    c->set_sterile_field(true);
    c->set_sharps_disposed(true);
    return r;
  }
  // Everything in order for `r` (credentials, permit), with the consent and screening given, each
  // recorded by the service at `recorded`.
  void InOrder(const v1::ProcedureRecord& r, v1::Consent consent, v1::Screening screening,
               absl::Time recorded) {
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (v1::CredentialKind kind : RequiredCredentials()) {
        RETURN_IF_ERROR(
            store_.AddCredential(txn, Credential(r.practitioner_id(), kind), now_).status());
      }
      RETURN_IF_ERROR(store_.AddPermit(txn, Permit(r.clinic_id()), now_).status());
      RETURN_IF_ERROR(store_.AddConsent(txn, std::move(consent), recorded).status());
      screening.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
      *screening.mutable_valid_until() =
          ToProtoTimestamp(FromProtoTimestamp(screening.screened_time()) + kScreeningValidity);
      return store_.AddScreening(txn, std::move(screening), recorded).status();
    }));
  }
  std::unique_ptr<Reports> unit_;
};

TEST_F(ReportsTest, AConsentEnteredAMonthAfterTheProcedureIsFound) {
  v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
  Plant(r);
  // Signed the day before the procedure (backdated), but recorded a month later.
  v1::Consent consent = Consent(patient_, clinic_a_);
  v1::Screening screening = Screening(patient_, clinic_a_);
  InOrder(r, consent, screening, now_ + absl::Hours(24 * 30));
  std::vector<v1::Finding> findings = Findings(Generate(January()));
  ASSERT_EQ(findings.size(), 2u) << findings[0].DebugString();  // the consent, the screening
  for (const v1::Finding& f : findings) {
    EXPECT_EQ(f.kind(), v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE);
    EXPECT_EQ(f.procedure_id().empty(), false);
  }
}

TEST_F(ReportsTest, RecordsOnFileBeforeTheProcedureGiveNoFinding) {
  v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
  Plant(r);
  InOrder(r, Consent(patient_, clinic_a_), Screening(patient_, clinic_a_), now_ - absl::Hours(20));
  EXPECT_TRUE(Findings(Generate(January())).empty());
}

TEST_F(ReportsTest, EveryIncidentOfThePeriodIsReportedEvenWithoutAProcedure) {
  // A refused reuse of a needle on an appointment that never completed; a needle-stick on its
  // own; and one of another month.
  v1::Incident reuse = Incident(clinic_a_);
  reuse.set_kind(v1::INCIDENT_KIND_NEEDLE_REUSE_ATTEMPT);
  reuse.set_appointment_id(NewId());
  v1::Incident stick = Incident(clinic_a_);
  stick.set_kind(v1::INCIDENT_KIND_NEEDLE_STICK_EXPOSURE);
  v1::Incident december = Incident(clinic_a_);
  *december.mutable_occurred_time() = ToProtoTimestamp(now_ - absl::Hours(24 * 40));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (const v1::Incident& i : {reuse, stick, december}) {
      RETURN_IF_ERROR(store_.AddIncident(txn, i, now_).status());
    }
    return absl::OkStatus();
  }));
  const std::vector<v1::ReportPart> parts = Generate(January());
  ASSERT_TRUE(parts.front().has_header());
  EXPECT_EQ(parts.front().header().clinic_ids_size(), 1);  // a clinic with incidents only
  int incidents = 0;
  for (const auto& p : parts) incidents += p.has_incident() ? 1 : 0;
  EXPECT_EQ(incidents, 2);
  std::vector<v1::Finding> findings = Findings(parts);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind(), v1::FINDING_KIND_NEEDLE_REUSE);
  EXPECT_EQ(findings[0].appointment_id(), reuse.appointment_id());
  EXPECT_TRUE(findings[0].procedure_id().empty());
  ASSERT_TRUE(parts.back().has_summary());
  EXPECT_EQ(parts.back().summary().incidents(), 2);
  EXPECT_EQ(parts.back().summary().findings(), 1);
}

TEST_F(ReportsTest, IncidentsArePlacedOnTheirClinicsLocalDay) {
  v1::RetentionPolicy nz;
  nz.set_clinic_id(clinic_a_);
  nz.set_client_records_years(3);
  nz.set_time_zone("Pacific/Auckland");
  v1::Incident i = Incident(clinic_a_);
  // 2027-01-31 12:00 UTC is 1 February, 01:00 in Auckland: not January's.
  *i.mutable_occurred_time() = ToProtoTimestamp(
      absl::FromCivil(absl::CivilSecond(2027, 1, 31, 12, 0, 0), absl::UTCTimeZone()));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(store_.PutRetention(txn, nz));
    return store_.AddIncident(txn, i, now_).status();
  }));
  EXPECT_EQ(Generate(January()).back().summary().incidents(), 0);
  v1::GenerateReportRequest february = January();
  *february.mutable_period()->mutable_start_date() = Date(2027, 2, 1);
  *february.mutable_period()->mutable_end_date() = Date(2027, 2, 1);
  EXPECT_EQ(Generate(february).back().summary().incidents(), 1);
}

TEST_F(ReportsTest, ALookbackOverPurgedScreeningsFindsNoMissingScreening) {
  // A procedure two and a half years ago, screened and consented before it.
  v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
  const absl::Time then = now_ - absl::Hours(24 * 900);
  *r.mutable_performed_time() = ToProtoTimestamp(then);
  *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(then, absl::UTCTimeZone()));
  for (v1::NeedleUse& n : *r.mutable_needles()) *n.mutable_expiry_date() = Date(2030, 1, 1);
  Plant(r);
  v1::Consent consent = Consent(patient_, clinic_a_);
  *consent.mutable_signed_time() = ToProtoTimestamp(then - absl::Hours(24));
  v1::Screening screening = Screening(patient_, clinic_a_);
  *screening.mutable_screened_time() = ToProtoTimestamp(then - absl::Hours(24));
  InOrder(r, consent, screening, then - absl::Hours(23));
  // Credentials and permit of that day.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (v1::CredentialKind kind : RequiredCredentials()) {
      v1::Credential c = Credential(r.practitioner_id(), kind);
      *c.mutable_valid_from() = ToLocalDate(absl::ToCivilDay(then, absl::UTCTimeZone()) - 10);
      *c.mutable_valid_until() = ToLocalDate(absl::ToCivilDay(then, absl::UTCTimeZone()) + 10);
      *c.mutable_training()->mutable_training_date() = c.valid_from();
      RETURN_IF_ERROR(store_.AddCredential(txn, c, now_).status());
    }
    v1::Permit p = Permit(clinic_a_);
    *p.mutable_valid_from() = ToLocalDate(absl::ToCivilDay(then, absl::UTCTimeZone()) - 10);
    return store_.AddPermit(txn, p, now_).status();
  }));
  v1::GenerateReportRequest lookback;
  *lookback.mutable_period()->mutable_start_date() =
      ToLocalDate(absl::ToCivilDay(then, absl::UTCTimeZone()));
  *lookback.mutable_period()->mutable_end_date() = lookback.period().start_date();
  ASSERT_TRUE(Findings(Generate(lookback)).empty());

  // California destroys questionnaires after 2 years; the report over that day stays right.
  Retention retention(audit_.get());
  v1::SetRetentionPolicyRequest policy;
  policy.set_request_id("ca");
  policy.mutable_policy()->set_clinic_id(clinic_a_);
  policy.mutable_policy()->set_client_records_years(3);
  policy.mutable_policy()->set_destroy_health_questionnaire_after_years(2);
  ASSERT_OK(retention.SetRetentionPolicy(Admin("SetRetentionPolicy"), policy).status());
  ASSERT_OK_AND_ASSIGN(int64_t destroyed, retention.Purge(Admin("RunRetentionPurge")));
  ASSERT_EQ(destroyed, 1);
  EXPECT_TRUE(Findings(Generate(lookback)).empty());
}

TEST_F(ReportsTest, CsvHasALinePerIncident) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.AddIncident(txn, Incident(clinic_a_), now_).status();
  }));
  v1::ExportReportRequest req;
  *req.mutable_report() = January();
  req.set_format(v1::EXPORT_FORMAT_CSV);
  std::string csv;
  ASSERT_OK(unit_->ExportReport(Admin("ExportReport"), req, [&](const v1::ExportChunk& c) {
    csv += c.data();
    return true;
  }));
  EXPECT_THAT(csv, HasSubstr("\r\nincident,"));
  EXPECT_THAT(csv, HasSubstr("INCIDENT_KIND_INFLAMMATION"));
  EXPECT_THAT(csv, HasSubstr("incidents 1"));
}

TEST_F(ReportsTest, ReportHasHeaderProceduresFindingsAndSummary) {
  v1::ProcedureRecord r = Procedure(clinic_a_);
  *r.mutable_needles(0)->mutable_expiry_date() = Date(2026, 12, 1);  // expired before the day
  Plant(r);
  Plant(Procedure(clinic_b_));
  std::vector<v1::ReportPart> parts;
  ASSERT_OK(unit_->GenerateReport(StaffA(common::v1::ROLE_TECHNICIAN, "GenerateReport"), January(),
                                  [&](const v1::ReportPart& p) {
                                    parts.push_back(p);
                                    return true;
                                  }));
  ASSERT_GE(parts.size(), 3u);
  ASSERT_TRUE(parts.front().has_header());
  ASSERT_EQ(parts.front().header().clinic_ids_size(), 1);  // only the caller's clinic
  EXPECT_EQ(parts.front().header().clinic_ids(0), clinic_a_);
  EXPECT_EQ(parts.front().header().audit_log_count(), 1);  // the pull is on the record first
  ASSERT_TRUE(parts[1].has_procedure());
  bool expired = false;
  for (const auto& p : parts) {
    expired |= p.has_finding() && p.finding().kind() == v1::FINDING_KIND_EXPIRED_LOT;
  }
  EXPECT_TRUE(expired);
  ASSERT_TRUE(parts.back().has_summary());
  EXPECT_EQ(parts.back().summary().procedures(), 1);
  EXPECT_EQ(AuditEntries()[0].method(), "GenerateReport");
}

// Pages are built on a thread of their own while the last one is sent: a client that goes away
// mid-report stops the building too, gets nothing after the part it refused, and the next report
// runs whole.
TEST_F(ReportsTest, AClientGoingAwayMidReportStopsTheBuildingPages) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (int k = 0; k < 900; ++k) {
      v1::ProcedureRecord r = Procedure(clinic_a_);
      const absl::Time performed = now_ - absl::Hours(900 - k);
      *r.mutable_performed_time() = ToProtoTimestamp(performed);
      *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(performed, absl::UTCTimeZone()));
      RETURN_IF_ERROR(store_.AddProcedure(txn, r, now_).status());
    }
    return absl::OkStatus();
  }));
  v1::GenerateReportRequest req;
  *req.mutable_period()->mutable_start_date() = Date(2026, 11, 1);
  *req.mutable_period()->mutable_end_date() = Date(2027, 1, 31);

  std::vector<v1::ReportPart> whole = Generate(req);
  int procedures = 0;
  for (const v1::ReportPart& p : whole) procedures += p.has_procedure() ? 1 : 0;
  ASSERT_EQ(procedures, 900);  // five pages
  const int n = static_cast<int>(whole.size());
  // The header; the middle of the pages; the last part before the summary.
  for (int refused_at : {1, n / 2, n - 1}) {
    int calls = 0;
    EXPECT_THAT(unit_->GenerateReport(Admin("GenerateReport"), req,
                                      [&](const v1::ReportPart&) { return ++calls < refused_at; }),
                StatusIs(absl::StatusCode::kCancelled))
        << "refused at part " << refused_at << " of " << n;
    EXPECT_EQ(calls, refused_at) << "parts were emitted after the client went away";
  }
  std::vector<v1::ReportPart> again = Generate(req);
  ASSERT_EQ(again.size(), whole.size());
  for (int i = 1; i + 1 < n; ++i) {  // the header and summary carry the pull's own audit entry
    EXPECT_EQ(again[i].SerializeAsString(), whole[i].SerializeAsString()) << "part " << i;
  }
  EXPECT_EQ(again.back().summary().procedures(), 900);
}

TEST_F(ReportsTest, PeriodAndScopeAreChecked) {
  v1::GenerateReportRequest req = January();
  *req.mutable_period()->mutable_end_date() = Date(2028, 6, 1);
  auto ignore = [](const v1::ReportPart&) { return true; };
  EXPECT_THAT(unit_->GenerateReport(Admin("GenerateReport"), req, ignore),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
  req = January();
  req.add_clinic_ids(clinic_b_);
  absl::Status refused =
      unit_->GenerateReport(StaffA(common::v1::ROLE_TECHNICIAN, "GenerateReport"), req, ignore);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_TRUE(AuditEntries().empty());
}

TEST_F(ReportsTest, ExportsCsvAndStopsWhenTheClientGoesAway) {
  Plant(Procedure(clinic_a_));
  v1::ExportReportRequest req;
  *req.mutable_report() = January();
  req.set_format(v1::EXPORT_FORMAT_CSV);
  std::string csv;
  int64_t procedures = 0;
  ASSERT_OK(unit_->ExportReport(Admin("ExportReport"), req, [&](const v1::ExportChunk& c) {
    csv += c.data();
    procedures += c.procedures_done();
    return true;
  }));
  EXPECT_THAT(csv, HasSubstr("record_type"));
  EXPECT_THAT(csv, HasSubstr("\r\nprocedure,"));
  EXPECT_EQ(procedures, 1);
  EXPECT_THAT(
      unit_->ExportReport(Admin("ExportReport"), req, [](const v1::ExportChunk&) { return false; }),
      StatusIs(absl::StatusCode::kCancelled));
  req.set_format(v1::EXPORT_FORMAT_UNSPECIFIED);
  EXPECT_THAT(
      unit_->ExportReport(Admin("ExportReport"), req, [](const v1::ExportChunk&) { return true; }),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("format")));
}

TEST_F(ReportsTest, CsvExportNeutralisesSpreadsheetFormulas) {
  v1::ProcedureRecord r = Procedure(clinic_a_);
  r.mutable_needles(0)->set_lot("=cmd|' /C calc'!A0");
  v1::PigmentUse* p = r.add_pigments();
  p->set_shade("+espresso");
  p->set_lot("P1");
  Plant(r);
  v1::ExportReportRequest req;
  *req.mutable_report() = January();
  req.set_format(v1::EXPORT_FORMAT_CSV);
  std::string csv;
  ASSERT_OK(unit_->ExportReport(Admin("ExportReport"), req, [&](const v1::ExportChunk& c) {
    csv += c.data();
    return true;
  }));
  EXPECT_THAT(csv, HasSubstr(",'=cmd|' /C calc'!A0/"));
  EXPECT_THAT(csv, HasSubstr(",'+espresso/P1,"));
  EXPECT_THAT(csv, Not(HasSubstr(",=cmd")));
  EXPECT_THAT(csv, Not(HasSubstr(",+espresso")));
}

// A report of several pages (200 procedures a page) judges each procedure exactly as judging it
// alone against everything on file would: 500 procedures of 40 patients, each patient's course
// spread over every page (records kept between pages must be the patient's own), consents and
// screenings on file before, recorded late, or missing, a needle serial used in the first page and
// in the last, a lot recalled midway and pigments past their expiry.
TEST_F(ReportsTest, APagedReportJudgesEachProcedureAsJudgingItAloneWould) {
  const std::string practitioner = NewId();
  std::vector<std::string> patients;
  for (int i = 0; i < 40; ++i) patients.push_back(NewId());
  const std::string reused_serial = NewId();
  const absl::Time recalled = now_ - absl::Hours(250);
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (v1::CredentialKind kind : RequiredCredentials()) {
      RETURN_IF_ERROR(store_.AddCredential(txn, Credential(practitioner, kind), now_).status());
    }
    RETURN_IF_ERROR(store_.AddPermit(txn, Permit(clinic_a_), now_).status());
    for (int i = 0; i < 40; ++i) {
      v1::Consent consent = Consent(patients[i], clinic_a_);
      *consent.mutable_signed_time() = ToProtoTimestamp(now_ - absl::Hours(24 * 40));
      v1::Screening screening = Screening(patients[i], clinic_a_);
      *screening.mutable_screened_time() = ToProtoTimestamp(now_ - absl::Hours(24 * 40));
      screening.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
      *screening.mutable_valid_until() =
          ToProtoTimestamp(now_ - absl::Hours(24 * 40) + kScreeningValidity);
      // In order, recorded late, no screening, no consent.
      const absl::Time recorded =
          i % 4 == 1 ? now_ - absl::Hours(200) : now_ - absl::Hours(24 * 39);
      if (i % 4 != 3) RETURN_IF_ERROR(store_.AddConsent(txn, consent, recorded).status());
      if (i % 4 != 2) RETURN_IF_ERROR(store_.AddScreening(txn, screening, recorded).status());
    }
    v1::LotRecall recall;
    recall.set_product_id("needle-3rl");
    recall.set_lot("L-recalled");
    *recall.mutable_recall_time() = ToProtoTimestamp(recalled);
    recall.set_reason("contamination");
    recall.set_recalled_by(NewId());
    RETURN_IF_ERROR(store_.AddRecall(txn, recall));
    for (int k = 0; k < 500; ++k) {
      v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
      const absl::Time performed = now_ - absl::Hours(500 - k);
      r.set_patient_id(patients[k % 40]);
      r.set_practitioner_id(practitioner);
      *r.mutable_performed_time() = ToProtoTimestamp(performed);
      *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(performed, absl::UTCTimeZone()));
      if (k == 7 || k == 407) r.mutable_needles(0)->set_serial(reused_serial);
      if (k % 9 == 0) r.mutable_needles(0)->set_lot("L-recalled");
      if (k % 50 == 0) r.mutable_checklist()->set_gloves_worn(false);
      v1::PigmentUse* p = r.add_pigments();
      p->set_product_id("pigment");
      p->set_lot("P1");
      *p->mutable_expiry_date() = k % 25 == 0 ? Date(2026, 12, 1) : Date(2028, 1, 1);
      RETURN_IF_ERROR(store_.AddProcedure(txn, r, now_).status());
    }
    return absl::OkStatus();
  }));

  v1::GenerateReportRequest req;
  *req.mutable_period()->mutable_start_date() = Date(2026, 12, 1);
  *req.mutable_period()->mutable_end_date() = Date(2027, 1, 31);
  std::vector<v1::ReportPart> parts = Generate(req);
  // Each procedure judged alone, reading everything on file for it.
  std::vector<std::string> reported, alone;
  int procedures = 0;
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    for (const v1::ReportPart& part : parts) {
      if (part.has_finding() && !part.finding().procedure_id().empty()) {
        reported.push_back(part.finding().SerializeAsString());
      }
      if (!part.has_procedure()) continue;
      ++procedures;
      const v1::ProcedureRecord& r = part.procedure();
      EligibilityInputs in;
      in.day = FromLocalDate(r.performed_date());
      in.at = FromProtoTimestamp(r.performed_time());
      ASSIGN_OR_RETURN(in.credentials, store_.CredentialsOf(txn, r.practitioner_id()));
      ASSIGN_OR_RETURN(in.permits, store_.PermitsOf(txn, r.clinic_id()));
      ASSIGN_OR_RETURN(in.consents, store_.ConsentsOf(txn, r.patient_id()));
      ASSIGN_OR_RETURN(in.screenings, store_.ScreeningsOf(txn, r.patient_id()));
      absl::Status lookups = absl::OkStatus();
      for (const v1::Finding& f : ProcedureFindings(
               r, in,
               [&](const std::string&serial) -> std::string {
                 absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>> uses =
                     store_.UsesOfSerials(txn, {serial});
                 if (!uses.ok()) lookups = uses.status();
                 if (!uses.ok() || !uses->contains(serial)) return "";
                 for (const std::string& id : uses->at(serial)) {
                   if (id != r.id()) return id;
                 }
                 return "";
               },
               [&](const std::string&product, const std::string&lot) -> const v1::LotRecall* {
                 static thread_local v1::LotRecall found;
                 absl::StatusOr<std::vector<v1::LotRecall>> recalls =
                     store_.RecallsOf(txn, {{product, lot}});
                 if (!recalls.ok()) lookups = recalls.status();
                 if (!recalls.ok() || recalls->empty()) return nullptr;
                 found = recalls->front();
                 return &found;
               })) {
        alone.push_back(f.SerializeAsString());
      }
      RETURN_IF_ERROR(lookups);
    }
    return absl::OkStatus();
  }));
  EXPECT_EQ(procedures, 500);
  EXPECT_EQ(reported.size(), alone.size());
  EXPECT_TRUE(reported == alone);
  // Every kind of finding planted is among them.
  absl::flat_hash_set<int> kinds;
  for (const v1::ReportPart& part : parts) {
    if (part.has_finding()) kinds.insert(part.finding().kind());
  }
  for (v1::FindingKind kind :
       {v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE, v1::FINDING_KIND_SCREENING_MISSING,
        v1::FINDING_KIND_NO_CONSENT, v1::FINDING_KIND_NEEDLE_REUSE, v1::FINDING_KIND_RECALLED_LOT,
        v1::FINDING_KIND_EXPIRED_LOT, v1::FINDING_KIND_CHECKLIST_INCOMPLETE}) {
    EXPECT_TRUE(kinds.contains(kind)) << v1::FindingKind_Name(kind);
  }
}

// Patients' consents and screenings are kept between pages in two generations of bounded size.
// With generations far smaller than the report's patients, patients are dropped and read again,
// or found in the previous generation, page after page; the report must not change.
TEST_F(ReportsTest, KeepingFewerPatientsBetweenPagesChangesNoFinding) {
  const std::string practitioner = NewId();
  std::vector<std::string> patients;
  for (int i = 0; i < 300; ++i) patients.push_back(NewId());
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (v1::CredentialKind kind : RequiredCredentials()) {
      RETURN_IF_ERROR(store_.AddCredential(txn, Credential(practitioner, kind), now_).status());
    }
    RETURN_IF_ERROR(store_.AddPermit(txn, Permit(clinic_a_), now_).status());
    for (int i = 0; i < 300; ++i) {
      // In order, recorded late, no screening, no consent: a patient given another's records
      // would be judged differently.
      const absl::Time taken = now_ - absl::Hours(24 * 60);
      v1::Consent consent = Consent(patients[i], clinic_a_);
      *consent.mutable_signed_time() = ToProtoTimestamp(taken);
      v1::Screening screening = Screening(patients[i], clinic_a_);
      *screening.mutable_screened_time() = ToProtoTimestamp(taken);
      screening.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
      *screening.mutable_valid_until() = ToProtoTimestamp(taken + kScreeningValidity);
      const absl::Time recorded = i % 4 == 1 ? now_ - absl::Hours(100) : taken;
      if (i % 4 != 3) RETURN_IF_ERROR(store_.AddConsent(txn, consent, recorded).status());
      if (i % 4 != 2) RETURN_IF_ERROR(store_.AddScreening(txn, screening, recorded).status());
    }
    // 1,200 procedures, 6 pages: patient k % 300, so a page holds patients of the page before.
    for (int k = 0; k < 1200; ++k) {
      v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
      const absl::Time performed = now_ - absl::Minutes(10 * (1200 - k));
      r.set_patient_id(patients[k % 300]);
      r.set_practitioner_id(practitioner);
      *r.mutable_performed_time() = ToProtoTimestamp(performed);
      *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(performed, absl::UTCTimeZone()));
      RETURN_IF_ERROR(store_.AddProcedure(txn, r, now_).status());
    }
    return absl::OkStatus();
  }));
  v1::GenerateReportRequest req;
  *req.mutable_period()->mutable_start_date() = Date(2026, 12, 1);
  *req.mutable_period()->mutable_end_date() = Date(2027, 1, 31);
  const std::vector<v1::ReportPart> kept_all = Generate(req);  // 16,384 a generation: no drop
  std::map<int, int> kinds;
  for (const v1::ReportPart& p : kept_all) {
    if (p.has_finding()) ++kinds[p.finding().kind()];
  }
  // The procedures of a quarter of the patients lack a screening, of another quarter a consent;
  // a third quarter's records were entered after half of their procedures.
  EXPECT_EQ(kinds[v1::FINDING_KIND_SCREENING_MISSING], 300);
  EXPECT_EQ(kinds[v1::FINDING_KIND_NO_CONSENT], 300);
  EXPECT_GT(kinds[v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE], 0);

  for (size_t per_generation : {250u, 120u, 8u}) {
    Reports bounded(audit_.get(), ReportLimits{per_generation});
    std::vector<v1::ReportPart> parts;
    ASSERT_OK(bounded.GenerateReport(Admin("GenerateReport"), req, [&](const v1::ReportPart& p) {
      parts.push_back(p);
      return true;
    }));
    ASSERT_EQ(parts.size(), kept_all.size()) << per_generation << " patients a generation";
    // The header and the summary name the pull's own audit entry; every part between is the same.
    for (size_t i = 1; i + 1 < parts.size(); ++i) {
      ASSERT_EQ(parts[i].SerializeAsString(), kept_all[i].SerializeAsString())
          << "part " << i << " with " << per_generation << " patients a generation";
    }
  }
}

// Counts the queries run through the database it wraps.
class CountingDatabase final : public Database {
 public:
  explicit CountingDatabase(Database* inner) : inner_(inner) {}
  SqlDialect dialect() const override { return inner_->dialect(); }
  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, inner_->Begin(mode));
    return std::unique_ptr<Transaction>(std::make_unique<Counting>(std::move(txn), &queries));
  }
  int queries = 0;

 private:
  class Counting final : public Transaction {
   public:
    Counting(std::unique_ptr<Transaction> inner, int* queries)
        : inner_(std::move(inner)), queries_(queries) {}
    SqlDialect dialect() const override { return inner_->dialect(); }
    absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params) override {
      return inner_->Exec(sql, params);
    }
    absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                      const std::vector<DbValue>& params) override {
      return inner_->ExecCount(sql, params);
    }
    absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                           const std::vector<DbValue>& params) override {
      ++*queries_;
      return inner_->Query(sql, params);
    }
    absl::Status ExecScript(absl::string_view sql) override { return inner_->ExecScript(sql); }
    absl::Status Commit() override { return inner_->Commit(); }

   private:
    std::unique_ptr<Transaction> inner_;
    int* queries_;
  };
  Database* inner_;
};

// A page of procedures is judged with a few queries for the whole page, not a few per procedure
// (each patient's consents and screenings, each needle's other uses, each lot's recall): 150
// procedures of one practitioner for 150 patients with 3 needles and a pigment each, one page.
TEST_F(ReportsTest, APageIsJudgedWithAFewQueriesNotAFewPerProcedure) {
  const std::string practitioner = NewId();
  for (int i = 0; i < 150; ++i) {
    v1::ProcedureRecord r = CheckedProcedure(clinic_a_);
    r.set_patient_id(NewId());
    r.set_practitioner_id(practitioner);
    for (int j = 0; j < 2; ++j) {
      v1::NeedleUse* n = r.add_needles();
      *n = r.needles(0);
      n->set_serial(NewId());
      n->set_lot(absl::StrCat("L", i % 7));
    }
    v1::PigmentUse* p = r.add_pigments();
    p->set_product_id("pigment");
    p->set_lot(absl::StrCat("P", i % 5));
    *p->mutable_expiry_date() = Date(2028, 1, 1);
    Plant(r);
  }
  CountingDatabase counting(db_.get());
  AuditTrail audit(&counting, &store_);
  Reports reports(&audit);
  int procedures = 0;
  v1::ReportSummary summary;
  ASSERT_OK(
      reports.GenerateReport(Admin("GenerateReport"), January(), [&](const v1::ReportPart& part) {
        procedures += part.has_procedure();
        if (part.has_summary()) summary = part.summary();
        return true;
      }));
  EXPECT_EQ(procedures, 150);
  EXPECT_EQ(summary.procedures(), 150);
  // Every procedure lacks the practitioner's credentials, the permit, consent and screening.
  EXPECT_EQ(summary.findings(), 150 * 6);
  // The pull's audit entry, the clinic list, the page, its practitioners' credentials and
  // clinics' permits, the patients' consents and screenings, the serials, the lots, the time
  // zones and the incidents: about 160 * 9 queries before.
  EXPECT_LT(counting.queries, 40);
}

}  // namespace
}  // namespace smp::compliance
