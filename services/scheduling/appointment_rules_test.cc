#include "services/scheduling/appointment_rules.h"

#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_reasons.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using v1::AppointmentStatus;

const absl::Time kNow = absl::FromUnixSeconds(1764000000);
const absl::Time kHoldLive = kNow + absl::Minutes(5);
const absl::Time kHoldLapsed = kNow - absl::Seconds(1);

TEST(AppointmentRulesTest, HappyPathThroughEveryStatus) {
  EXPECT_EQ(*NextStatus(v1::PROPOSED, AppointmentAction::kConfirm, kHoldLive, kNow), v1::BOOKED);
  EXPECT_EQ(*NextStatus(v1::BOOKED, AppointmentAction::kCheckIn, {}, kNow), v1::ARRIVED);
  EXPECT_EQ(*NextStatus(v1::ARRIVED, AppointmentAction::kStart, {}, kNow), v1::IN_PROGRESS);
  EXPECT_EQ(*NextStatus(v1::IN_PROGRESS, AppointmentAction::kComplete, {}, kNow), v1::FULFILLED);
  EXPECT_EQ(*NextStatus(v1::BOOKED, AppointmentAction::kNoShow, {}, kNow), v1::NOSHOW);
  EXPECT_EQ(*NextStatus(v1::BOOKED, AppointmentAction::kReschedule, {}, kNow), v1::BOOKED);
  EXPECT_EQ(*NextStatus(v1::ARRIVED, AppointmentAction::kCancel, {}, kNow), v1::CANCELLED);
  EXPECT_EQ(*NextStatus(v1::ARRIVED, AppointmentAction::kStop, {}, kNow),
            v1::APPOINTMENT_STATUS_STOPPED);  // not done
  EXPECT_EQ(*NextStatus(v1::IN_PROGRESS, AppointmentAction::kStop, {}, kNow),
            v1::APPOINTMENT_STATUS_STOPPED);  // stopped
}

TEST(AppointmentRulesTest, IllegalTransitionsNameTheCurrentStatus) {
  // Every (status, action) pair not in the table is refused.
  const AppointmentAction actions[] = {AppointmentAction::kConfirm, AppointmentAction::kReschedule,
                                       AppointmentAction::kCancel,  AppointmentAction::kCheckIn,
                                       AppointmentAction::kStart,   AppointmentAction::kComplete,
                                       AppointmentAction::kNoShow,  AppointmentAction::kStop};
  int allowed = 0;
  for (int s = v1::PROPOSED; s <= v1::APPOINTMENT_STATUS_STOPPED; ++s) {
    for (AppointmentAction a : actions) {
      auto next = NextStatus(static_cast<AppointmentStatus>(s), a, kHoldLive, kNow);
      if (next.ok()) {
        ++allowed;
      } else {
        EXPECT_THAT(next, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(v1::AppointmentStatus_Name(s))));
      }
    }
  }
  EXPECT_EQ(allowed, 12);  // the transitions listed in appointment_rules.h
  EXPECT_THAT(NextStatus(v1::IN_PROGRESS, AppointmentAction::kReschedule, {}, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot reschedule an appointment that is IN_PROGRESS")));
  EXPECT_THAT(NextStatus(v1::FULFILLED, AppointmentAction::kCancel, {}, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("FULFILLED")));
}

TEST(AppointmentRulesTest, LapsedHoldCanOnlyBeCancelled) {
  const absl::StatusOr<AppointmentStatus> confirm =
      NextStatus(v1::PROPOSED, AppointmentAction::kConfirm, kHoldLapsed, kNow);
  EXPECT_THAT(confirm, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("hold lapsed")));
  EXPECT_EQ(ErrorReason(confirm.status()), kHoldLapsedReason);
  EXPECT_FALSE(ErrorMetadata(confirm.status(), "hold_expire_time").empty());
  EXPECT_EQ(*NextStatus(v1::PROPOSED, AppointmentAction::kCancel, kHoldLapsed, kNow),
            v1::CANCELLED);
}

TEST(AppointmentRulesTest, WhatBlocksTime) {
  EXPECT_TRUE(BlocksTime(v1::PROPOSED, kHoldLive, kNow));
  EXPECT_FALSE(BlocksTime(v1::PROPOSED, kHoldLapsed, kNow));
  EXPECT_TRUE(BlocksTime(v1::BOOKED, {}, kNow));
  EXPECT_TRUE(BlocksTime(v1::ARRIVED, {}, kNow));
  EXPECT_TRUE(BlocksTime(v1::IN_PROGRESS, {}, kNow));
  EXPECT_TRUE(BlocksTime(v1::FULFILLED, {}, kNow));  // availability must not offer it again
  EXPECT_FALSE(BlocksTime(v1::CANCELLED, {}, kNow));
  EXPECT_FALSE(BlocksTime(v1::NOSHOW, {}, kNow));
  EXPECT_FALSE(BlocksTime(v1::APPOINTMENT_STATUS_STOPPED, {}, kNow));
}

