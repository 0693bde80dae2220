#include "services/billing/charges.h"

#include "common/db/testing/recording_database.h"
#include "services/billing/billing_test_env.h"
#include "services/billing/payments.h"
#include "services/billing/quotes.h"

namespace smp::billing {
namespace {

using namespace testing_env;  // NOLINT: the shared fixture, its constants and matchers

class ChargesTest : public PricedBillingUnitTest {
 protected:
  Charges charges() { return Charges(db_.get(), &store_); }

  // Scheduling's delivery session.
  static Call Scheduling() {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_SERVICE}, {}, "svc-scheduling"), kNow,
        "RecordChargeEvent");
  }

  static v1::RecordChargeEventRequest Event(const std::string& id, v1::ChargeEventType type) {
    v1::RecordChargeEventRequest ev;
    ev.set_event_id(id);
    ev.set_type(type);
    ev.set_clinic_id(kClinicA);
    ev.set_patient_id(kPatient);
    ev.set_appointment_id("01JD00000000000000000000A1");
    *ev.mutable_occur_time() = ToProtoTimestamp(kNow - absl::Hours(1));
    return ev;
  }
};

TEST_F(ChargesTest, NoShowIsChargedOnceAsAnIssuedInvoice) {
  const v1::RecordChargeEventRequest ev = Event("evt-1", v1::CHARGE_EVENT_NO_SHOW);
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult first, charges().Record(Scheduling(), ev));
  EXPECT_FALSE(first.replayed());
  EXPECT_EQ(first.event_id(), "evt-1");
  EXPECT_EQ(first.invoice().status(), v1::INVOICE_ISSUED);
  EXPECT_EQ(first.invoice().number(), 1);
  EXPECT_EQ(first.invoice().source_event_id(), "evt-1");
  EXPECT_EQ(first.invoice().totals().net().amount_minor(), 15000);
  EXPECT_EQ(first.invoice().totals().tax().amount_minor(), 1238);  // 8.25% of 150.00 = 12.375
  EXPECT_EQ(first.invoice().amount_due().amount_minor(), 16238);
  EXPECT_EQ(FromProtoTimestamp(first.invoice().issue_time()), kNow);
  // A redelivery, even by a clerk entering it by hand, is the same charge.
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult again,
                       charges().Record(Clerk("RecordChargeEvent"), ev));
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.invoice().id(), first.invoice().id());
  ASSERT_OK_AND_ASSIGN(
      v1::ChargeEventResult next,
      charges().Record(Scheduling(), Event("evt-2", v1::CHARGE_EVENT_LATE_CANCELLATION)));
  EXPECT_EQ(next.invoice().number(), 2);
  EXPECT_EQ(next.invoice().totals().net().amount_minor(), 10000);
}

TEST_F(ChargesTest, PlanSessionIsPricedFromTheAcceptedQuoteAndPaidFromDeposits) {
  Quotes quotes(db_.get(), &store_);
  v1::CreateQuoteRequest q;
  q.set_request_id("q-1");
  q.mutable_quote()->set_clinic_id(kClinicA);
  q.mutable_quote()->set_patient_id(kPatient);
  q.mutable_quote()->set_plan_id(kPlan);
  q.mutable_quote()->set_area(v1::TREATMENT_AREA_CROWN);
  q.mutable_quote()->set_sessions(2);
  q.mutable_quote()->set_discount_bp(500);
  *q.mutable_quote()->mutable_valid_until() = ToLocalDate(absl::CivilDay(2026, 1, 31));
  ASSERT_OK_AND_ASSIGN(v1::Quote quote, quotes.Create(Clerk("CreateQuote"), q));
  v1::AcceptQuoteRequest accept;
  accept.set_request_id("a-1");
  accept.set_id(quote.id());
  accept.set_etag(quote.etag());
  ASSERT_OK(quotes.Accept(Clerk("AcceptQuote"), accept).status());
  v1::RecordPaymentRequest dep;
  dep.set_request_id("dep-1");
  dep.mutable_payment()->set_clinic_id(kClinicA);
  dep.mutable_payment()->set_patient_id(kPatient);
  dep.mutable_payment()->set_plan_id(kPlan);
  *dep.mutable_payment()->mutable_amount() = Usd(50000);
  dep.mutable_payment()->mutable_cash();
  ASSERT_OK(Payments(db_.get(), &store_).Record(Desk("RecordPayment"), dep).status());

  v1::RecordChargeEventRequest done = Event("evt-s1", v1::CHARGE_EVENT_SESSION_COMPLETED);
  done.set_completed_kind(v1::CHARGE_KIND_TREATMENT_SESSION);
  done.set_plan_id(kPlan);
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult session, charges().Record(Scheduling(), done));
  EXPECT_EQ(session.invoice().totals().net().amount_minor(), 104500);  // 1100.00 less 5%
  EXPECT_EQ(session.invoice().totals().tax().amount_minor(), 8621);    // 8.25%, 86.2125
  EXPECT_EQ(session.invoice().amount_paid().amount_minor(), 50000);
  EXPECT_EQ(session.invoice().status(), v1::INVOICE_PARTIALLY_PAID);
  v1::GetPatientBalanceRequest balance;
  balance.set_clinic_id(kClinicA);
  balance.set_patient_id(kPatient);
  ASSERT_OK_AND_ASSIGN(v1::PatientBalance after,
                       Payments(db_.get(), &store_).Balance(Desk("GetPatientBalance"), balance));
  EXPECT_EQ(after.unapplied_deposits().amount_minor(), 0);
  EXPECT_EQ(after.amount_due().amount_minor(), 104500 + 8621 - 50000);
}

