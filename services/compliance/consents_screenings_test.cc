#include "services/compliance/consents_screenings.h"

#include <algorithm>

#include "services/compliance/compliance_reasons.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class ConsentsScreeningsTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<ConsentsScreenings>(audit_.get(), &patients_, absl::Hours(24 * 90));
  }

  v1::Consent Record(const v1::Consent& consent, const std::string& request_id) {
    v1::RecordConsentRequest req;
    req.set_request_id(request_id);
    *req.mutable_consent() = consent;
    absl::StatusOr<v1::Consent> out = unit_->RecordConsent(Admin("RecordConsent"), req);
    EXPECT_OK(out.status());
    return out.value_or(v1::Consent());
  }

  std::unique_ptr<ConsentsScreenings> unit_;
};

TEST_F(ConsentsScreeningsTest, ConsentIsRecordedOnceAndWithdrawnOnce) {
  v1::RecordConsentRequest req;
  req.set_request_id("consent-1");
  *req.mutable_consent() = Consent(patient_, clinic_a_);
  const Call desk = StaffA(common::v1::ROLE_FRONT_DESK, "RecordConsent");
  ASSERT_OK_AND_ASSIGN(v1::Consent consent, unit_->RecordConsent(desk, req));
  ASSERT_OK_AND_ASSIGN(v1::Consent replay, unit_->RecordConsent(desk, req));
  EXPECT_EQ(replay.id(), consent.id());

  v1::WithdrawConsentRequest withdraw;
  withdraw.set_request_id("withdraw-1");
  withdraw.set_id(consent.id());
  const Call withdrawing = StaffA(common::v1::ROLE_FRONT_DESK, "WithdrawConsent");
  ASSERT_OK_AND_ASSIGN(v1::Consent withdrawn, unit_->WithdrawConsent(withdrawing, withdraw));
  EXPECT_EQ(FromProtoTimestamp(withdrawn.withdrawn_time()), now_);
  ASSERT_OK_AND_ASSIGN(replay, unit_->WithdrawConsent(withdrawing, withdraw));  // a retry
  EXPECT_EQ(replay.withdrawn_time().seconds(), withdrawn.withdrawn_time().seconds());
  withdraw.set_request_id("withdraw-2");
  absl::Status again = unit_->WithdrawConsent(withdrawing, withdraw).status();
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(again), reason::kAlreadyWithdrawn);
  EXPECT_EQ(ErrorMetadata(again, "consent_id"), consent.id());
  // Record + withdraw, each once.
  EXPECT_EQ(AuditEntries().size(), 2u);
}

// Issue 13: clinic B's technician cannot add a consent or a screening (recorded "at clinic B") to
// clinic A's patient, so clinic A's eligibility cannot be changed from clinic B.
TEST_F(ConsentsScreeningsTest, AnotherClinicsPatientIsNeitherConsentedNorScreened) {
  Record(Consent(patient_, clinic_a_), "consent-a");
  v1::RecordConsentRequest consent;
  consent.set_request_id("consent-b");
  *consent.mutable_consent() = Consent(patient_, clinic_b_);
  absl::Status refused =
      unit_->RecordConsent(StaffB(common::v1::ROLE_TECHNICIAN, "RecordConsent"), consent).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);

  v1::RecordScreeningRequest screening;
  screening.set_request_id("screening-b");
  *screening.mutable_screening() = Screening(patient_, clinic_b_);
  refused =
      unit_->RecordScreening(StaffB(common::v1::ROLE_TECHNICIAN, "RecordScreening"), screening)
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  EXPECT_EQ(AuditEntries().size(), 1u);  // only clinic A's consent

  // Clinic A's own technician may, and so may an admin anywhere.
  screening.set_request_id("screening-a");
  *screening.mutable_screening() = Screening(patient_, clinic_a_);
  ASSERT_OK(
      unit_->RecordScreening(StaffA(common::v1::ROLE_TECHNICIAN, "RecordScreening"), screening)
          .status());
  screening.set_request_id("screening-admin");
  *screening.mutable_screening() = Screening(patient_, clinic_b_);
  ASSERT_OK(unit_->RecordScreening(Admin("RecordScreening"), screening).status());
}

