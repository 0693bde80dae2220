// Issue 14, Done-when: one patient's whole treatment course, end to end, through the five real
// services and Redis, at a London clinic whose offset changes (GMT <-> BST) in the middle of the
// course: consultation, sample patch, three sessions (session 2 missed and rebooked), and the
// touch-up two years on. The services run on a clock the test moves (SuiteOptions::movable_clock),
// so each visit happens on its own clinic-local day and time. At the end compliance's report,
// inventory's ledger and billing's invoices must agree with each other and with the price list.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/integration/suite_fixture.h"

namespace smp {
namespace {

namespace bv1 = ::smp::billing::v1;
namespace cv1 = ::smp::compliance::v1;
namespace iv1 = ::smp::inventory::v1;
namespace sv1 = ::smp::scheduling::v1;
using ::smp::testing::CallContext;
using ::smp::testing::Eventually;
using ::smp::testing::GrpcIs;
using ::smp::testing::SuiteFixture;
using ::smp::testing::SuiteOptions;
using ::testing::HasSubstr;

// The price list the fixture seeds (minor units).
constexpr int64_t kConsultation = 15000;
constexpr int64_t kSamplePatch = 10000;
constexpr int64_t kHairlineSession = 145000;
constexpr int64_t kNoShow = 7500;
constexpr int64_t kTouchUp = 60000;
constexpr int64_t kDeposit = 100000;

absl::TimeZone London() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/London", &zone));
  return zone;
}

// The first day on London's next UTC offset at least 40 days from the real today, so that the
// whole course (from 20 days before it) lies in the real clock's future. Computed once.
absl::CivilDay OffsetChangeDay() {
  static const absl::CivilDay day = [] {
    absl::TimeZone::CivilTransition t;
    EXPECT_TRUE(London().NextTransition(absl::Now() + absl::Hours(24 * 40), &t));
    return absl::CivilDay(t.to);
  }();
  return day;
}

// The course's clinic, on a clock that starts 20 days before the change at 09:00 London time.
SuiteOptions LondonOnAMovableClock() {
  SuiteOptions o;
  o.clinic_name = "LondonSoho";
  o.zone = "Europe/London";
  o.currency = "GBP";
  o.movable_clock = true;
  o.start_time = London().At(absl::CivilHour(OffsetChangeDay() - 20) + 9).pre;
  return o;
}

class TreatmentCourseTest : public SuiteFixture {
 protected:
  TreatmentCourseTest() : SuiteFixture(LondonOnAMovableClock()) {}

  // `day` at hh:mm on the clinic's wall clock.
  absl::Time Local(absl::CivilDay day, int hour, int minute = 0) const {
    return zone_.At(absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute)).pre;
  }
  std::string LocalText(const google::protobuf::Timestamp& t) const {
    return absl::FormatTime("%Y-%m-%d %H:%M %Z", FromProtoTimestamp(t), zone_);
  }

  // The front desk checks in, the technician starts with `serials` (and a pigment dose) and
  // completes with the full checklist; each step must succeed.
  void Perform(sv1::Appointment& a, const std::vector<std::string>& serials, int64_t pigment) {
    grpc::Status s = CheckIn(a);
    ASSERT_TRUE(s.ok()) << s.error_message();
    s = Start(a, serials, pigment);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(a.status(), sv1::IN_PROGRESS);
    s = Complete(a);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(a.status(), sv1::FULFILLED);
  }

  // Waits until billing holds `n` invoices of the patient. Charges travel through scheduling's
  // outbox in milliseconds while the test moves the clock by days; billing dates an invoice when
  // the charge arrives (issue_time), so each visit's charge must arrive before the next jump, as
  // it would in real time.
  void AwaitInvoices(size_t n) {
    ASSERT_TRUE(Eventually([&] { return Invoices().size() >= n; })) << n << " invoices";
  }

  sv1::TreatmentPlan GetPlan(const std::string& id) {
    sv1::GetTreatmentPlanRequest req;
    req.set_id(id);
    sv1::TreatmentPlan plan;
    grpc::Status s = scheduling_stub_->GetTreatmentPlan(CallContext(desk_).get(), req, &plan);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return plan;
  }

