#include "services/compliance/retention.h"

#include "services/compliance/compliance_rules.h"
#include "services/compliance/consents_screenings.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class RetentionTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<Retention>(audit_.get());
  }

  // A screening of `clinic` taken `age` before now, stored directly.
  std::string ScreeningTaken(const std::string& clinic, absl::Duration age) {
    v1::Screening s = Screening(NewId(), clinic);
    *s.mutable_screened_time() = ToProtoTimestamp(now_ - age);
    std::string id;
    EXPECT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::Screening stored, store_.AddScreening(txn, s, now_));
      id = stored.id();
      return absl::OkStatus();
    }));
    return id;
  }

  v1::SetRetentionPolicyRequest Policy(const std::string& clinic, int destroy_after_years) {
    v1::SetRetentionPolicyRequest req;
    req.set_request_id(absl::StrCat("policy-", clinic, "-", destroy_after_years));
    req.mutable_policy()->set_clinic_id(clinic);
    req.mutable_policy()->set_client_records_years(3);
    req.mutable_policy()->set_destroy_health_questionnaire_after_years(destroy_after_years);
    return req;
  }

  std::unique_ptr<Retention> unit_;
};

TEST_F(RetentionTest, DefaultsUntilSetAndTheSetPolicyAfter) {
  v1::GetRetentionPolicyRequest get;
  get.set_clinic_id(clinic_a_);
  const Call desk = StaffA(common::v1::ROLE_ADMIN, "GetRetentionPolicy");
  ASSERT_OK_AND_ASSIGN(v1::RetentionPolicy defaults, unit_->GetRetentionPolicy(desk, get));
  EXPECT_EQ(defaults.client_records_years(), 5);
  EXPECT_EQ(defaults.documentation_years(), 6);

  const Call setter = StaffA(common::v1::ROLE_ADMIN, "SetRetentionPolicy");
  ASSERT_OK_AND_ASSIGN(v1::RetentionPolicy set,
                       unit_->SetRetentionPolicy(setter, Policy(clinic_a_, 2)));
  EXPECT_EQ(set.training_records_years(), 3);                                   // defaulted
  ASSERT_OK(unit_->SetRetentionPolicy(setter, Policy(clinic_a_, 2)).status());  // a retry
  ASSERT_OK_AND_ASSIGN(v1::RetentionPolicy got, unit_->GetRetentionPolicy(desk, get));
  EXPECT_EQ(got.client_records_years(), 3);
  EXPECT_EQ(got.destroy_health_questionnaire_after_years(), 2);
  EXPECT_EQ(AuditEntries().size(), 1u);
}

TEST_F(RetentionTest, PolicyValidationAndScope) {
  v1::SetRetentionPolicyRequest req = Policy(clinic_a_, 2);
  req.mutable_policy()->set_client_records_years(4);
  EXPECT_THAT(
      unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), req).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.client_records_years")));
  absl::Status refused =
      unit_
          ->SetRetentionPolicy(StaffB(common::v1::ROLE_FRONT_DESK, "SetRetentionPolicy"),
                               Policy(clinic_a_, 2))
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  v1::GetRetentionPolicyRequest get;
  get.set_clinic_id(clinic_a_);
  EXPECT_EQ(
      ErrorReason(
          unit_->GetRetentionPolicy(StaffB(common::v1::ROLE_FRONT_DESK, "GetRetentionPolicy"), get)
              .status()),
      ::smp::reason::kOutsideClinicScope);
}

TEST_F(RetentionTest, PurgeDestroysOnlyWhatTheRuleRequiresOnceARequestId) {
  ASSERT_OK(unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), Policy(clinic_a_, 2)).status());
  const std::string old_a = ScreeningTaken(clinic_a_, absl::Hours(24 * 366 * 2 + 48));
  const std::string young_a = ScreeningTaken(clinic_a_, absl::Hours(24 * 300));
  const std::string old_b = ScreeningTaken(clinic_b_, absl::Hours(24 * 366 * 3));  // no rule
  v1::RunRetentionPurgeRequest req;
  req.set_request_id("purge-1");
  const Call admin = Admin("RunRetentionPurge");
  ASSERT_OK_AND_ASSIGN(auto first, unit_->RunRetentionPurge(admin, req));
  EXPECT_EQ(first.screenings_destroyed(), 1);
  ASSERT_OK_AND_ASSIGN(auto retry, unit_->RunRetentionPurge(admin, req));
  EXPECT_EQ(retry.screenings_destroyed(), 1);  // the first run's answer
  EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    // A tombstone stays (reports over the past still see a screening on file), without content.
    ASSIGN_OR_RETURN(v1::Screening tombstone, store_.GetScreening(txn, old_a));
    EXPECT_EQ(FromProtoTimestamp(tombstone.destroyed_time()), now_);
    EXPECT_EQ(tombstone.patient_id().empty(), false);
    EXPECT_OK(store_.GetScreening(txn, young_a).status());
    EXPECT_OK(store_.GetScreening(txn, old_b).status());
    return absl::OkStatus();
  }));
  const auto log = AuditEntries();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].action(), v1::AUDIT_ACTION_DELETE);
  EXPECT_EQ(log[1].entity_id(), old_a);
  EXPECT_EQ(log[1].method(), "RunRetentionPurge");
  // Without a request_id (older clients) it simply runs again: nothing left to destroy.
  ASSERT_OK_AND_ASSIGN(auto unkeyed,
                       unit_->RunRetentionPurge(admin, v1::RunRetentionPurgeRequest()));
  EXPECT_EQ(unkeyed.screenings_destroyed(), 0);
}

