#include "services/compliance/bulk_load.h"

#include <vector>

#include "services/compliance/compliance_rules.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

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

}  // namespace
}  // namespace smp::compliance