// Issue 14: only a confirmed appointment the patient cancels inside the window is charged; a
// phone hold (PROPOSED) and the clinic's own cancellations never are.
TEST(AppointmentRulesTest, OnlyAConfirmedAppointmentThePatientCancelsLateIsCharged) {
  const absl::Time start = kNow + absl::Hours(20);
  const absl::Duration window = absl::Hours(48);
  EXPECT_TRUE(ChargesLateCancellation(v1::BOOKED, v1::INITIATOR_PATIENT, start, kNow, window));
  EXPECT_TRUE(ChargesLateCancellation(v1::ARRIVED, v1::INITIATOR_PATIENT, start, kNow, window));
  EXPECT_FALSE(ChargesLateCancellation(v1::PROPOSED, v1::INITIATOR_PATIENT, start, kNow, window));
  EXPECT_FALSE(ChargesLateCancellation(v1::BOOKED, v1::INITIATOR_CLINIC, start, kNow, window));
  EXPECT_FALSE(ChargesLateCancellation(v1::BOOKED, v1::INITIATOR_PATIENT, start + absl::Hours(48),
                                       kNow, window));  // in good time
  EXPECT_FALSE(ChargesStop(v1::INITIATOR_CLINIC, true));
  EXPECT_FALSE(ChargesStop(v1::INITIATOR_PATIENT, false));
  EXPECT_TRUE(ChargesStop(v1::INITIATOR_PATIENT, true));
  EXPECT_OK(ValidateInitiator("initiator", v1::INITIATOR_CLINIC));
  EXPECT_THAT(ValidateInitiator("initiator", v1::INITIATOR_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initiator")));
  EXPECT_THAT(ValidateInitiator("initiator", static_cast<v1::Initiator>(7)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initiator")));
}

// Issue 14: a no-show only once the start plus the clinic's grace has passed, told in local time.
TEST(AppointmentRulesTest, NoShowOnlyAfterTheStartPlusGrace) {
  absl::TimeZone london;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  // 10:00 BST on 1 July 2026.
  const absl::Time start = absl::FromCivil(absl::CivilSecond(2026, 7, 1, 10, 0, 0), london);
  const absl::Duration grace = absl::Minutes(15);
  const absl::Status tomorrow = CheckNoShowDue(start, grace, start - absl::Hours(24), london);
  EXPECT_THAT(tomorrow, StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("marked a no-show from 2026-07-01 10:15 BST")));
  EXPECT_EQ(ErrorReason(tomorrow), kNoShowTooEarlyReason);
  EXPECT_EQ(ErrorMetadata(tomorrow, "no_show_from"), "2026-07-01T10:15:00+01:00");
  EXPECT_THAT(CheckNoShowDue(start, grace, start + absl::Minutes(14), london),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckNoShowDue(start, grace, start + grace, london));
  EXPECT_OK(CheckNoShowDue(start, absl::ZeroDuration(), start, london));
}

TEST(AppointmentRulesTest, LateCancellationWindowBoundary) {
  const absl::Time start = kNow + absl::Hours(48);
  EXPECT_FALSE(IsLateCancellation(start, kNow, absl::Hours(48)));  // exactly 48 h before
  EXPECT_TRUE(IsLateCancellation(start, kNow + absl::Seconds(1), absl::Hours(48)));
  EXPECT_FALSE(IsLateCancellation(start, kNow, absl::Hours(24)));
  EXPECT_TRUE(IsLateCancellation(start, start + absl::Hours(1), absl::Hours(24)));
}

TEST(AppointmentRulesTest, ComplianceGatesProceduresNotConsultations) {
  EXPECT_FALSE(NeedsComplianceGate(v1::CONSULTATION));
  EXPECT_FALSE(NeedsComplianceGate(v1::CORRECTION_CONSULT));
  EXPECT_TRUE(NeedsComplianceGate(v1::SAMPLE_PATCH));
  EXPECT_TRUE(NeedsComplianceGate(v1::TREATMENT_SESSION));
  EXPECT_TRUE(NeedsComplianceGate(v1::TOUCH_UP));
}

}  // namespace
}  // namespace smp::scheduling
