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
  // The code is said once (callers print "CODE: message"), the findings in words.
  EXPECT_EQ(reasons[0].message(),
            "the screening found KELOID_PRONE (outcome CONTRAINDICATED) and there is no "
            "clinician's override");
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
  EXPECT_FALSE(ScreeningAllows(s, absl::Now()));
}

TEST(JudgeProcedureTest, AConsentRecordedAfterTheProcedureIsRecordedAfterNotCompliant) {
  EligibilityInputs in = AllInOrder();
  // Signed (on paper) the day before, entered into the system a month after the procedure.
  *in.consents[0].mutable_record_time() = ToProtoTimestamp(in.at + absl::Hours(24 * 30));
  in.consents[0].set_id("consent-1");
  *in.screenings[0].mutable_record_time() = ToProtoTimestamp(in.at - absl::Hours(47));
  std::vector<ProcedureFinding> findings = JudgeProcedure(in);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE);
  EXPECT_THAT(findings[0].detail, HasSubstr("consent-1"));
  // On file before the procedure: nothing to find.
  *in.consents[0].mutable_record_time() = ToProtoTimestamp(in.at - absl::Hours(1));
  EXPECT_TRUE(JudgeProcedure(in).empty());
  // Records from before the service kept a record time count as on file.
  in.consents[0].clear_record_time();
  in.screenings[0].clear_record_time();
  EXPECT_TRUE(JudgeProcedure(in).empty());
}

TEST(JudgeProcedureTest, ABackdatedScreeningReplacingAContraindicatedOneIsRecordedAfter) {
  EligibilityInputs in = AllInOrder();
  // On file that day: a contraindicated screening. Added a week later, backdated before the
  // procedure: a clear one.
  in.screenings[0].set_outcome(v1::SCREENING_OUTCOME_CONTRAINDICATED);
  in.screenings[0].add_findings(v1::CONTRAINDICATION_KELOID_PRONE);
  *in.screenings[0].mutable_record_time() = ToProtoTimestamp(in.at - absl::Hours(48));
  v1::Screening late;
  late.set_id("screening-late");
  late.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
  *late.mutable_screened_time() = ToProtoTimestamp(in.at - absl::Hours(2));
  *late.mutable_valid_until() = ToProtoTimestamp(in.at + kScreeningValidity);
  *late.mutable_record_time() = ToProtoTimestamp(in.at + absl::Hours(24 * 7));
  in.screenings.push_back(late);
  std::vector<ProcedureFinding> findings = JudgeProcedure(in);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE);
  EXPECT_THAT(findings[0].detail, HasSubstr("screening-late"));
}

TEST(JudgeProcedureTest, AnOverrideCountsOnlyIfDecidedBeforeTheProcedure) {
  EligibilityInputs in = AllInOrder();
  in.screenings[0].set_outcome(v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  in.screenings[0].add_findings(v1::CONTRAINDICATION_ECZEMA);
  v1::ScreeningOverride* o = in.screenings[0].mutable_override();
  o->set_reason("mild, away from the area");
  *o->mutable_decided_time() = ToProtoTimestamp(in.at + absl::Hours(3));  // after the procedure
  std::vector<ProcedureFinding> findings = JudgeProcedure(in);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, v1::FINDING_KIND_CONTRAINDICATED);  // not SCREENING_MISSING
  EXPECT_THAT(findings[0].detail, HasSubstr("before the procedure"));
  EXPECT_FALSE(ScreeningAllows(in.screenings[0], in.at));
  *o->mutable_decided_time() = ToProtoTimestamp(in.at - absl::Hours(3));
  EXPECT_TRUE(JudgeProcedure(in).empty());
  EXPECT_TRUE(ScreeningAllows(in.screenings[0], in.at));
}

TEST(JudgeProcedureTest, AContraindicatedScreeningIsItsOwnFinding) {
  EligibilityInputs in = AllInOrder();
  in.screenings[0].set_outcome(v1::SCREENING_OUTCOME_CONTRAINDICATED);
  in.screenings[0].add_findings(v1::CONTRAINDICATION_HERPES_SIMPLEX);
  std::vector<ProcedureFinding> findings = JudgeProcedure(in);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, v1::FINDING_KIND_CONTRAINDICATED);
  in.screenings.clear();
  findings = JudgeProcedure(in);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, v1::FINDING_KIND_SCREENING_MISSING);
}

