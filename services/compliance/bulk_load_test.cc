#include "services/compliance/bulk_load.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/compliance/compliance_rules.h"
#include "services/compliance/consents_screenings.h"
#include "services/compliance/credentials_permits.h"
#include "services/compliance/procedures_incidents.h"
#include "services/compliance/reports.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::CallAs;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class BulkLoadTest : public testing::UnitTestEnv {
 protected:
  // Rows of `table` (a constant of this test).
  int64_t Count(const std::string& table) {
    int64_t n = -1;
    EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM " + table));
      n = rows[0].Int(0);
      return absl::OkStatus();
    }));
    return n;
  }

  BulkRecords Chain(int procedures) const {
    BulkRecords records;
    const std::string practitioner = NewId();
    for (v1::CredentialKind kind : RequiredCredentials()) {
      records.credentials.push_back(Credential(practitioner, kind));
    }
    records.permits.push_back(Permit(clinic_a_));
    v1::Consent consent = Consent(patient_, clinic_a_);
    *consent.mutable_withdrawn_time() = ToProtoTimestamp(now_ - absl::Hours(1));
    records.consents.push_back(consent);
    v1::Screening screening = Screening(patient_, clinic_a_);
    screening.add_findings(v1::CONTRAINDICATION_KELOID_PRONE);
    screening.set_outcome(v1::SCREENING_OUTCOME_CLEAR);  // set by the service, not the caller
    records.screenings.push_back(screening);
    for (int i = 0; i < procedures; ++i) {
      v1::ProcedureRecord r = Procedure(clinic_a_);
      r.set_patient_id(patient_);
      r.set_practitioner_id(practitioner);
      records.procedures.push_back(r);
    }
    return records;
  }
};

// Everything goes in through the store as the Record* operations put it: what the operations set
// is set (a consent not withdrawn, a screening's outcome from its findings and its validity), each
// procedure's needles are on file, and each transaction is one audit entry.
TEST_F(BulkLoadTest, EntersRecordsAsTheOperationsDoInTransactionsOfTheGivenSize) {
  const BulkRecords records = Chain(7);
  ASSERT_EQ(records.size(), 13u);
  ASSERT_OK_AND_ASSIGN(int retried,
                       BulkLoad(*audit_, records, now_, kScreeningValidity, "bulk-test", 5));
  EXPECT_EQ(retried, 0);

  EXPECT_EQ(Count("credentials"), 3);
  EXPECT_EQ(Count("permits"), 1);
  EXPECT_EQ(Count("procedure_records"), 7);
  EXPECT_EQ(Count("needle_uses"), 7 * records.procedures[0].needles_size());
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Consent> consents, store_.ConsentsOf(txn, patient_));
    EXPECT_EQ(consents.size(), 1u);
    EXPECT_FALSE(consents[0].has_withdrawn_time());
    ASSIGN_OR_RETURN(std::vector<v1::Screening> screenings, store_.ScreeningsOf(txn, patient_));
    EXPECT_EQ(screenings.size(), 1u);
    EXPECT_EQ(screenings[0].outcome(), v1::SCREENING_OUTCOME_CONTRAINDICATED);
    EXPECT_EQ(FromProtoTimestamp(screenings[0].valid_until()),
              FromProtoTimestamp(screenings[0].screened_time()) + kScreeningValidity);
    EXPECT_EQ(FromProtoTimestamp(screenings[0].record_time()), now_);
    // 13 records, 5 a transaction: 3 entries.
    ASSIGN_OR_RETURN(std::vector<v1::AuditEntry> entries, store_.ListAudit(txn, 0, 100));
    EXPECT_EQ(entries.size(), 3u);
    for (const v1::AuditEntry& e : entries) {
      EXPECT_EQ(e.actor_id(), "bulk-test");
      EXPECT_EQ(e.method(), "BulkLoad");
    }
    EXPECT_THAT(entries.back().detail(), HasSubstr("records 11..13 of 13"));
    return absl::OkStatus();
  }));
}

// A bad record anywhere is INVALID_ARGUMENT naming it, before anything is written.
TEST_F(BulkLoadTest, ABadRecordIsNamedAndNothingIsWritten) {
  BulkRecords records = Chain(3);
  records.procedures[2].clear_appointment_id();
  EXPECT_THAT(BulkLoad(*audit_, records, now_, kScreeningValidity, "bulk-test", 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("procedures[2].record.appointment_id")));
  EXPECT_EQ(Count("credentials"), 0);
  EXPECT_EQ(Count("procedure_records"), 0);
  EXPECT_EQ(Count("audit_log"), 0);
}