TEST_F(ChargesTest, AZeroFeeIsRecordedWithoutAnInvoice) {
  v1::PriceList free = PriceListOf(kClinicB, absl::CivilDay(2026, 1, 1));
  *free.mutable_late_cancellation_fee() = Usd(0);
  ASSERT_OK_AND_ASSIGN(absl::Time effective, ValidatePriceList(free));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.InsertPriceList(txn, free, effective, kNow - absl::Hours(48)).status();
  }));
  v1::RecordChargeEventRequest ev = Event("evt-free", v1::CHARGE_EVENT_LATE_CANCELLATION);
  ev.set_clinic_id(kClinicB);
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult result, charges().Record(Scheduling(), ev));
  EXPECT_FALSE(result.has_invoice());
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult again, charges().Record(Scheduling(), ev));
  EXPECT_TRUE(again.replayed());
}

TEST_F(ChargesTest, BadInputNamesTheField) {
  v1::RecordChargeEventRequest ev = Event("", v1::CHARGE_EVENT_NO_SHOW);
  EXPECT_THAT(charges().Record(Scheduling(), ev),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("event_id")));
  ev = Event("evt-1", v1::CHARGE_EVENT_TYPE_UNSPECIFIED);
  EXPECT_THAT(charges().Record(Scheduling(), ev),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  ev = Event("evt-1", v1::CHARGE_EVENT_NO_SHOW);
  ev.clear_occur_time();
  EXPECT_THAT(charges().Record(Scheduling(), ev),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("occur_time")));
  ev = Event("evt-1", v1::CHARGE_EVENT_SESSION_COMPLETED);
  ev.set_completed_kind(v1::CHARGE_KIND_TREATMENT_SESSION);  // no quote, no area
  EXPECT_THAT(charges().Record(Scheduling(), ev),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("area")));
  // Nothing was recorded under evt-1: a good event with that id goes through.
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult ok,
                       charges().Record(Scheduling(), Event("evt-1", v1::CHARGE_EVENT_NO_SHOW)));
  EXPECT_FALSE(ok.replayed());
  EXPECT_EQ(ok.invoice().number(), 1);
}

TEST_F(ChargesTest, OnlyServicesAndClerksOfTheClinicMayCharge) {
  const v1::RecordChargeEventRequest ev = Event("evt-1", v1::CHARGE_EVENT_NO_SHOW);
  EXPECT_THAT(
      charges().Record(Desk("RecordChargeEvent"), ev),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("PERMISSION_SERVICE_CALL")),
            HasReason(reason::kMissingPermission)));
  EXPECT_THAT(
      charges().Record(OtherClinic("RecordChargeEvent"), ev),
      AllOf(StatusIs(absl::StatusCode::kPermissionDenied), HasReason(reason::kOutsideClinicScope)));
}

TEST_F(ChargesTest, AnEventIdNamesOneEvent) {
  v1::RecordChargeEventRequest ev = Event("evt-1", v1::CHARGE_EVENT_NO_SHOW);
  ASSERT_OK(charges().Record(Scheduling(), ev).status());
  ev.set_type(v1::CHARGE_EVENT_LATE_CANCELLATION);
  const absl::StatusOr<v1::ChargeEventResult> reused = charges().Record(Scheduling(), ev);
  EXPECT_THAT(reused, AllOf(StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("already recorded with different")),
                            HasReason(reason::kRequestIdReused)));
  EXPECT_EQ(ErrorMetadata(reused.status(), "event_id"), "evt-1");
  EXPECT_EQ(ViolatedFields(reused.status()), std::vector<std::string>{"event_id"});
}

TEST_F(ChargesTest, NothingIsChargedBeforeThePricesInForce) {
  v1::RecordChargeEventRequest ev = Event("evt-old", v1::CHARGE_EVENT_NO_SHOW);
  *ev.mutable_occur_time() = ToProtoTimestamp(absl::FromUnixSeconds(1735689600));  // 2025-01-01
  EXPECT_THAT(charges().Record(Scheduling(), ev),
              AllOf(StatusIs(absl::StatusCode::kFailedPrecondition),
                    HasReason(billing_reason::kNoPriceListInForce)));
}

// A charge may take the next invoice number of its clinic: it is queued behind the clinic's other
// number takers (WriteQueue "billing.invoice_number:<clinic>").
TEST_F(ChargesTest, ChargeQueuesOnTheClinicsInvoiceCounter) {
  smp::testing::RecordingDatabase recorded(db_.get());
  Charges queued(&recorded, &store_);
  ASSERT_OK_AND_ASSIGN(v1::ChargeEventResult charged,
                       queued.Record(Scheduling(), Event("evt-q", v1::CHARGE_EVENT_NO_SHOW)));
  EXPECT_EQ(charged.invoice().number(), 1);
  EXPECT_EQ(recorded.TakeWriteQueues(),
            std::vector<std::string>{absl::StrCat("billing.invoice_number:", kClinicA)});
}

}  // namespace
}  // namespace smp::billing