// Before: compliance bound a patient it had no record of to the first recording clinic, so clinic
// A's technician could take clinic B's new patient (and then lock clinic B out of its records).
TEST_F(ConsentsScreeningsTest, AnUnseenPatientOfAnotherClinicIsNotBoundByRecordingFirst) {
  const std::string b_patient = NewId();
  patients_.Set(b_patient, clinic_b_);
  v1::RecordConsentRequest consent;
  consent.set_request_id("consent-first");
  *consent.mutable_consent() = Consent(b_patient, clinic_a_);
  absl::Status refused =
      unit_->RecordConsent(StaffA(common::v1::ROLE_TECHNICIAN, "RecordConsent"), consent).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);
  v1::RecordScreeningRequest screening;
  screening.set_request_id("screening-first");
  *screening.mutable_screening() = Screening(b_patient, clinic_a_);
  EXPECT_THAT(
      unit_->RecordScreening(StaffA(common::v1::ROLE_TECHNICIAN, "RecordScreening"), screening),
      StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(AuditEntries().empty());

  // Clinic B's own technician records for its patient.
  *consent.mutable_consent() = Consent(b_patient, clinic_b_);
  consent.set_request_id("consent-b");
  ASSERT_OK(
      unit_->RecordConsent(StaffB(common::v1::ROLE_TECHNICIAN, "RecordConsent"), consent).status());

  // A patient scheduling does not know is refused the same way (no hint that it exists elsewhere).
  patients_.default_clinic.clear();
  *consent.mutable_consent() = Consent(NewId(), clinic_a_);
  consent.set_request_id("consent-unknown");
  EXPECT_EQ(ErrorReason(
                unit_->RecordConsent(StaffA(common::v1::ROLE_TECHNICIAN, "RecordConsent"), consent)
                    .status()),
            ::smp::reason::kOutsideClinicScope);
}

TEST_F(ConsentsScreeningsTest, SchedulingDownFailsClosedForClinicStaffOnly) {
  patients_.down = true;
  v1::RecordConsentRequest consent;
  consent.set_request_id("consent-down");
  *consent.mutable_consent() = Consent(patient_, clinic_a_);
  EXPECT_THAT(unit_->RecordConsent(StaffA(common::v1::ROLE_TECHNICIAN, "RecordConsent"), consent),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("scheduling")));
  EXPECT_TRUE(AuditEntries().empty());
  // A chain-wide caller may see every clinic: scheduling is not asked.
  const int asked = patients_.asked;
  ASSERT_OK(unit_->RecordConsent(Admin("RecordConsent"), consent).status());
  EXPECT_EQ(patients_.asked, asked);
}