// A record that carries its record time is entered as recorded then (ids and record times of that
// moment, validated as of then); one without is recorded at the load's time.
TEST_F(BulkLoadTest, RecordsCarryingTheirRecordTimeAreEnteredAsRecordedThen) {
  BulkRecords records = Chain(2);
  const absl::Time signed_at = now_ - absl::Hours(24);
  *records.consents[0].mutable_record_time() = ToProtoTimestamp(signed_at + absl::Minutes(5));
  *records.procedures[0].mutable_create_time() = ToProtoTimestamp(now_ - absl::Hours(1));
  ASSERT_OK(BulkLoad(*audit_, records, now_, kScreeningValidity, "bulk-test").status());
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Consent> consents, store_.ConsentsOf(txn, patient_));
    EXPECT_EQ(FromProtoTimestamp(consents.at(0).record_time()), signed_at + absl::Minutes(5));
    ASSIGN_OR_RETURN(std::vector<v1::Screening> screenings, store_.ScreeningsOf(txn, patient_));
    EXPECT_EQ(FromProtoTimestamp(screenings.at(0).record_time()), now_);
    ASSIGN_OR_RETURN(auto procedures,
                     store_.ListProcedures(txn, {clinic_a_}, absl::CivilDay(2000, 1, 1),
                                           absl::CivilDay(2100, 1, 1), "", 10));
    EXPECT_EQ(procedures.size(), 2u);
    int an_hour_ago = 0;
    for (const v1::ProcedureRecord& r : procedures) {
      if (FromProtoTimestamp(r.create_time()) == now_ - absl::Hours(1)) ++an_hour_ago;
    }
    EXPECT_EQ(an_hour_ago, 1);
    return absl::OkStatus();
  }));
}

// A record time after the load's time, or one before what it records (a consent recorded before
// it was signed), is INVALID_ARGUMENT naming the record, and nothing is written.
TEST_F(BulkLoadTest, ARecordTimeInTheFutureOrBeforeItsEventIsRefused) {
  BulkRecords late = Chain(1);
  *late.screenings[0].mutable_record_time() = ToProtoTimestamp(now_ + absl::Hours(1));
  EXPECT_THAT(BulkLoad(*audit_, late, now_, kScreeningValidity, "bulk-test"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("screenings[0].record_time: is after the load's time")));
  BulkRecords early = Chain(1);
  *early.consents[0].mutable_record_time() = ToProtoTimestamp(now_ - absl::Hours(48));
  EXPECT_THAT(
      BulkLoad(*audit_, early, now_, kScreeningValidity, "bulk-test"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("consents[0].consent.signed_time")));
  EXPECT_EQ(Count("consents"), 0);
  EXPECT_EQ(Count("audit_log"), 0);
}

