#include "services/compliance/compliance_rules.h"

#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

common::v1::LocalDate Date(int y, int m, int d) {
  common::v1::LocalDate out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

// A practitioner, clinic and patient with everything in order on 2026-06-15 (noon UTC).
EligibilityInputs AllInOrder() {
  EligibilityInputs in;
  in.day = absl::CivilDay(2026, 6, 15);
  in.at = absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0), absl::UTCTimeZone());
  for (v1::CredentialKind kind : RequiredCredentials()) {
    v1::Credential c;
    c.set_kind(kind);
    *c.mutable_valid_from() = Date(2025, 6, 16);
    *c.mutable_valid_until() = Date(2026, 6, 15);  // its last valid day is the procedure's day
    in.credentials.push_back(c);
  }
  v1::Permit permit;
  permit.set_kind(v1::PERMIT_KIND_COUNTY_HEALTH);
  *permit.mutable_valid_from() = Date(2026, 1, 1);
  *permit.mutable_valid_until() = Date(2026, 12, 31);
  in.permits.push_back(permit);
  v1::Consent consent;
  consent.set_kind(v1::CONSENT_KIND_PROCEDURE);
  *consent.mutable_signed_time() = ToProtoTimestamp(in.at - absl::Hours(24));
  in.consents.push_back(consent);
  v1::Screening screening;
  screening.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
  *screening.mutable_screened_time() = ToProtoTimestamp(in.at - absl::Hours(48));
  *screening.mutable_valid_until() = ToProtoTimestamp(in.at - absl::Hours(48) + kScreeningValidity);
  in.screenings.push_back(screening);
  return in;
}

TEST(EligibilityTest, AllowedOnTheLastDayACredentialIsValid) {
  EXPECT_TRUE(Decide(AllInOrder()).empty());
}

TEST(EligibilityTest, RefusedTheDayAfterACredentialExpires) {
  EligibilityInputs in = AllInOrder();
  in.day = absl::CivilDay(2026, 6, 16);
  auto reasons = Decide(in);
  ASSERT_EQ(reasons.size(), 3u);  // all three credentials end on the 15th
  for (const auto& r : reasons) {
    EXPECT_EQ(r.code(), v1::CREDENTIAL_INVALID);
    EXPECT_THAT(r.message(), HasSubstr("not on 2026-06-16"));
  }
}

TEST(EligibilityTest, RefusedBeforeACredentialStarts) {
  EligibilityInputs in = AllInOrder();
  *in.credentials[1].mutable_valid_from() = Date(2026, 6, 16);
  auto reasons = Decide(in);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_THAT(reasons[0].message(), HasSubstr("BLOODBORNE_PATHOGEN_TRAINING"));
}

TEST(EligibilityTest, EveryReasonIsNamed) {
  EligibilityInputs in = AllInOrder();
  in.credentials.clear();
  in.permits.clear();
  in.consents.clear();
  in.screenings.clear();
  auto reasons = Decide(in);
  ASSERT_EQ(reasons.size(), 6u);
  EXPECT_THAT(reasons[0].message(), HasSubstr("none on file"));
  EXPECT_EQ(reasons[3].code(), v1::PERMIT_INVALID);
  EXPECT_EQ(reasons[4].code(), v1::CONSENT_MISSING);
  EXPECT_EQ(reasons[5].code(), v1::SCREENING_MISSING);
}

TEST(EligibilityTest, WithdrawnConsentAndLateSignature) {
  EligibilityInputs in = AllInOrder();
  *in.consents[0].mutable_withdrawn_time() = ToProtoTimestamp(in.at - absl::Hours(1));
  ASSERT_EQ(Decide(in).size(), 1u);
  EXPECT_EQ(Decide(in)[0].code(), v1::CONSENT_MISSING);
  in = AllInOrder();
  *in.consents[0].mutable_withdrawn_time() = ToProtoTimestamp(in.at + absl::Hours(1));
  EXPECT_TRUE(Decide(in).empty());  // withdrawn only after the procedure
  in = AllInOrder();
  *in.consents[0].mutable_signed_time() = ToProtoTimestamp(in.at + absl::Minutes(5));
  EXPECT_EQ(Decide(in).size(), 1u);  // signed after the fact
  in = AllInOrder();
  in.consents[0].set_kind(v1::CONSENT_KIND_PHOTO_GALLERY);
  EXPECT_EQ(Decide(in).size(), 1u);  // a gallery consent is not a procedure consent
}