TEST_F(ConsentsScreeningsTest, ConsentValidationNamesTheField) {
  v1::RecordConsentRequest req;
  req.set_request_id("bad");
  *req.mutable_consent() = Consent(patient_, clinic_a_);
  *req.mutable_consent()->mutable_signed_time() = ToProtoTimestamp(now_ + absl::Hours(1));
  EXPECT_THAT(unit_->RecordConsent(Admin("RecordConsent"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("consent.signed_time")));
  // A domain bound apart from the date format: nothing of the chain predates 1990.
  *req.mutable_consent()->mutable_signed_time() =
      ToProtoTimestamp(absl::FromCivil(absl::CivilDay(1985, 1, 1), absl::UTCTimeZone()));
  EXPECT_THAT(unit_->RecordConsent(Admin("RecordConsent"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("implausibly old")));
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_request_id("w");
  EXPECT_THAT(unit_->WithdrawConsent(Admin("WithdrawConsent"), withdraw).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id")));
}

TEST_F(ConsentsScreeningsTest, AnotherClinicsConsentIsNeitherWithdrawnNorListed) {
  const v1::Consent a = Record(Consent(patient_, clinic_a_), "a");
  Record(Consent(patient_, clinic_b_), "b");
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_request_id("w");
  withdraw.set_id(a.id());
  absl::Status refused =
      unit_->WithdrawConsent(StaffB(common::v1::ROLE_FRONT_DESK, "WithdrawConsent"), withdraw)
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);

  v1::ListConsentsRequest list;
  list.set_patient_id(patient_);
  ASSERT_OK_AND_ASSIGN(
      auto mine, unit_->ListConsents(StaffA(common::v1::ROLE_FRONT_DESK, "ListConsents"), list));
  ASSERT_EQ(mine.consents_size(), 1);
  EXPECT_EQ(mine.consents(0).id(), a.id());
  ASSERT_OK_AND_ASSIGN(auto all, unit_->ListConsents(Admin("ListConsents"), list));
  EXPECT_EQ(all.consents_size(), 2);
}

TEST_F(ConsentsScreeningsTest, ConsentsPageNewestFirst) {
  for (int i = 0; i < 5; ++i) Record(Consent(patient_, clinic_a_), absl::StrCat("c", i));
  v1::ListConsentsRequest list;
  list.set_patient_id(patient_);
  list.set_page_size(2);
  std::vector<std::string> ids;
  do {
    ASSERT_OK_AND_ASSIGN(auto page, unit_->ListConsents(Admin("ListConsents"), list));
    for (const auto& c : page.consents()) ids.push_back(c.id());
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  list.set_page_size(-1);
  EXPECT_THAT(unit_->ListConsents(Admin("ListConsents"), list).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(ConsentsScreeningsTest, ScreeningOutcomeAndValidityAreComputed) {
  v1::RecordScreeningRequest req;
  req.set_request_id("s1");
  *req.mutable_screening() = Screening(patient_, clinic_a_);
  req.mutable_screening()->add_findings(v1::CONTRAINDICATION_ECZEMA);
  req.mutable_screening()->set_outcome(v1::SCREENING_OUTCOME_CLEAR);  // ignored
  ASSERT_OK_AND_ASSIGN(
      v1::Screening s,
      unit_->RecordScreening(StaffA(common::v1::ROLE_TECHNICIAN, "RecordScreening"), req));
  EXPECT_EQ(s.outcome(), v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  EXPECT_EQ(FromProtoTimestamp(s.valid_until()), now_ - absl::Hours(24) + absl::Hours(24 * 90));
  EXPECT_EQ(ErrorReason(
                unit_->RecordScreening(StaffB(common::v1::ROLE_TECHNICIAN, "RecordScreening"), req)
                    .status()),
            ::smp::reason::kOutsideClinicScope);

  v1::OverrideScreeningRequest over;
  over.set_request_id("o1");
  over.set_id(s.id());
  over.set_reason("mild, away from the scalp");
  const Call clinician = StaffA(common::v1::ROLE_TECHNICIAN, "OverrideScreening", "dr-a");
  ASSERT_OK_AND_ASSIGN(v1::Screening overridden, unit_->OverrideScreening(clinician, over));
  EXPECT_EQ(overridden.override().clinician_id(), "dr-a");
  ASSERT_OK(unit_->OverrideScreening(clinician, over).status());  // a retry
  over.set_request_id("o2");
  absl::Status twice = unit_->OverrideScreening(clinician, over).status();
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(twice), reason::kNotOverridable);
}

TEST_F(ConsentsScreeningsTest, ActiveHerpesMayNotBeOverridden) {
  v1::RecordScreeningRequest req;
  req.set_request_id("s1");
  *req.mutable_screening() = Screening(patient_, clinic_a_);
  req.mutable_screening()->add_findings(v1::CONTRAINDICATION_HERPES_SIMPLEX);
  ASSERT_OK_AND_ASSIGN(v1::Screening s, unit_->RecordScreening(Admin("RecordScreening"), req));
  EXPECT_EQ(s.outcome(), v1::SCREENING_OUTCOME_CONTRAINDICATED);
  v1::OverrideScreeningRequest over;
  over.set_request_id("o1");
  over.set_id(s.id());
  over.set_reason("patient insists");
  absl::Status refused = unit_->OverrideScreening(Admin("OverrideScreening"), over).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(refused), reason::kNotOverridable);
  over.clear_reason();
  EXPECT_THAT(unit_->OverrideScreening(Admin("OverrideScreening"), over).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
}

TEST_F(ConsentsScreeningsTest, ScreeningsPageAndStayInScope) {
  for (int i = 0; i < 3; ++i) {
    v1::RecordScreeningRequest req;
    req.set_request_id(absl::StrCat("s", i));
    *req.mutable_screening() = Screening(patient_, i == 2 ? clinic_b_ : clinic_a_);
    *req.mutable_screening()->mutable_screened_time() =
        ToProtoTimestamp(now_ - absl::Hours(24 * (i + 1)));
    ASSERT_OK(unit_->RecordScreening(Admin("RecordScreening"), req).status());
  }
  v1::ListScreeningsRequest list;
  list.set_patient_id(patient_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(auto first, unit_->ListScreenings(Admin("ListScreenings"), list));
  ASSERT_EQ(first.screenings_size(), 1);
  EXPECT_EQ(FromProtoTimestamp(first.screenings(0).screened_time()), now_ - absl::Hours(24));
  list.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(auto second, unit_->ListScreenings(Admin("ListScreenings"), list));
  ASSERT_EQ(second.screenings_size(), 1);
  EXPECT_EQ(FromProtoTimestamp(second.screenings(0).screened_time()), now_ - absl::Hours(48));
  list.clear_page_token();
  list.set_page_size(0);
  ASSERT_OK_AND_ASSIGN(
      auto scoped,
      unit_->ListScreenings(StaffA(common::v1::ROLE_TECHNICIAN, "ListScreenings"), list));
  EXPECT_EQ(scoped.screenings_size(), 2);  // not clinic B's
}

}  // namespace
}  // namespace smp::compliance
