#include "services/compliance/reports.h"

#include <vector>

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

  std::unique_ptr<Reports> unit_;
};

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

}  // namespace
}  // namespace smp::compliance
