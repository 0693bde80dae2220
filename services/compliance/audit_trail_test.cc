#include "services/compliance/audit_trail.h"

#include <string>
#include <vector>

#include "common/db/testing/recording_database.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/credentials_permits.h"
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

// Every write that appends to the chain is queued behind the service's other appenders (one
// WriteQueue, "compliance.audit_chain"), so that on PostgreSQL they take turns at the chain's head
// instead of colliding there (ABORTED once retries run out); plain reads queue on nothing.
TEST_F(AuditTrailTest, EveryAppendQueuesOnTheChainsHead) {
  smp::testing::RecordingDatabase recorded(db_.get());
  AuditTrail trail(&recorded, &store_);
  const std::vector<std::string> chain = {"compliance.audit_chain"};

  const Call tech = StaffA(common::v1::ROLE_TECHNICIAN, "ListConsents");
  ASSERT_OK(trail.Read(tech, "patient", patient_, [](Transaction&) { return absl::OkStatus(); }));
  EXPECT_EQ(recorded.TakeWriteQueues(), chain) << "an audited read";
  ASSERT_OK(trail.Read(tech, "clinic", clinic_a_, [](Transaction&) { return absl::OkStatus(); }));
  EXPECT_TRUE(recorded.TakeWriteQueues().empty()) << "an unaudited read writes nothing";

  v1::RecordCredentialRequest req;
  req.set_request_id("cred-q");
  *req.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
  ASSERT_OK(CredentialsPermits(&trail).RecordCredential(Admin("RecordCredential"), req).status());
  EXPECT_EQ(recorded.TakeWriteQueues(), chain) << "a create with its entry";

  ASSERT_OK(trail.Read(tech, "patient", patient_, [](Transaction&) { return absl::OkStatus(); }));
  recorded.TakeWriteQueues();
  EXPECT_THAT(trail.FlushReadTallies(now_ + absl::Hours(1)), ::smp::testing::IsOkAndHolds(1));
  EXPECT_EQ(recorded.TakeWriteQueues(), chain) << "the hour's read tallies";

  RefusalSummary refused;
  refused.who = tech.who;
  refused.method = "ListConsents";
  refused.reason = "OUTSIDE_CLINIC_SCOPE";
  refused.window_start = refused.window_end = now_;
  refused.count = 1;
  trail.DeniedHook()(refused);
  EXPECT_EQ(recorded.TakeWriteQueues(), chain) << "refused attempts";
  EXPECT_TRUE(VerifyChain(AuditEntries()).intact);
}

}  // namespace
}  // namespace smp::compliance