TEST(EligibilityTest, ScreeningOutdatedOrContraindicated) {
  EligibilityInputs in = AllInOrder();
  *in.screenings[0].mutable_valid_until() = ToProtoTimestamp(in.at - absl::Seconds(1));
  auto reasons = Decide(in);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_THAT(reasons[0].message(), HasSubstr("outdated"));

  in = AllInOrder();
  in.screenings[0].set_outcome(v1::SCREENING_OUTCOME_CONTRAINDICATED);
  in.screenings[0].add_findings(v1::CONTRAINDICATION_KELOID_PRONE);
  reasons = Decide(in);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code(), v1::CONTRAINDICATED);
  EXPECT_THAT(reasons[0].message(), HasSubstr("KELOID_PRONE"));
  in.screenings[0].mutable_override()->set_reason("small test patch healed well");
  EXPECT_TRUE(Decide(in).empty());

  // The newest screening decides, not the first clear one.
  in = AllInOrder();
  v1::Screening newer = in.screenings[0];
  newer.set_outcome(v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  *newer.mutable_screened_time() = ToProtoTimestamp(in.at - absl::Hours(1));
  in.screenings.push_back(newer);
  EXPECT_EQ(Decide(in).size(), 1u);
}

TEST(ScreeningTest, OutcomeForEachContraindication) {
  EXPECT_EQ(OutcomeOf({}), v1::SCREENING_OUTCOME_CLEAR);
  for (auto c : {v1::CONTRAINDICATION_KELOID_PRONE, v1::CONTRAINDICATION_HERPES_SIMPLEX,
                 v1::CONTRAINDICATION_INFLAMED_SKIN}) {
    EXPECT_EQ(OutcomeOf({c}), v1::SCREENING_OUTCOME_CONTRAINDICATED) << c;
  }
  for (auto c : {v1::CONTRAINDICATION_ECZEMA, v1::CONTRAINDICATION_PSORIASIS,
                 v1::CONTRAINDICATION_VITILIGO, v1::CONTRAINDICATION_NUMBING_AGENT_ALLERGY,
                 v1::CONTRAINDICATION_MINOXIDIL_USE, v1::CONTRAINDICATION_OTHER}) {
    EXPECT_EQ(OutcomeOf({c}), v1::SCREENING_OUTCOME_NEEDS_REVIEW) << c;
  }
  EXPECT_EQ(OutcomeOf({v1::CONTRAINDICATION_ECZEMA, v1::CONTRAINDICATION_HERPES_SIMPLEX}),
            v1::SCREENING_OUTCOME_CONTRAINDICATED);
}

TEST(ScreeningTest, WhichFindingsAClinicianMayOverride) {
  v1::Screening s;
  s.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
  EXPECT_THAT(CheckOverridable(s),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("clear")));
  s.set_outcome(v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  s.add_findings(v1::CONTRAINDICATION_MINOXIDIL_USE);
  EXPECT_OK(CheckOverridable(s));
  s.set_outcome(v1::SCREENING_OUTCOME_CONTRAINDICATED);
  s.add_findings(v1::CONTRAINDICATION_KELOID_PRONE);
  EXPECT_OK(CheckOverridable(s));
  s.add_findings(v1::CONTRAINDICATION_HERPES_SIMPLEX);
  EXPECT_THAT(CheckOverridable(s),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("HERPES_SIMPLEX")));
  EXPECT_FALSE(ScreeningAllows(s));
}

}  // namespace
}  // namespace smp::compliance