// The same history recorded through the Record* operations at their times, and bulk-loaded with
// those record times into another database, reports the same procedures and findings: consents
// and screenings recorded before the procedures they cover are no finding, one recorded after its
// procedure is RECORDED_AFTER_PROCEDURE (the consent and the screening: two), an incomplete
// checklist is CHECKLIST_INCOMPLETE.
TEST_F(BulkLoadTest, BulkLoadedHistoryReportsAsTheOperationsRecordedIt) {
  const absl::Time t0 = now_ - absl::Hours(100);
  const std::string practitioner = NewId();
  const std::string late_patient = NewId();
  auto at = [](absl::Time t) { return ToProtoTimestamp(t); };
  auto procedure = [&](const std::string& patient, absl::Time performed, bool complete) {
    v1::ProcedureRecord r = Procedure(clinic_a_);
    r.set_patient_id(patient);
    r.set_practitioner_id(practitioner);
    *r.mutable_performed_time() = at(performed);
    *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(performed, absl::UTCTimeZone()));
    v1::ProcedureChecklist* c = r.mutable_checklist();
    c->set_sealed_needles_opened_before_client(true);
    c->set_gloves_worn(true);
    c->set_mask_worn(complete);
    c->set_sterile_field(true);
    c->set_sharps_disposed(true);
    return r;
  };
  // Each record with the time the operation records it at.
  BulkRecords history;
  for (v1::CredentialKind kind : RequiredCredentials()) {
    history.credentials.push_back(Credential(practitioner, kind));
    *history.credentials.back().mutable_create_time() = at(t0);
  }
  history.permits.push_back(Permit(clinic_a_));
  *history.permits.back().mutable_create_time() = at(t0);
  for (const auto& [patient, recorded] : {std::pair{patient_, now_ - absl::Hours(40)},
                                          std::pair{late_patient, now_ - absl::Hours(3)}}) {
    v1::Consent c = Consent(patient, clinic_a_);
    *c.mutable_signed_time() = at(now_ - absl::Hours(50));
    *c.mutable_record_time() = at(recorded);
    history.consents.push_back(c);
    v1::Screening s = Screening(patient, clinic_a_);
    *s.mutable_screened_time() = at(now_ - absl::Hours(50));
    *s.mutable_record_time() = at(recorded);
    history.screenings.push_back(s);
  }
  for (const auto& [patient, performed, complete] :
       {std::tuple{patient_, now_ - absl::Hours(30), true},
        std::tuple{patient_, now_ - absl::Hours(20), false},
        std::tuple{late_patient, now_ - absl::Hours(10), true}}) {
    history.procedures.push_back(procedure(patient, performed, complete));
    *history.procedures.back().mutable_create_time() = at(performed + absl::Hours(5));
  }

  // Through the operations, each at its record time.
  CredentialsPermits credentials(audit_.get());
  ConsentsScreenings consents(audit_.get(), &patients_, kScreeningValidity);
  ProceduresIncidents procedures(audit_.get(), &patients_);
  auto admin_at = [](absl::Time t, std::string method) {
    return CallAs(StaffOf({common::v1::ROLE_ADMIN}, {}, "admin"), t, std::move(method));
  };
  int n = 0;
  for (const v1::Credential& c : history.credentials) {
    v1::RecordCredentialRequest req;
    req.set_request_id(absl::StrCat("r", ++n));
    *req.mutable_credential() = c;
    ASSERT_OK(credentials
                  .RecordCredential(
                      admin_at(FromProtoTimestamp(c.create_time()), "RecordCredential"), req)
                  .status());
  }
  for (const v1::Permit& p : history.permits) {
    v1::RecordPermitRequest req;
    req.set_request_id(absl::StrCat("r", ++n));
    *req.mutable_permit() = p;
    ASSERT_OK(
        credentials.RecordPermit(admin_at(FromProtoTimestamp(p.create_time()), "RecordPermit"), req)
            .status());
  }
  for (size_t i = 0; i < history.consents.size(); ++i) {
    v1::RecordConsentRequest c;
    c.set_request_id(absl::StrCat("r", ++n));
    *c.mutable_consent() = history.consents[i];
    ASSERT_OK(
        consents
            .RecordConsent(
                admin_at(FromProtoTimestamp(history.consents[i].record_time()), "RecordConsent"), c)
            .status());
    v1::RecordScreeningRequest s;
    s.set_request_id(absl::StrCat("r", ++n));
    *s.mutable_screening() = history.screenings[i];
    ASSERT_OK(consents
                  .RecordScreening(admin_at(FromProtoTimestamp(history.screenings[i].record_time()),
                                            "RecordScreening"),
                                   s)
                  .status());
  }
  for (const v1::ProcedureRecord& r : history.procedures) {
    v1::RecordProcedureRequest req;
    req.set_request_id(absl::StrCat("r", ++n));
    *req.mutable_record() = r;
    ASSERT_OK(procedures
                  .RecordProcedure(CallAs(StaffOf({common::v1::ROLE_SERVICE}, {}, "svc"),
                                          FromProtoTimestamp(r.create_time()), "RecordProcedure"),
                                   req)
                  .status());
  }

  // The same history bulk-loaded into a database of its own.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> bulk_db, ::smp::testing::OpenNewTestDatabase());
  ASSERT_OK(ApplyMigrations(*bulk_db, ComplianceMigrations(), now_));
  AuditTrail bulk_audit(bulk_db.get(), &store_);
  ASSERT_OK(BulkLoad(bulk_audit, history, now_, kScreeningValidity, "bulk-test").status());

  v1::GenerateReportRequest req;
  req.add_clinic_ids(clinic_a_);
  *req.mutable_period()->mutable_start_date() =
      ToLocalDate(absl::ToCivilDay(now_ - absl::Hours(100), absl::UTCTimeZone()));
  *req.mutable_period()->mutable_end_date() =
      ToLocalDate(absl::ToCivilDay(now_, absl::UTCTimeZone()));
  // Each procedure (by appointment) with its findings' kinds, then the summary's counts.
  auto report = [&](const AuditTrail& audit) {
    std::vector<std::string> lines;
    Reports reports(&audit);
    EXPECT_OK(reports.GenerateReport(Admin("GenerateReport"), req, [&](const v1::ReportPart& p) {
      if (p.has_procedure())
        lines.push_back(absl::StrCat("procedure ", p.procedure().appointment_id()));
      if (p.has_finding()) {
        lines.push_back(absl::StrCat("finding ", v1::FindingKind_Name(p.finding().kind()), " ",
                                     p.finding().appointment_id()));
      }
      if (p.has_summary()) {
        lines.push_back(
            absl::StrCat("summary ", p.summary().procedures(), " ", p.summary().findings()));
        for (const v1::FindingCount& c : p.summary().counts()) {
          lines.push_back(absl::StrCat("count ", v1::FindingKind_Name(c.kind()), " ", c.count()));
        }
      }
      return true;
    }));
    return lines;
  };
  const std::vector<std::string> recorded = report(*audit_);
  const std::vector<std::string> loaded = report(bulk_audit);
  EXPECT_EQ(loaded, recorded);
  const std::string late_appointment = history.procedures[2].appointment_id();
  const std::string incomplete = history.procedures[1].appointment_id();
  EXPECT_THAT(recorded, ::testing::Contains("finding FINDING_KIND_RECORDED_AFTER_PROCEDURE " +
                                            late_appointment));
  EXPECT_THAT(recorded,
              ::testing::Contains("finding FINDING_KIND_CHECKLIST_INCOMPLETE " + incomplete));
  EXPECT_THAT(recorded, ::testing::Contains("summary 3 3"));
}

}  // namespace
}  // namespace smp::compliance
