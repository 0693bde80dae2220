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

// Issue 13: clinic B's desk asking about clinic A's patient (at clinic B, its own clinic) is
// refused before anything is read; a scoped caller's own answer carries codes, not details.
TEST_F(EligibilityOperationTest, ScopedCallersGetCodesOnlyAndNeverAnotherClinicsPatient) {
  PlantEverything();  // the patient's consent and screening are clinic A's
  v1::CheckEligibilityRequest req = Request();
  req.set_clinic_id(clinic_b_);
  absl::Status refused =
      unit_->CheckEligibility(StaffB(common::v1::ROLE_FRONT_DESK, "CheckEligibility"), req)
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_THAT(std::string(refused.message()), ::testing::Not(HasSubstr(clinic_a_)));

  // Clinic B has no permit: clinic A's desk... is not B's; an admin sees the detail, a scoped
  // caller of clinic A (asking at A, with the credential missing) only the code.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    return store_.AddCredential(txn, Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION), now_)
        .status();
  }));
  req = Request();
  req.set_practitioner_id(NewId());  // holds no credential at all
  ASSERT_OK_AND_ASSIGN(auto admin, unit_->CheckEligibility(Admin("CheckEligibility"), req));
  ASSERT_OK_AND_ASSIGN(
      auto desk,
      unit_->CheckEligibility(StaffA(common::v1::ROLE_FRONT_DESK, "CheckEligibility"), req));
  ASSERT_GT(admin.reasons_size(), 0);
  ASSERT_EQ(desk.reasons_size(), admin.reasons_size());
  EXPECT_FALSE(desk.allowed());
  for (int i = 0; i < desk.reasons_size(); ++i) {
    EXPECT_EQ(desk.reasons(i).code(), admin.reasons(i).code());
    EXPECT_FALSE(admin.reasons(i).message().empty());
    EXPECT_EQ(desk.reasons(i).message(), "");
  }
}

// Issue 14: consent and screening are judged at the procedure's time, not when the question is
// asked: a consent withdrawn before it, or a screening lapsing before it, refuses it.
TEST_F(EligibilityOperationTest, ConsentAndScreeningAreJudgedAtTheProcedureTime) {
  PlantEverything();  // the screening counts until now + 60 days
  v1::CheckEligibilityRequest req = Request();
  *req.mutable_procedure_time() = ToProtoTimestamp(now_ + absl::Hours(24 * 5));
  ASSERT_OK_AND_ASSIGN(auto soon, unit_->CheckEligibility(Admin("CheckEligibility"), req));
  EXPECT_TRUE(soon.allowed());

  *req.mutable_date() = Date(2027, 4, 1);
  *req.mutable_procedure_time() = ToProtoTimestamp(now_ + absl::Hours(24 * 75));
  ASSERT_OK_AND_ASSIGN(auto later, unit_->CheckEligibility(Admin("CheckEligibility"), req));
  EXPECT_FALSE(later.allowed());
  ASSERT_EQ(later.reasons_size(), 1);
  EXPECT_EQ(later.reasons(0).code(), v1::SCREENING_MISSING);

  // The patient withdraws consent from tomorrow: asked now, a procedure in two days is refused,
  // one this afternoon is not.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Consent> consents, store_.ConsentsOf(txn, patient_));
    v1::Consent withdrawn = consents.at(0);
    *withdrawn.mutable_withdrawn_time() = ToProtoTimestamp(now_ + absl::Hours(24));
    return store_.UpdateConsent(txn, withdrawn);
  }));
  req = Request();
  *req.mutable_procedure_time() = ToProtoTimestamp(now_ + absl::Hours(6));
  ASSERT_OK_AND_ASSIGN(auto before, unit_->CheckEligibility(Admin("CheckEligibility"), req));
  EXPECT_TRUE(before.allowed());
  *req.mutable_procedure_time() = ToProtoTimestamp(now_ + absl::Hours(48));
  ASSERT_OK_AND_ASSIGN(auto after, unit_->CheckEligibility(Admin("CheckEligibility"), req));
  EXPECT_FALSE(after.allowed());
  ASSERT_EQ(after.reasons_size(), 1);
  EXPECT_EQ(after.reasons(0).code(), v1::CONSENT_MISSING);

  req.mutable_procedure_time()->set_seconds(-9'000'000'000);
  EXPECT_THAT(unit_->CheckEligibility(Admin("CheckEligibility"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("procedure_time")));
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