TEST_F(RetentionTest, PurgeLeavesNoCopyOfTheContentInStoredResponsesOrTheAuditLog) {
  ASSERT_OK(unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), Policy(clinic_a_, 2)).status());
  ConsentsScreenings screenings(audit_.get(), &patients_, kScreeningValidity);
  v1::RecordScreeningRequest record;
  record.set_request_id("screen-1");
  *record.mutable_screening() = Screening(patient_, clinic_a_);
  *record.mutable_screening()->mutable_screened_time() =
      ToProtoTimestamp(now_ - absl::Hours(24 * 366 * 2 + 48));
  record.mutable_screening()->add_findings(v1::CONTRAINDICATION_ECZEMA);
  record.mutable_screening()->set_notes("eczema patch behind the left ear");
  const Call tech = StaffA(common::v1::ROLE_TECHNICIAN, "RecordScreening");
  ASSERT_OK_AND_ASSIGN(v1::Screening recorded, screenings.RecordScreening(tech, record));
  v1::OverrideScreeningRequest override_req;
  override_req.set_request_id("override-1");
  override_req.set_id(recorded.id());
  override_req.set_reason("mild eczema well away from the hairline");
  const Call clinician = StaffA(common::v1::ROLE_TECHNICIAN, "OverrideScreening");
  ASSERT_OK(screenings.OverrideScreening(clinician, override_req).status());

  ASSERT_OK_AND_ASSIGN(int64_t destroyed, unit_->Purge(Admin("RunRetentionPurge")));
  EXPECT_EQ(destroyed, 1);
  // Retries of the first requests answer the tombstone: same id, no content.
  ASSERT_OK_AND_ASSIGN(v1::Screening again, screenings.RecordScreening(tech, record));
  EXPECT_EQ(again.id(), recorded.id());
  EXPECT_EQ(again.findings_size(), 0);
  EXPECT_EQ(again.notes(), "");
  EXPECT_TRUE(again.has_destroyed_time());
  ASSERT_OK_AND_ASSIGN(v1::Screening overridden,
                       screenings.OverrideScreening(clinician, override_req));
  EXPECT_EQ(overridden.override().reason(), "");
  EXPECT_TRUE(overridden.has_destroyed_time());
  // The audit log never held the content.
  for (const v1::AuditEntry& e : AuditEntries()) {
    EXPECT_EQ(e.detail().find("eczema"), std::string::npos) << e.DebugString();
  }
  // A tombstone is not purged twice, nor overridden.
  ASSERT_OK_AND_ASSIGN(destroyed, unit_->Purge(Admin("RunRetentionPurge")));
  EXPECT_EQ(destroyed, 0);
}

TEST_F(RetentionTest, PolicyTimeZoneIsValidated) {
  v1::SetRetentionPolicyRequest req = Policy(clinic_a_, 2);
  req.mutable_policy()->set_time_zone("Mars/Olympus");
  EXPECT_THAT(unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.time_zone")));
  req.mutable_policy()->set_time_zone("Pacific/Auckland");
  ASSERT_OK(unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), req).status());
  v1::GetRetentionPolicyRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(auto policy, unit_->GetRetentionPolicy(Admin("GetRetentionPolicy"), get));
  EXPECT_EQ(policy.time_zone(), "Pacific/Auckland");
}

TEST_F(RetentionTest, TheDailyJobPurgesAsTheService) {
  ASSERT_OK(unit_->SetRetentionPolicy(Admin("SetRetentionPolicy"), Policy(clinic_a_, 1)).status());
  ScreeningTaken(clinic_a_, absl::Hours(24 * 400));
  const Call job = ::smp::testing::CallAs(
      ::smp::testing::StaffOf({common::v1::ROLE_SERVICE}, {}, "system:retention-job"), now_,
      "RunRetentionPurge");
  ASSERT_OK_AND_ASSIGN(int64_t destroyed, unit_->Purge(job));
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(AuditEntries().back().actor_id(), "system:retention-job");
}

}  // namespace
}  // namespace smp::compliance