  // Renewals before the touch-up, two years on: the technician's credentials (bloodborne-pathogen
  // training is yearly), the clinic's permit and a fresh screening, all from `today`.
  void RenewRecords(absl::CivilDay today) {
    ASSERT_NO_FATAL_FAILURE(
        RecordCredentialsAndPermit({.from = today,
                                    .until = today + 300,
                                    .training_until = today + 300,
                                    .permit_until = today + 365,
                                    .issuer = "UK Academy",
                                    .training_summary = "BBP refresher",
                                    .permit_issuer = "Westminster City Council"}));
    cv1::RecordScreeningRequest screening;
    screening.set_request_id(NewId());
    screening.mutable_screening()->set_patient_id(patient_);
    screening.mutable_screening()->set_clinic_id(clinic_);
    *screening.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(Now());
    cv1::Screening sc;
    grpc::Status s =
        compliance_stub_->RecordScreening(CallContext(tech_token_).get(), screening, &sc);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // A delivery of `serials` needle cartridges and a pigment bottle lot expiring on `expiry`; the
  // fixture's Start() draws pigment from the new lot from now on.
  void ReceiveDelivery(const std::string& suffix, const std::vector<std::string>& serials,
                       absl::CivilDay expiry) {
    iv1::ListLedgerEntriesRequest ledger;
    ledger.set_clinic_id(clinic_);
    ledger.set_page_size(500);
    iv1::ListLedgerEntriesResponse lines;
    ASSERT_TRUE(
        inventory_stub_->ListLedgerEntries(CallContext(auditor_).get(), ledger, &lines).ok());
    std::string needle_product, pigment_product;
    for (const iv1::LedgerEntry& e : lines.entries()) {
      if (e.kind() != iv1::LEDGER_ENTRY_KIND_RECEIVE) continue;
      (e.serials_size() > 0 ? needle_product : pigment_product) = e.product_id();
    }
    ASSERT_FALSE(needle_product.empty());
    ASSERT_FALSE(pigment_product.empty());
    iv1::ReceiveStockRequest needles;
    needles.set_request_id(NewId());
    needles.set_clinic_id(clinic_);
    needles.set_product_id(needle_product);
    needles.set_lot_number("N-" + suffix);
    *needles.mutable_expiry_date() = ToLocalDate(expiry);
    needles.set_quantity(static_cast<int64_t>(serials.size()));
    for (const std::string& serial : serials) needles.add_serials(serial);
    needles.set_supplier("Acme Medical");
    iv1::ReceiveStockResponse received;
    grpc::Status s = inventory_stub_->ReceiveStock(CallContext(stock_).get(), needles, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    iv1::ReceiveStockRequest bottles = needles;
    bottles.set_request_id(NewId());
    bottles.set_product_id(pigment_product);
    bottles.set_lot_number("P-" + suffix);
    bottles.set_quantity(2);
    bottles.clear_serials();
    s = inventory_stub_->ReceiveStock(CallContext(stock_).get(), bottles, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    pigment_lot_ = received.lot().id();
  }
};

TEST_F(TreatmentCourseTest, AFullCourseAcrossAnOffsetChangeAgreesInEveryService) {
  // D is the first day on the new offset. The course runs from D-16 to D+25 at 10:00 local.
  const absl::CivilDay d = OffsetChangeDay();
  const absl::Duration before = absl::Seconds(zone_.At(Local(d - 1, 12)).offset);
  const absl::Duration after = absl::Seconds(zone_.At(Local(d + 1, 12)).offset);
  ASSERT_NE(before, after);
  ASSERT_EQ(absl::ToCivilDay(Now(), zone_), d - 20);  // the fixture seeded on this day
  // Compliance judges London's days in London's zone.
  cv1::SetRetentionPolicyRequest policy;
  policy.set_request_id(NewId());
  policy.mutable_policy()->set_clinic_id(clinic_);
  policy.mutable_policy()->set_jurisdiction("GB-ENG");
  policy.mutable_policy()->set_client_records_years(5);
  policy.mutable_policy()->set_training_records_years(3);
  policy.mutable_policy()->set_documentation_years(6);
  policy.mutable_policy()->set_time_zone("Europe/London");
  cv1::RetentionPolicy saved_policy;
  grpc::Status s =
      compliance_stub_->SetRetentionPolicy(CallContext(admin_).get(), policy, &saved_policy);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // --- Consultation (D-16), then the plan: three hairline sessions, and a deposit.
  sv1::Appointment consultation;
  s = Book(sv1::CONSULTATION, Local(d - 16, 10), &consultation);
  ASSERT_TRUE(s.ok()) << s.error_message();
  SetNow(Local(d - 16, 10, 5));
  ASSERT_NO_FATAL_FAILURE(Perform(consultation, {}, 0));
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(1));
  sv1::CreateTreatmentPlanRequest create_plan;
  create_plan.set_request_id(NewId());
  sv1::TreatmentPlan& draft = *create_plan.mutable_plan();
  draft.set_patient_id(patient_);
  draft.set_clinic_id(clinic_);
  draft.set_consultation_appointment_id(consultation.id());
  draft.set_area(sv1::HAIRLINE);
  draft.set_planned_sessions(3);
  sv1::TreatmentPlan plan;
  s = scheduling_stub_->CreateTreatmentPlan(CallContext(desk_).get(), create_plan, &plan);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bv1::RecordPaymentRequest deposit;
  deposit.set_request_id(NewId());
  deposit.mutable_payment()->set_clinic_id(clinic_);
  deposit.mutable_payment()->set_patient_id(patient_);
  deposit.mutable_payment()->set_plan_id(plan.id());
  *deposit.mutable_payment()->mutable_amount() = Money(kDeposit);
  deposit.mutable_payment()->mutable_card()->set_last4("4242");
  deposit.mutable_payment()->mutable_card()->set_authorization_reference("AUTH-DEP");
  bv1::Payment deposit_paid;
  s = billing_stub_->RecordPayment(CallContext(admin_).get(), deposit, &deposit_paid);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The patch the next day, session 1 a week after it, and sessions 2 and 3 booked ahead.
  sv1::Appointment patch, s1, s2_missed, s3;
  s = Book(sv1::SAMPLE_PATCH, Local(d - 15, 10), &patch);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = Book(sv1::TREATMENT_SESSION, Local(d - 5, 10), &s1, plan.id());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s1.session_number(), 1);
  // Spacing counts clinic-local days at the same wall-clock time across the change: nine days
  // after session 1 is refused, with the window in London's time; ten days, which is 10 x 24 h
  // plus or minus the hour the clocks moved, is accepted.
  sv1::Appointment refused;
  s = Book(sv1::TREATMENT_SESSION, Local(d + 4, 10), &refused, plan.id());
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::FormatTime("%Y-%m-%d 10:00 %Z", Local(d + 5, 10), zone_)));
  s = Book(sv1::TREATMENT_SESSION, Local(d + 5, 10), &s2_missed, plan.id());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s2_missed.session_number(), 2);
  EXPECT_EQ(FromProtoTimestamp(s2_missed.start_time()) - FromProtoTimestamp(s1.start_time()),
            absl::Hours(240) - (after - before));
  s = Book(sv1::TREATMENT_SESSION, Local(d + 25, 10), &s3, plan.id());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s3.session_number(), 3);
  // 10:00 on London's wall clock on both sides of the change, an hour apart in UTC.
  EXPECT_EQ(LocalText(s1.start_time()).substr(11, 5), "10:00");
  EXPECT_EQ(LocalText(s2_missed.start_time()).substr(11, 5), "10:00");
  auto utc_hour = [](const sv1::Appointment& a) {
    return absl::ToCivilHour(FromProtoTimestamp(a.start_time()), absl::UTCTimeZone()).hour();
  };
  EXPECT_EQ(utc_hour(s1), 10 - before / absl::Hours(1));
  EXPECT_EQ(utc_hour(s2_missed), 10 - after / absl::Hours(1));
  // Opening hours are the clinic's wall clock: 07:30 local is before opening on either side.
  s = Book(sv1::CONSULTATION, Local(d + 6, 7, 30), &refused);
  EXPECT_FALSE(s.ok());

  // --- Sample patch (D-15): a sealed needle and pigment from inventory.
  SetNow(Local(d - 15, 10, 5));
  ASSERT_NO_FATAL_FAILURE(Perform(patch, {"SN-1"}, 1));
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(2));

  // --- Session 1 (D-5, still on the old offset).
  SetNow(Local(d - 5, 10, 5));
  ASSERT_NO_FATAL_FAILURE(Perform(s1, {"SN-2", "SN-3"}, 1));
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(3));

  // --- Session 2 (D+5, the new offset): the patient does not come. Not a no-show before the
  // start plus the clinic's 15-minute grace (the refusal names 10:15 local); then it is, and
  // billed.
  SetNow(Local(d + 5, 10, 10));
  sv1::MarkNoShowRequest no_show;
  no_show.set_request_id(NewId());
  no_show.set_id(s2_missed.id());
  no_show.set_etag(s2_missed.etag());
  EXPECT_THAT(scheduling_stub_->MarkNoShow(CallContext(desk_).get(), no_show, &s2_missed),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION,
                     absl::FormatTime("%Y-%m-%d %H:%M %Z", Local(d + 5, 10, 15), zone_)));
  SetNow(Local(d + 5, 10, 20));
  no_show.set_request_id(NewId());
  s = scheduling_stub_->MarkNoShow(CallContext(desk_).get(), no_show, &s2_missed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s2_missed.status(), sv1::NOSHOW);
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(4));

  // The free slots for the plan's missing session end where the window does: ten London days
  // before session 3, at its wall-clock time (10:00 BST or GMT, not 240 h earlier).
  sv1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_);
  find.set_type(sv1::TREATMENT_SESSION);
  find.set_plan_id(plan.id());
  find.set_practitioner_id(tech_);
  *find.mutable_period()->mutable_start_date() = ToLocalDate(d + 14);
  *find.mutable_period()->mutable_end_date() = ToLocalDate(d + 20);
  find.set_max_slots(500);
  sv1::FindAvailabilityResponse slots;
  s = scheduling_stub_->FindAvailability(CallContext(desk_).get(), find, &slots);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(slots.slots_size(), 0);
  absl::Time latest = absl::InfinitePast();
  for (const sv1::Slot& slot : slots.slots()) {
    latest = std::max(latest, FromProtoTimestamp(slot.start_time()));
  }
  EXPECT_EQ(latest, Local(d + 15, 10)) << absl::FormatTime(latest, zone_);

  // Rebooked: the lowest free number (2, not 4), spaced against the nearest live sessions by
  // start time: D+16 is too close to session 3 (D+25), D+12 fits between sessions 1 and 3.
  sv1::Appointment s2;
  s = Book(sv1::TREATMENT_SESSION, Local(d + 16, 10), &refused, plan.id());
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::FAILED_PRECONDITION,
                        "and " + absl::FormatTime("%Y-%m-%d 10:00 %Z", Local(d + 15, 10), zone_)));
  s = Book(sv1::TREATMENT_SESSION, Local(d + 12, 10), &s2, plan.id());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s2.session_number(), 2);

  // --- Session 2 rebooked (D+12): a needle used in session 1 is presented again and refused
  // (single use; compliance hears of the attempt); then sealed ones.
  SetNow(Local(d + 12, 10, 5));
  s = CheckIn(s2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(Start(s2, {"SN-2"}), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "single use"));
  sv1::GetAppointmentRequest get;
  get.set_id(s2.id());
  s = scheduling_stub_->GetAppointment(CallContext(desk_).get(), get, &s2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(s2.status(), sv1::ARRIVED);
  EXPECT_EQ(s2.supplies_size(), 0);
  s = Start(s2, {"SN-4", "SN-5"}, 1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = Complete(s2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(5));

  // --- Session 3 (D+25): the plan is completed and its touch-up window set.
  SetNow(Local(d + 25, 10, 5));
  ASSERT_NO_FATAL_FAILURE(Perform(s3, {"SN-6"}, 1));
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(6));
  plan = GetPlan(plan.id());
  EXPECT_EQ(plan.status(), sv1::PLAN_COMPLETED);
  ASSERT_TRUE(plan.has_touch_up_due());
  const absl::CivilDay touch_up_day = FromLocalDate(plan.touch_up_due().start_date()) + 1;
  EXPECT_GE(touch_up_day, d + 25 + 2 * 365);

  // --- Compliance's report over the course: exactly the four procedures, each on its
  // clinic-local day at 10:05 London time, the reuse attempt as its one finding and incident.
  const std::map<std::string, absl::CivilDay> course_days = {
      {patch.id(), d - 15}, {s1.id(), d - 5}, {s2.id(), d + 12}, {s3.id(), d + 25}};
  SuiteFixture::Report report;
  ASSERT_TRUE(Eventually([&] {
    report = AuditorReport(d - 20, d + 30);
    return report.procedures.size() >= 4 && !report.incidents.empty();
  }));
  ASSERT_EQ(report.procedures.size(), 4u);
  std::multimap<std::string, std::string> recorded;
  for (const cv1::ProcedureRecord& p : report.procedures) {
    ASSERT_TRUE(course_days.count(p.appointment_id())) << p.appointment_id();
    const absl::CivilDay day = course_days.at(p.appointment_id());
    EXPECT_EQ(FromLocalDate(p.performed_date()), day) << p.appointment_id();
    EXPECT_EQ(LocalText(p.performed_time()).substr(0, 16),
              absl::StrCat(absl::FormatCivilTime(day), " 10:05"));
    EXPECT_EQ(p.practitioner_id(), tech_);
    for (const cv1::NeedleUse& n : p.needles()) recorded.emplace(n.serial(), p.appointment_id());
  }
  ASSERT_EQ(report.findings.size(), 1u) << report.findings[0].detail();
  EXPECT_EQ(report.findings[0].kind(), cv1::FINDING_KIND_NEEDLE_REUSE);
  EXPECT_EQ(report.findings[0].appointment_id(), s2.id());
  ASSERT_EQ(report.incidents.size(), 1u);
  EXPECT_EQ(report.incidents[0].appointment_id(), s2.id());

  // --- Inventory's ledger: each issued unit once, against the appointment compliance has it in.
  const std::multimap<std::string, std::string> expected = {
      {"SN-1", patch.id()}, {"SN-2", s1.id()}, {"SN-3", s1.id()},
      {"SN-4", s2.id()},    {"SN-5", s2.id()}, {"SN-6", s3.id()}};
  EXPECT_EQ(recorded, expected);
  EXPECT_EQ(IssuedSerials(), expected);
  // The refused reuse issued nothing, so nothing had to go back.
  iv1::ListLedgerEntriesRequest ledger;
  ledger.set_clinic_id(clinic_);
  ledger.set_page_size(500);
  iv1::ListLedgerEntriesResponse lines;
  ASSERT_TRUE(inventory_stub_->ListLedgerEntries(CallContext(auditor_).get(), ledger, &lines).ok());
  for (const iv1::LedgerEntry& e : lines.entries()) {
    EXPECT_NE(e.kind(), iv1::LEDGER_ENTRY_KIND_RETURN) << e.reason();
  }

  // --- Billing's clinic-local days on both sides of the change: the revenue of the no-show's
  // day (BST or GMT) is that fee alone; session 1's day, its session; the course, every charge
  // but the touch-up, and the deposit as what was collected.
  auto revenue = [&](absl::CivilDay first, absl::CivilDay last) {
    bv1::GetRevenueReportRequest req;
    req.set_clinic_id(clinic_);
    *req.mutable_period()->mutable_start_date() = ToLocalDate(first);
    *req.mutable_period()->mutable_end_date() = ToLocalDate(last);
    bv1::RevenueReport out;
    grpc::Status st = billing_stub_->GetRevenueReport(CallContext(admin_).get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  };
  bv1::RevenueReport day = revenue(d + 5, d + 5);
  EXPECT_EQ(day.invoices_issued(), 1);
  EXPECT_EQ(day.invoiced_net().amount_minor(), kNoShow);
  day = revenue(d - 5, d - 5);
  EXPECT_EQ(day.invoices_issued(), 1);
  EXPECT_EQ(day.invoiced_net().amount_minor(), kHairlineSession);
  const bv1::RevenueReport course = revenue(d - 20, d + 30);
  EXPECT_EQ(course.invoiced_net().amount_minor(),
            kConsultation + kSamplePatch + 3 * kHairlineSession + kNoShow);
  EXPECT_EQ(course.collected().amount_minor(), kDeposit);

  // --- Two years on: the touch-up, after the renewals a clinic makes in between.
  SetNow(Local(touch_up_day - 3, 9));
  ASSERT_NO_FATAL_FAILURE(RenewRecords(touch_up_day - 3));
  ASSERT_NO_FATAL_FAILURE(ReceiveDelivery("TU", {"TU-1", "TU-2"}, touch_up_day + 365));
  sv1::Appointment touch_up;
  s = Book(sv1::TOUCH_UP, Local(touch_up_day, 10), &touch_up);
  ASSERT_TRUE(s.ok()) << s.error_message();
  SetNow(Local(touch_up_day, 10, 5));
  ASSERT_NO_FATAL_FAILURE(Perform(touch_up, {"TU-1"}, 1));
  ASSERT_NO_FATAL_FAILURE(AwaitInvoices(7));
  ASSERT_TRUE(Eventually([&] {
    report = AuditorReport(touch_up_day - 3, touch_up_day + 3);
    return !report.procedures.empty();
  }));
  ASSERT_EQ(report.procedures.size(), 1u);
  EXPECT_EQ(report.procedures[0].appointment_id(), touch_up.id());
  EXPECT_EQ(report.procedures[0].procedure_type(), cv1::PROCEDURE_TYPE_TOUCH_UP);
  EXPECT_EQ(FromLocalDate(report.procedures[0].performed_date()), touch_up_day);
  EXPECT_TRUE(report.findings.empty()) << report.findings[0].detail();
  std::multimap<std::string, std::string> all_issued = expected;
  all_issued.emplace("TU-1", touch_up.id());
  EXPECT_EQ(IssuedSerials(), all_issued);

  // --- Billing: one issued invoice per charge at the price list's amounts; the deposit paid
  // session 1 as far as it went; the rest is settled by card and nothing is left owing.
  std::vector<bv1::Invoice> invoices;
  ASSERT_TRUE(Eventually([&] {
    invoices = Invoices();
    return invoices.size() >= 7;
  }));
  ASSERT_EQ(invoices.size(), 7u);
  std::map<bv1::ChargeKind, std::vector<int64_t>> totals;
  int64_t paid_from_deposit = 0;
  for (const bv1::Invoice& inv : invoices) {
    EXPECT_TRUE(inv.status() == bv1::INVOICE_ISSUED || inv.status() == bv1::INVOICE_PARTIALLY_PAID)
        << inv.id() << " " << bv1::InvoiceStatus_Name(inv.status());
    EXPECT_EQ(inv.currency_code(), "GBP");
    ASSERT_GE(inv.lines_size(), 1);
    totals[inv.lines(0).kind()].push_back(inv.totals().total().amount_minor());
    paid_from_deposit += inv.amount_paid().amount_minor();
    EXPECT_EQ(inv.plan_id().empty(), inv.lines(0).kind() != bv1::CHARGE_KIND_TREATMENT_SESSION &&
                                         inv.lines(0).kind() != bv1::CHARGE_KIND_NO_SHOW);
  }
  const std::map<bv1::ChargeKind, std::vector<int64_t>> price_list = {
      {bv1::CHARGE_KIND_CONSULTATION, {kConsultation}},
      {bv1::CHARGE_KIND_SAMPLE_PATCH, {kSamplePatch}},
      {bv1::CHARGE_KIND_TREATMENT_SESSION, {kHairlineSession, kHairlineSession, kHairlineSession}},
      {bv1::CHARGE_KIND_NO_SHOW, {kNoShow}},
      {bv1::CHARGE_KIND_TOUCH_UP, {kTouchUp}}};
  EXPECT_EQ(totals, price_list);
  EXPECT_EQ(paid_from_deposit, kDeposit);
  for (const bv1::Invoice& inv : invoices) {
    if (inv.amount_due().amount_minor() == 0) continue;
    bv1::RecordPaymentRequest pay;
    pay.set_request_id(NewId());
    pay.mutable_payment()->set_clinic_id(clinic_);
    pay.mutable_payment()->set_patient_id(patient_);
    pay.mutable_payment()->set_invoice_id(inv.id());
    *pay.mutable_payment()->mutable_amount() = inv.amount_due();
    pay.mutable_payment()->mutable_card()->set_last4("4242");
    pay.mutable_payment()->mutable_card()->set_authorization_reference("AUTH-" + inv.id());
    bv1::Payment paid;
    s = billing_stub_->RecordPayment(CallContext(admin_).get(), pay, &paid);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  bv1::GetPatientBalanceRequest balance_req;
  balance_req.set_clinic_id(clinic_);
  balance_req.set_patient_id(patient_);
  bv1::PatientBalance balance;
  s = billing_stub_->GetPatientBalance(CallContext(admin_).get(), balance_req, &balance);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(balance.amount_due().amount_minor(), 0);
  EXPECT_EQ(balance.unapplied_deposits().amount_minor(), 0);
  EXPECT_EQ(balance.open_invoices(), 0);
  int64_t billed = 0, collected = 0;
  for (const bv1::Invoice& inv : Invoices()) {
    EXPECT_EQ(inv.status(), bv1::INVOICE_PAID) << inv.id();
    billed += inv.totals().total().amount_minor();
    collected += inv.amount_paid().amount_minor();
  }
  EXPECT_EQ(billed, kConsultation + kSamplePatch + 3 * kHairlineSession + kNoShow + kTouchUp);
  EXPECT_EQ(collected, billed);
}

}  // namespace
}  // namespace smp
