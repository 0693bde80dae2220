#include "services/scheduling/billing_events.h"

#include "gtest/gtest.h"

namespace smp::scheduling {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

v1::Appointment Appointment(v1::AppointmentStatus status, v1::AppointmentType type) {
  v1::Appointment a;
  a.set_id("01JD00000000000000000000AP");
  a.set_clinic_id("01JD00000000000000000000C1");
  a.set_patient_id("01JD00000000000000000000P1");
  a.set_plan_id("01JD00000000000000000000PL");
  a.set_type(type);
  a.set_status(status);
  return a;
}

TEST(BillingEventsTest, CompletedVisitsAreCharged) {
  v1::TreatmentPlan plan;
  plan.set_area(v1::CROWN);
  auto event = ChargeEventFor(Appointment(v1::FULFILLED, v1::TREATMENT_SESSION), &plan, kNow);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type(), billing::v1::CHARGE_EVENT_SESSION_COMPLETED);
  EXPECT_EQ(event->completed_kind(), billing::v1::CHARGE_KIND_TREATMENT_SESSION);
  EXPECT_EQ(event->area(), billing::v1::TREATMENT_AREA_CROWN);
  EXPECT_EQ(event->appointment_id(), "01JD00000000000000000000AP");
  EXPECT_EQ(event->plan_id(), "01JD00000000000000000000PL");
  EXPECT_EQ(event->occur_time().seconds(), 1764000000);
  EXPECT_TRUE(event->event_id().empty());  // the outbox names the event

  auto consult = ChargeEventFor(Appointment(v1::FULFILLED, v1::CORRECTION_CONSULT), nullptr, kNow);
  ASSERT_TRUE(consult.has_value());
  EXPECT_EQ(consult->completed_kind(), billing::v1::CHARGE_KIND_CONSULTATION);
}

TEST(BillingEventsTest, FeesOnlyForNoShowsAndLateCancellations) {
  auto noshow = ChargeEventFor(Appointment(v1::NOSHOW, v1::CONSULTATION), nullptr, kNow);
  ASSERT_TRUE(noshow.has_value());
  EXPECT_EQ(noshow->type(), billing::v1::CHARGE_EVENT_NO_SHOW);

  v1::Appointment cancelled = Appointment(v1::CANCELLED, v1::TREATMENT_SESSION);
  EXPECT_FALSE(ChargeEventFor(cancelled, nullptr, kNow).has_value());  // in good time
  cancelled.mutable_cancellation()->set_late(true);
  auto late = ChargeEventFor(cancelled, nullptr, kNow);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->type(), billing::v1::CHARGE_EVENT_LATE_CANCELLATION);

  for (auto status : {v1::PROPOSED, v1::BOOKED, v1::ARRIVED, v1::IN_PROGRESS}) {
    EXPECT_FALSE(ChargeEventFor(Appointment(status, v1::CONSULTATION), nullptr, kNow).has_value());
  }
}

// Issue 14: a stop is charged only when the operation flagged it (the patient stopped it under
// the clinic's rule); otherwise billing hears nothing.
TEST(BillingEventsTest, AStopIsChargedOnlyWhenFlagged) {
  v1::Appointment stopped = Appointment(v1::APPOINTMENT_STATUS_STOPPED, v1::TREATMENT_SESSION);
  stopped.mutable_stop()->set_initiator(v1::INITIATOR_CLINIC);
  EXPECT_FALSE(ChargeEventFor(stopped, nullptr, kNow).has_value());
  stopped.mutable_stop()->set_initiator(v1::INITIATOR_PATIENT);
  EXPECT_FALSE(ChargeEventFor(stopped, nullptr, kNow).has_value());
  stopped.mutable_stop()->set_charged(true);
  auto fee = ChargeEventFor(stopped, nullptr, kNow);
  ASSERT_TRUE(fee.has_value());
  EXPECT_EQ(fee->type(), billing::v1::CHARGE_EVENT_LATE_CANCELLATION);
}

}  // namespace
}  // namespace smp::scheduling
