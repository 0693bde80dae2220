#include "services/compliance/audit_trail.h"

#include <string>
#include <vector>

#include "services/compliance/audit_chain.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::testing::HasSubstr;

class AuditTrailTest : public testing::UnitTestEnv {
 protected:
  // A health-data read of `patient` by `call` (the read itself reads nothing).
  absl::Status ReadPatient(const Call& call, const std::string& patient) {
    return audit_->Read(call, "patient", patient, [](Transaction&) { return absl::OkStatus(); });
  }
  int ReadEntries() {
    int n = 0;
    for (const v1::AuditEntry& e : AuditEntries()) n += e.action() == v1::AUDIT_ACTION_READ;
    return n;
  }
};

// Before: every read was its own entry, so a reader could grow the hash chain without bound.
TEST_F(AuditTrailTest, ReadsOfAnHourAreOneEntryAndTheirCountOnceTheHourEnds) {
  const Call tech = StaffA(common::v1::ROLE_TECHNICIAN, "ListConsents");
  for (int i = 0; i < 50; ++i) ASSERT_OK(ReadPatient(tech, patient_));
  EXPECT_EQ(ReadEntries(), 1);  // the first read, at once
  const std::string other = NewId();
  ASSERT_OK(ReadPatient(tech, other));  // another patient is another entry
  Call eligibility = tech;
  eligibility.method = "CheckEligibility";  // so is another method
  ASSERT_OK(ReadPatient(eligibility, patient_));
  EXPECT_EQ(ReadEntries(), 3);

  // Within the hour nothing more is appended ...
  ASSERT_OK_AND_ASSIGN(int flushed, audit_->FlushReadTallies(now_ + absl::Minutes(30)));
  EXPECT_EQ(flushed, 0);
  // ... once it is over, the 49 further reads are one entry naming the reader.
  ASSERT_OK_AND_ASSIGN(flushed, audit_->FlushReadTallies(now_ + absl::Hours(1)));
  EXPECT_EQ(flushed, 1);
  const std::vector<v1::AuditEntry> log = AuditEntries();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log.back().actor_id(), staff_a_);
  EXPECT_EQ(log.back().entity_id(), patient_);
  EXPECT_EQ(log.back().method(), "ListConsents");
  EXPECT_THAT(log.back().detail(), HasSubstr("49 more reads"));
  EXPECT_THAT(log.back().detail(), HasSubstr("(50 in the hour)"));
  ASSERT_OK_AND_ASSIGN(flushed, audit_->FlushReadTallies(now_ + absl::Hours(2)));
  EXPECT_EQ(flushed, 0);  // tallies are gone once flushed

  // The next hour starts again with an entry of its own; the chain stays intact.
  Call later = tech;
  later.now = now_ + absl::Hours(1);
  ASSERT_OK(ReadPatient(later, patient_));
  EXPECT_EQ(ReadEntries(), 5);
  EXPECT_TRUE(VerifyChain(AuditEntries()).intact);
}

}  // namespace
}  // namespace smp::compliance
