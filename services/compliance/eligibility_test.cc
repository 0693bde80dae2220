#include "services/compliance/eligibility.h"

#include <algorithm>
#include <vector>

#include "services/compliance/compliance_rules.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class EligibilityOperationTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<Eligibility>(audit_.get());
  }

  v1::CheckEligibilityRequest Request() const {
    v1::CheckEligibilityRequest req;
    req.set_patient_id(patient_);
    req.set_practitioner_id(tech_);
    req.set_clinic_id(clinic_a_);
    *req.mutable_date() = Date(2027, 1, 20);
    req.set_procedure_type(v1::PROCEDURE_TYPE_SAMPLE_PATCH);
    return req;
  }

  // Everything the rules ask for, stored directly.
  void PlantEverything() {
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (v1::CredentialKind kind : RequiredCredentials()) {
        RETURN_IF_ERROR(store_.AddCredential(txn, Credential(tech_, kind), now_).status());
      }
      RETURN_IF_ERROR(store_.AddPermit(txn, Permit(clinic_a_), now_).status());
      RETURN_IF_ERROR(store_.AddConsent(txn, Consent(patient_, clinic_a_), now_).status());
      v1::Screening s = Screening(patient_, clinic_a_);
      s.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
      *s.mutable_valid_until() = ToProtoTimestamp(now_ + absl::Hours(24 * 60));
      return store_.AddScreening(txn, s, now_).status();
    }));
  }

  std::unique_ptr<Eligibility> unit_;
};

TEST_F(EligibilityOperationTest, AllowedWhenEverythingIsInPlace) {
  PlantEverything();
  ASSERT_OK_AND_ASSIGN(
      auto out,
      unit_->CheckEligibility(StaffA(common::v1::ROLE_FRONT_DESK, "CheckEligibility"), Request()));
  EXPECT_TRUE(out.allowed());
  EXPECT_EQ(out.reasons_size(), 0);
}

TEST_F(EligibilityOperationTest, RefusedWithEveryReasonAsAStableCode) {
  ASSERT_OK_AND_ASSIGN(auto out, unit_->CheckEligibility(Admin("CheckEligibility"), Request()));
  EXPECT_FALSE(out.allowed());
  std::vector<v1::IneligibilityCode> codes;
  for (const auto& r : out.reasons()) codes.push_back(r.code());
  EXPECT_EQ(std::count(codes.begin(), codes.end(), v1::CREDENTIAL_INVALID),
            static_cast<int>(RequiredCredentials().size()));
  EXPECT_EQ(std::count(codes.begin(), codes.end(), v1::PERMIT_INVALID), 1);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), v1::CONSENT_MISSING), 1);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), v1::SCREENING_MISSING), 1);
}

TEST_F(EligibilityOperationTest, ValidationAndScope) {
  v1::CheckEligibilityRequest req = Request();
  *req.mutable_date() = Date(1899, 12, 31);  // outside the contract's 1900..9999
  EXPECT_THAT(unit_->CheckEligibility(Admin("CheckEligibility"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("date")));
  req = Request();
  req.set_procedure_type(v1::PROCEDURE_TYPE_UNSPECIFIED);
  EXPECT_THAT(unit_->CheckEligibility(Admin("CheckEligibility"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("procedure_type")));
  absl::Status refused =
      unit_->CheckEligibility(StaffB(common::v1::ROLE_FRONT_DESK, "CheckEligibility"), Request())
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
}

TEST_F(EligibilityOperationTest, AnAuditorsCheckIsOnTheRecord) {
  ASSERT_OK(unit_->CheckEligibility(Auditor("CheckEligibility"), Request()).status());
  const auto log = AuditEntries();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].entity_id(), patient_);
  EXPECT_EQ(log[0].method(), "CheckEligibility");
}

}  // namespace
}  // namespace smp::compliance
