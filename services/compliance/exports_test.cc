#include "services/compliance/exports.h"

#include "common/util/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::compliance {
namespace {

using ::testing::HasSubstr;

TEST(ExportsTest, CsvLinesNeutraliseFormulasInUserText) {
  v1::ReportPart procedure;
  v1::ProcedureRecord* r = procedure.mutable_procedure();
  r->set_clinic_id("C1");
  r->set_id("P1");
  v1::NeedleUse* n = r->add_needles();
  n->set_lot("=HYPERLINK(\"http://evil\",\"x\")");
  n->set_serial("S1");
  const std::string line = CsvReportWriter().Line(procedure);
  EXPECT_THAT(line, HasSubstr(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")/S1\","));
  v1::ReportPart finding;
  finding.mutable_finding()->set_clinic_id("C1");
  finding.mutable_finding()->set_detail("@SUM(1+1)");
  EXPECT_THAT(CsvReportWriter().Line(finding), HasSubstr(",'@SUM(1+1),"));
}

TEST(ExportsTest, CsvLinesHaveEveryColumn) {
  v1::ReportPart finding;
  finding.mutable_finding()->set_kind(v1::FINDING_KIND_NO_CONSENT);
  finding.mutable_finding()->set_clinic_id("C1");
  finding.mutable_finding()->set_detail("no consent, none at all");
  const std::string line = CsvReportWriter().Line(finding);
  EXPECT_EQ(line, "finding,C1,,,,,,,,,FINDING_KIND_NO_CONSENT,\"no consent, none at all\",\r\n");
  size_t columns = 1;
  for (char c : CsvReportWriter::ColumnLine()) columns += c == ',';
  EXPECT_EQ(columns, 13u);
}

TEST(ExportsTest, FhirAuditEventShape) {
  v1::AuditEntry e;
  e.set_sequence(7);
  *e.mutable_time() = ToProtoTimestamp(absl::FromUnixSeconds(1764000000));
  e.set_actor_id("01JD00000000000000000000A1");
  e.add_actor_roles("ROLE_AUDITOR");
  e.set_action(v1::AUDIT_ACTION_DENIED);
  e.set_method("RecordPermit");
  e.set_detail("needs \"MANAGE\"");
  e.set_hash("abc");
  const std::string json = ToFhirAuditEvent(e);
  EXPECT_THAT(json, HasSubstr("\"resourceType\":\"AuditEvent\""));
  EXPECT_THAT(json, HasSubstr("\"action\":\"E\""));
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"4\""));
  EXPECT_THAT(json, HasSubstr("\"recorded\":\"2025-11-24T16:00:00.000000Z\""));
  EXPECT_THAT(json, HasSubstr("needs \\\"MANAGE\\\""));
  EXPECT_THAT(json, HasSubstr("\"text\":\"ROLE_AUDITOR\""));
  e.set_action(v1::AUDIT_ACTION_CREATE);
  EXPECT_THAT(ToFhirAuditEvent(e), HasSubstr("\"outcome\":\"0\""));
  EXPECT_THAT(ToFhirAuditEvent(e), HasSubstr("\"action\":\"C\""));
}

TEST(ExportsTest, JsonReportIsOneArray) {
  JsonReportWriter w;
  v1::ReportPart a, b;
  a.mutable_summary()->set_procedures(2);
  b.mutable_finding()->set_kind(v1::FINDING_KIND_EXPIRED_LOT);
  std::string doc = w.Open();
  doc += w.Part(a);
  doc += w.Part(b);
  doc += w.Close();
  EXPECT_EQ(doc.front(), '[');
  EXPECT_THAT(doc, HasSubstr("\"summary\""));
  EXPECT_THAT(doc, HasSubstr("},\n{"));
  EXPECT_EQ(doc.substr(doc.size() - 2), "]\n");
}

}  // namespace
}  // namespace smp::compliance
