#include "services/inventory/compliance_events.h"

#include "common/util/proto_time.h"
#include "gtest/gtest.h"

namespace smp::inventory {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

TEST(ComplianceEventsTest, RecallCarriesTheLotNumberAndReason) {
  v1::Lot lot;
  lot.set_id("01JD00000000000000000000L1");
  lot.set_product_id("01JD00000000000000000000PR");
  lot.set_lot_number("P-77");
  lot.set_recall_reason("microbial contamination");
  compliance::v1::RecordLotRecallRequest event = LotRecallEvent(lot, "admin-1", kNow);
  EXPECT_EQ(event.recall().recalled_by(), "admin-1");
  EXPECT_TRUE(event.request_id().empty());  // the outbox names the event
  EXPECT_EQ(event.recall().product_id(), lot.product_id());
  EXPECT_EQ(event.recall().lot(), "P-77");  // compliance knows lots by number, not by our id
  EXPECT_EQ(event.recall().reason(), "microbial contamination");
  EXPECT_EQ(FromProtoTimestamp(event.recall().recall_time()), kNow);
}

TEST(ComplianceEventsTest, RefusedUnitsBecomeIncidentsOfTheRightKind) {
  compliance::v1::ReportIncidentRequest reuse = RefusedUnitIncident(
      RefusalKind::kReuse, "C1", "A1", "P1", "unit SN-2 was already issued", kNow);
  EXPECT_EQ(reuse.incident().kind(), compliance::v1::INCIDENT_KIND_NEEDLE_REUSE_ATTEMPT);
  EXPECT_EQ(reuse.incident().clinic_id(), "C1");
  EXPECT_EQ(reuse.incident().appointment_id(), "A1");
  EXPECT_EQ(reuse.incident().patient_id(), "P1");
  EXPECT_NE(reuse.incident().description().find("used needle unit"), std::string::npos);
  EXPECT_NE(reuse.incident().description().find("SN-2"), std::string::npos);

  compliance::v1::ReportIncidentRequest expired =
      RefusedUnitIncident(RefusalKind::kExpired, "C1", "A1", "", "lot N-1 expired", kNow);
  EXPECT_EQ(expired.incident().kind(), compliance::v1::INCIDENT_KIND_OTHER);
  EXPECT_NE(expired.incident().description().find("expired stock"), std::string::npos);
  compliance::v1::ReportIncidentRequest recalled =
      RefusedUnitIncident(RefusalKind::kRecalled, "C1", "A1", "", "lot P-77 is recalled", kNow);
  EXPECT_NE(recalled.incident().description().find("recalled stock"), std::string::npos);

  // A long refusal still fits compliance's 2000-character limit.
  compliance::v1::ReportIncidentRequest long_one =
      RefusedUnitIncident(RefusalKind::kReuse, "C1", "A1", "", std::string(5000, 'x'), kNow);
  EXPECT_LE(long_one.incident().description().size(), 2000u);
}

}  // namespace
}  // namespace smp::inventory