TEST(ScreeningTest, ATombstoneKeepsWhatReportsNeedAndNoContent) {
  v1::Screening s;
  s.set_id("s1");
  s.set_patient_id("p1");
  s.set_clinic_id("c1");
  *s.mutable_screened_time() = ToProtoTimestamp(absl::FromUnixSeconds(1'700'000'000));
  s.add_findings(v1::CONTRAINDICATION_ECZEMA);
  s.set_notes("eczema behind the left ear");
  s.set_outcome(v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  s.mutable_override()->set_clinician_id("doc");
  s.mutable_override()->set_reason("mild eczema, away from the area");
  *s.mutable_override()->mutable_decided_time() = s.screened_time();
  *s.mutable_valid_until() = ToProtoTimestamp(absl::FromUnixSeconds(1'707'776'000));
  const absl::Time destroyed = absl::FromUnixSeconds(1'800'000'000);
  const v1::Screening t = ScreeningTombstone(s, destroyed);
  EXPECT_EQ(t.id(), "s1");
  EXPECT_EQ(t.patient_id(), "p1");
  EXPECT_EQ(t.outcome(), v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  EXPECT_EQ(t.valid_until().seconds(), 1'707'776'000);
  EXPECT_EQ(t.screened_time().seconds(), 1'700'000'000);
  EXPECT_EQ(t.findings_size(), 0);
  EXPECT_EQ(t.notes(), "");
  EXPECT_EQ(t.override().reason(), "");
  EXPECT_EQ(t.override().clinician_id(), "doc");
  EXPECT_EQ(FromProtoTimestamp(t.destroyed_time()), destroyed);
  EXPECT_TRUE(ScreeningAllows(t, destroyed));  // it was overridden, and still says so
}

TEST(RetentionRuleTest, DestructionCountsCalendarYearsInTheClinicsZone) {
  const absl::TimeZone new_york = ZoneNamed("America/New_York");
  // 2026-03-08 12:00 EDT (DST began that morning); two years before, 2024-03-08 was still EST.
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 3, 8, 12, 0, 0), new_york);
  EXPECT_EQ(DestructionCutoff(now, 2, new_york),
            absl::FromCivil(absl::CivilSecond(2024, 3, 8, 12, 0, 0), new_york));
  // In UTC it would be an hour earlier (16:00Z - 2 years = 11:00 EST).
  EXPECT_NE(DestructionCutoff(now, 2, new_york), DestructionCutoff(now, 2, absl::UTCTimeZone()));
  // Auckland's day runs ahead of UTC's.
  const absl::Time noon_utc =
      absl::FromCivil(absl::CivilSecond(2027, 1, 15, 12, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(LocalDayOf(noon_utc, ZoneNamed("Pacific/Auckland")), absl::CivilDay(2027, 1, 16));
  EXPECT_EQ(ZoneNamed("").name(), "UTC");
}

TEST(CredentialRuleTest, BloodbornePathogenTrainingIsYearly) {
  v1::Credential c;
  c.set_kind(v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING);
  *c.mutable_valid_from() = Date(2026, 3, 1);
  *c.mutable_training()->mutable_training_date() = Date(2026, 3, 1);
  *c.mutable_valid_until() = Date(2027, 3, 1);  // the same day a year later: allowed
  EXPECT_OK(CheckTrainingValidity(c));
  *c.mutable_valid_until() = Date(2027, 3, 2);
  EXPECT_THAT(CheckTrainingValidity(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credential.valid_until")));
  *c.mutable_valid_until() = Date(2031, 3, 1);
  EXPECT_THAT(CheckTrainingValidity(c), StatusIs(absl::StatusCode::kInvalidArgument));
  // Counted from the training too, when validity starts later.
  *c.mutable_valid_from() = Date(2026, 6, 1);
  *c.mutable_valid_until() = Date(2027, 5, 1);
  EXPECT_THAT(CheckTrainingValidity(c), StatusIs(absl::StatusCode::kInvalidArgument));
  // Other credentials run as long as issued.
  c.set_kind(v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
  *c.mutable_valid_until() = Date(2031, 3, 1);
  EXPECT_OK(CheckTrainingValidity(c));
}

// A procedure on 2026-06-15 with every kind of finding about its own record, judged with
// AllInOrder's circumstances (nothing to find there): each finding comes once, in the report's
// order, naming the procedure.
TEST(ProcedureFindingsTest, FindsEachKindInTheReportsOrder) {
  const EligibilityInputs in = AllInOrder();
  v1::ProcedureRecord r;
  r.set_id("proc-1");
  r.set_clinic_id("clinic-1");
  r.set_appointment_id("appt-1");
  *r.mutable_performed_time() = ToProtoTimestamp(in.at);
  r.mutable_checklist()->set_gloves_worn(true);  // the rest unticked
  v1::NeedleUse* expired = r.add_needles();
  expired->set_product_id("needle");
  expired->set_lot("N-OLD");
  expired->set_serial("S-1");
  *expired->mutable_expiry_date() = Date(2026, 6, 14);
  v1::NeedleUse* reused = r.add_needles();
  reused->set_product_id("needle");
  reused->set_lot("N-RECALLED");
  reused->set_serial("S-2");
  *reused->mutable_expiry_date() = Date(2026, 6, 15);  // expires that day: still usable
  v1::PigmentUse* pigment = r.add_pigments();
  pigment->set_product_id("pigment");
  pigment->set_lot("P-1");
  *pigment->mutable_expiry_date() = Date(2026, 6, 1);
  v1::LotRecall recall;
  recall.set_reason("contamination");
  *recall.mutable_recall_time() = ToProtoTimestamp(in.at);  // at the procedure: counts
  v1::LotRecall later;
  later.set_reason("later");
  *later.mutable_recall_time() = ToProtoTimestamp(in.at + absl::Seconds(1));

  std::vector<v1::Finding> findings = ProcedureFindings(
      r, in,
      [](const std::string& serial) -> std::string { return serial == "S-2" ? "proc-0" : ""; },
      [&](const std::string& product, const std::string& lot) -> const v1::LotRecall* {
        if (product == "needle" && lot == "N-RECALLED") return &recall;
        if (product == "pigment" && lot == "P-1") return &later;
        return nullptr;
      });
  std::vector<v1::FindingKind> kinds;
  for (const v1::Finding& f : findings) {
    kinds.push_back(f.kind());
    EXPECT_EQ(f.procedure_id(), "proc-1");
    EXPECT_EQ(f.clinic_id(), "clinic-1");
    EXPECT_EQ(f.appointment_id(), "appt-1");
  }
  EXPECT_EQ(kinds, (std::vector<v1::FindingKind>{
                       v1::FINDING_KIND_CHECKLIST_INCOMPLETE, v1::FINDING_KIND_EXPIRED_LOT,
                       v1::FINDING_KIND_NEEDLE_REUSE, v1::FINDING_KIND_RECALLED_LOT,
                       v1::FINDING_KIND_EXPIRED_LOT}));
  ASSERT_EQ(findings.size(), 5u);
  EXPECT_THAT(findings[1].detail(), HasSubstr("needle lot N-OLD expired 2026-06-14"));
  EXPECT_THAT(findings[2].detail(), HasSubstr("needle S-2 is also recorded in procedure proc-0"));
  EXPECT_THAT(findings[3].detail(), HasSubstr("needle lot N-RECALLED was recalled: contamination"));
  EXPECT_THAT(findings[4].detail(), HasSubstr("pigment lot P-1 expired 2026-06-01"));
}

// The circumstances' findings come first, from JudgeProcedure.
TEST(ProcedureFindingsTest, JudgesTheCircumstancesFirst) {
  EligibilityInputs in = AllInOrder();
  in.permits.clear();
  v1::ProcedureRecord r;
  r.set_id("proc-1");
  *r.mutable_performed_time() = ToProtoTimestamp(in.at);
  std::vector<v1::Finding> findings = ProcedureFindings(
      r, in, [](const std::string&) -> std::string { return ""; },
      [](const std::string&, const std::string&) -> const v1::LotRecall* { return nullptr; });
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].kind(), v1::FINDING_KIND_PERMIT_INVALID);
  EXPECT_EQ(findings[1].kind(), v1::FINDING_KIND_CHECKLIST_INCOMPLETE);
}

// Recorded as the service records it: outcome from the findings, no override, validity from the
// time it was taken.
TEST(ScreeningAsRecordedTest, SetsWhatTheServiceOwns) {
  v1::Screening s;
  s.add_findings(v1::CONTRAINDICATION_ECZEMA);
  s.set_outcome(v1::SCREENING_OUTCOME_CLEAR);
  s.mutable_override()->set_reason("self-approved");
  const absl::Time taken = absl::FromUnixSeconds(1'800'000'000);
  *s.mutable_screened_time() = ToProtoTimestamp(taken);
  const v1::Screening recorded = ScreeningAsRecorded(s, absl::Hours(24));
  EXPECT_EQ(recorded.outcome(), v1::SCREENING_OUTCOME_NEEDS_REVIEW);
  EXPECT_FALSE(recorded.has_override());
  EXPECT_EQ(FromProtoTimestamp(recorded.valid_until()), taken + absl::Hours(24));
}

}  // namespace
}  // namespace smp::compliance
