#ifndef SMP_TESTS_INTEGRATION_SUITE_FIXTURE_H_
#define SMP_TESTS_INTEGRATION_SUITE_FIXTURE_H_

// The five services as one product, for multi-process tests (suite_integration_test.cc,
// treatment_course_test.cc): every one a real process on loopback with a real redis-server.

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/clock.h"
#include "common/util/clock_offset.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::testing {

namespace bv1 = ::smp::billing::v1;
namespace cv1 = ::smp::compliance::v1;
namespace iv1 = ::smp::inventory::v1;
namespace sv1 = ::smp::scheduling::v1;

// Polls `done` every 100 ms for up to 20 s.
inline bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return done();
}

// A service process that keeps its data directory and address across restarts.
struct Peer {
  std::string binary;
  std::vector<std::string> flags;
  std::string address;
  std::unique_ptr<ServiceProcess> process;

  absl::Status Start() {
    std::vector<std::string> args = flags;
    if (!address.empty()) args.push_back("--listen=" + address);
    ASSIGN_OR_RETURN(process, ServiceProcess::Start(binary, args));
    address = process->address();
    return absl::OkStatus();
  }
};

// What a test of the whole suite sets up: the clinic (its IANA zone and currency) and whether the
// services run on a clock the test moves (see common/util/clock_offset.h).
struct SuiteOptions {
  std::string clinic_name = "NewYork";
  std::string zone = "America/New_York";
  std::string currency = "USD";
  // The services' clock is absl::Now() plus an offset the test sets with SetNow(); login sessions
  // then last far longer than the jumps (a course over months).
  bool movable_clock = false;
  // With a movable clock: what the services' clock reads as they start and seed (default: the
  // real time).
  absl::Time start_time = absl::InfinitePast();
};

// The five services as real processes on loopback (identity and Redis from IdentityHarness),
// seeded with one clinic: a technician, front desk, inventory clerk and a chain-wide auditor; the
// technician's credentials and the clinic's permit; a price list; needles (SN-1..SN-10) and a
// pigment lot; opening hours 08:00-20:00 and the technician's shifts 09:00-18:00 every day (clinic
// wall clock); a patient with consent and screening on file. day_ is the seeding's anchor, a week
// after the services' today.
class SuiteFixture : public ::testing::Test {
 protected:
  explicit SuiteFixture(SuiteOptions options = {}) : options_(std::move(options)) {}

  void SetUp() override {
    if (options_.movable_clock) {
      clock_file_ = smp::testing::MakeTempDir("clock") + "/offset";
      SetNow(options_.start_time == absl::InfinitePast() ? absl::Now() : options_.start_time);
      setenv(kTestingClockOffsetFileEnv, clock_file_.c_str(), 1);
      setenv("SMP_SESSION_IDLE_TIMEOUT", "87600h", 1);
      setenv("SMP_SESSION_MAX_LIFETIME", "87600h", 1);
    }
    ASSERT_OK(harness_.Start());
    admin_ = harness_.admin_token();
    clinic_ = harness_.MakeClinic(options_.clinic_name, options_.zone);
    tech_ = harness_.MakeStaff("tech", common::v1::ROLE_TECHNICIAN, clinic_);
    harness_.MakeStaff("desk", common::v1::ROLE_FRONT_DESK, clinic_);
    harness_.MakeStaff("stock", common::v1::ROLE_INVENTORY_STAFF, clinic_);
    harness_.MakeStaff("auditor", common::v1::ROLE_AUDITOR);
    tech_token_ = harness_.Login("tech");
    desk_ = harness_.Login("desk");
    stock_ = harness_.Login("stock");
    auditor_ = harness_.Login("auditor");
    ASSERT_TRUE(absl::LoadTimeZone(options_.zone, &zone_));
    day_ = absl::ToCivilDay(Now(), zone_) + 7;

    const std::string dir = smp::testing::MakeTempDir("suite");
    const std::string redis = harness_.RedisFlag();
    compliance_.binary = SMP_COMPLIANCE_BINARY;
    compliance_.flags = {"--data_dir=" + dir + "/compliance", redis,
                         "--checkpoint_key_file=" + dir + "/checkpoint.key"};
    billing_.binary = SMP_BILLING_BINARY;
    billing_.flags = {"--data_dir=" + dir + "/billing", redis};
    ASSERT_OK(compliance_.Start());
    ASSERT_OK(billing_.Start());
    inventory_.binary = SMP_INVENTORY_BINARY;
    inventory_.flags = harness_.MakeServiceAccount("svc.inventory");
    inventory_.flags.insert(inventory_.flags.end(), {"--data_dir=" + dir + "/inventory", redis,
                                                     "--compliance_address=" + compliance_.address,
                                                     "--outbox_interval=100ms"});
    ASSERT_OK(inventory_.Start());
    scheduling_.binary = SMP_SCHEDULING_BINARY;
    scheduling_.flags = harness_.MakeServiceAccount("svc.scheduling");
    scheduling_.flags.insert(
        scheduling_.flags.end(),
        {"--data_dir=" + dir + "/scheduling", redis, "--compliance_address=" + compliance_.address,
         "--inventory_address=" + inventory_.address, "--billing_address=" + billing_.address,
         "--outbox_interval=100ms"});
    ASSERT_OK(scheduling_.Start());
    // Inventory asks scheduling where each issue's appointment is: restarted on its address,
    // now that scheduling's is known.
    inventory_.process.reset();
    inventory_.flags.push_back("--scheduling_address=" + scheduling_.address);
    ASSERT_OK(inventory_.Start());
    Connect();

    SetUpCompliance();
    SetUpBilling();
    SetUpInventory();
    SetUpScheduling();
  }

  void TearDown() override {
    if (options_.movable_clock) {
      unsetenv(kTestingClockOffsetFileEnv);
      unsetenv("SMP_SESSION_IDLE_TIMEOUT");
      unsetenv("SMP_SESSION_MAX_LIFETIME");
    }
  }

  // The services' "now": absl::Now() plus the offset of a movable clock.
  absl::Time Now() const {
    return clock_file_.empty() ? absl::Now() : absl::Now() + ReadClockOffsetFile(clock_file_);
  }

  // Moves every service's clock (a movable clock only) so that it reads `t` now and runs on
  // from there. The file is replaced by a rename, so no process reads half of it.
  void SetNow(absl::Time t) {
    ASSERT_FALSE(clock_file_.empty()) << "SetNow needs SuiteOptions::movable_clock";
    const std::string tmp = clock_file_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << absl::FormatDuration(absl::Trunc(t - absl::Now(), absl::Milliseconds(1))) << "\n";
      ASSERT_TRUE(out.good()) << "cannot write " << tmp;
    }
    ASSERT_EQ(std::rename(tmp.c_str(), clock_file_.c_str()), 0) << clock_file_;
  }

  void Connect() {
    auto channel = [](const Peer& p) {
      return grpc::CreateChannel(p.address, grpc::InsecureChannelCredentials());
    };
    compliance_stub_ = cv1::ComplianceService::NewStub(channel(compliance_));
    billing_stub_ = bv1::BillingService::NewStub(channel(billing_));
    inventory_stub_ = iv1::InventoryService::NewStub(channel(inventory_));
    scheduling_stub_ = sv1::SchedulingService::NewStub(channel(scheduling_));
  }

  void SetUpCompliance() {
    RecordCredentialsAndPermit({.from = day_ - 300,
                                .until = day_ + 300,
                                .training_until = day_ + 60,  // yearly training
                                .permit_until = day_ + 300,
                                .issuer = "NY DOH",
                                .training_summary = "OSHA BBP standard",
                                .permit_issuer = "NYC DOHMH"});
  }

  // The technician's three credentials and the clinic's health permit, valid from `from`.
  struct Renewal {
    absl::CivilDay from, until, training_until, permit_until;
    std::string issuer, training_summary, permit_issuer;
  };
  void RecordCredentialsAndPermit(const Renewal& r) {
    for (auto kind : {cv1::CREDENTIAL_KIND_SMP_CERTIFICATION, cv1::CREDENTIAL_KIND_BODY_ART_LICENSE,
                      cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING}) {
      cv1::RecordCredentialRequest req;
      req.set_request_id(NewId());
      cv1::Credential& c = *req.mutable_credential();
      c.set_practitioner_id(tech_);
      c.set_kind(kind);
      c.set_issuer(r.issuer);
      *c.mutable_valid_from() = ToLocalDate(r.from);
      *c.mutable_valid_until() = ToLocalDate(r.until);
      if (kind == cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
        c.mutable_training()->set_content_summary(r.training_summary);
        c.mutable_training()->set_trainer_name("Dana Lee");
        c.mutable_training()->set_trainer_qualification("RN");
        *c.mutable_training()->mutable_training_date() = ToLocalDate(r.from);
        *c.mutable_valid_until() = ToLocalDate(r.training_until);
      }
      cv1::Credential out;
      grpc::Status s = compliance_stub_->RecordCredential(CallContext(admin_).get(), req, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    cv1::RecordPermitRequest permit;
    permit.set_request_id(NewId());
    permit.mutable_permit()->set_clinic_id(clinic_);
    permit.mutable_permit()->set_kind(cv1::PERMIT_KIND_COUNTY_HEALTH);
    permit.mutable_permit()->set_issuer(r.permit_issuer);
    *permit.mutable_permit()->mutable_valid_from() = ToLocalDate(r.from);
    *permit.mutable_permit()->mutable_valid_until() = ToLocalDate(r.permit_until);
    cv1::Permit p;
    grpc::Status s = compliance_stub_->RecordPermit(CallContext(admin_).get(), permit, &p);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void SetUpBilling() {
    bv1::CreatePriceListRequest prices;
    prices.set_request_id("prices");
    bv1::PriceList* list = prices.mutable_price_list();
    list->set_clinic_id(clinic_);
    *list->mutable_effective_date() = ToLocalDate(absl::ToCivilDay(Now(), zone_) - 1);
    list->set_time_zone(options_.zone);
    list->set_currency_code(options_.currency);
    *list->mutable_consultation_fee() = Money(15000);
    *list->mutable_session_prices()->mutable_hairline() = Money(145000);
    *list->mutable_session_prices()->mutable_crown() = Money(160000);
    *list->mutable_session_prices()->mutable_full_scalp() = Money(220000);
    *list->mutable_session_prices()->mutable_scar_camouflage() = Money(90000);
    *list->mutable_sample_patch_fee() = Money(10000);
    *list->mutable_touch_up_fee() = Money(60000);
    *list->mutable_late_cancellation_fee() = Money(5000);
    *list->mutable_no_show_fee() = Money(7500);
    bv1::PriceList saved;
    grpc::Status s = billing_stub_->CreatePriceList(CallContext(admin_).get(), prices, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void SetUpInventory() {
    iv1::UpdateClinicInventorySettingsRequest settings;
    settings.set_request_id("settings");
    settings.mutable_settings()->set_clinic_id(clinic_);
    settings.mutable_settings()->set_time_zone(options_.zone);
    iv1::ClinicInventorySettings saved;
    grpc::Status s =
        inventory_stub_->UpdateClinicInventorySettings(CallContext(admin_).get(), settings, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();

    iv1::CreateProductRequest needle;
    needle.set_request_id("needle");
    needle.mutable_product()->set_name("3RL 0.30 mm cartridge");
    needle.mutable_product()->set_unit(iv1::UNIT_OF_MEASURE_EACH);
    needle.mutable_product()->set_single_use(true);
    needle.mutable_product()->mutable_needle_cartridge()->set_configuration("3RL");
    needle.mutable_product()->mutable_needle_cartridge()->set_needle_diameter_um(300);
    iv1::Product product;
    s = inventory_stub_->CreateProduct(CallContext(stock_).get(), needle, &product);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const std::string needle_product = product.id();
    iv1::CreateProductRequest pigment;
    pigment.set_request_id("pigment");
    pigment.mutable_product()->set_name("Dark Espresso 15 ml");
    pigment.mutable_product()->set_unit(iv1::UNIT_OF_MEASURE_BOTTLE);
    pigment.mutable_product()->mutable_pigment()->set_brand("Acme");
    pigment.mutable_product()->mutable_pigment()->set_shade("Dark Espresso");
    s = inventory_stub_->CreateProduct(CallContext(stock_).get(), pigment, &product);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const std::string pigment_product = product.id();

    iv1::ReceiveStockRequest needles;
    needles.set_request_id("receive-needles");
    needles.set_clinic_id(clinic_);
    needles.set_product_id(needle_product);
    needles.set_lot_number("N-2026-11");
    *needles.mutable_expiry_date() = ToLocalDate(day_ + 200);
    needles.set_quantity(10);
    for (int i = 1; i <= 10; ++i) needles.add_serials(absl::StrCat("SN-", i));
    needles.set_supplier("Acme Medical");
    iv1::ReceiveStockResponse received;
    s = inventory_stub_->ReceiveStock(CallContext(stock_).get(), needles, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();

    iv1::ReceiveStockRequest bottles = needles;
    bottles.set_request_id("receive-pigment");
    bottles.set_product_id(pigment_product);
    bottles.set_lot_number("P-77");
    bottles.set_quantity(5);
    bottles.clear_serials();
    s = inventory_stub_->ReceiveStock(CallContext(stock_).get(), bottles, &received);
    ASSERT_TRUE(s.ok()) << s.error_message();
    pigment_lot_ = received.lot().id();
  }

  void SetUpScheduling() {
    sv1::UpdateClinicScheduleRequest schedule;
    schedule.set_request_id("schedule");
    schedule.mutable_schedule()->set_clinic_id(clinic_);
    schedule.mutable_schedule()->set_time_zone(options_.zone);
    for (int day = 1; day <= 7; ++day) {
      sv1::WeeklyInterval* w = schedule.mutable_schedule()->add_opening_hours();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(8);
      w->mutable_end_time()->set_hours(20);
    }
    sv1::ClinicSchedule saved;
    grpc::Status s =
        scheduling_stub_->UpdateClinicSchedule(CallContext(admin_).get(), schedule, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const char* name : {"Chair 1", "Chair 2"}) {
      sv1::CreateChairRequest chair;
      chair.set_request_id(NewId());
      chair.mutable_chair()->set_clinic_id(clinic_);
      chair.mutable_chair()->set_name(name);
      sv1::Chair out;
      ASSERT_TRUE(scheduling_stub_->CreateChair(CallContext(admin_).get(), chair, &out).ok());
    }
    sv1::SetWorkingHoursRequest shifts;
    shifts.set_request_id("shifts");
    shifts.mutable_working_hours()->set_practitioner_id(tech_);
    shifts.mutable_working_hours()->set_clinic_id(clinic_);
    for (int day = 1; day <= 7; ++day) {
      sv1::WeeklyInterval* w = shifts.mutable_working_hours()->add_intervals();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(9);
      w->mutable_end_time()->set_hours(18);
    }
    sv1::WorkingHours saved_hours;
    ASSERT_TRUE(
        scheduling_stub_->SetWorkingHours(CallContext(admin_).get(), shifts, &saved_hours).ok());

    sv1::CreatePatientRequest patient;
    patient.set_request_id("patient");
    patient.mutable_patient()->set_given_name("Sam");
    patient.mutable_patient()->set_family_name("Rivera");
    patient.mutable_patient()->set_phone("+12125550142");
    patient.mutable_patient()->set_preferred_clinic_id(clinic_);
    sv1::Patient p;
    s = scheduling_stub_->CreatePatient(CallContext(desk_).get(), patient, &p);
    ASSERT_TRUE(s.ok()) << s.error_message();
    patient_ = p.id();

    // The patient's consent and screening, so that compliance lets the procedures be booked.
    cv1::RecordConsentRequest consent;
    consent.set_request_id("consent");
    consent.mutable_consent()->set_patient_id(patient_);
    consent.mutable_consent()->set_clinic_id(clinic_);
    consent.mutable_consent()->set_kind(cv1::CONSENT_KIND_PROCEDURE);
    consent.mutable_consent()->set_form_version("2026-03");
    *consent.mutable_consent()->mutable_signed_time() = ToProtoTimestamp(Now());
    cv1::Consent c;
    s = compliance_stub_->RecordConsent(CallContext(tech_token_).get(), consent, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    cv1::RecordScreeningRequest screening;
    screening.set_request_id("screening");
    screening.mutable_screening()->set_patient_id(patient_);
    screening.mutable_screening()->set_clinic_id(clinic_);
    *screening.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(Now());
    cv1::Screening sc;
    s = compliance_stub_->RecordScreening(CallContext(tech_token_).get(), screening, &sc);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  absl::Time At(int hour, int day_offset = 0) const {
    return zone_.At(absl::CivilSecond(day_ + day_offset) + hour * 3600).pre;
  }

  // Books `type` for the fixture's patient with its technician at `start` (in a plan when
  // `plan_id` is set) as the front desk; `out` is the appointment when OK.
  grpc::Status Book(sv1::AppointmentType type, absl::Time start, sv1::Appointment* out,
                    const std::string& plan_id = "") {
    sv1::BookAppointmentRequest book;
    book.set_request_id(NewId());
    book.set_clinic_id(clinic_);
    book.set_patient_id(patient_);
    book.set_practitioner_id(tech_);
    book.set_type(type);
    book.set_plan_id(plan_id);
    *book.mutable_start_time() = ToProtoTimestamp(start);
    return scheduling_stub_->BookAppointment(CallContext(desk_).get(), book, out);
  }

  // The front desk checks `a` in.
  grpc::Status CheckIn(sv1::Appointment& a) {
    sv1::CheckInAppointmentRequest checkin;
    checkin.set_request_id(NewId());
    checkin.set_id(a.id());
    checkin.set_etag(a.etag());
    return scheduling_stub_->CheckInAppointment(CallContext(desk_).get(), checkin, &a);
  }

  // A sample patch booked at `hour` and checked in: ready to start.
  sv1::Appointment ArrivedPatch(int hour) {
    sv1::Appointment a;
    grpc::Status s = Book(sv1::SAMPLE_PATCH, At(hour), &a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    s = CheckIn(a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return a;
  }

  grpc::Status Start(sv1::Appointment& a, const std::vector<std::string>& serials,
                     int64_t pigment = 0, const std::string& request_id = NewId()) {
    sv1::StartAppointmentRequest start;
    start.set_request_id(request_id);
    start.set_id(a.id());
    start.set_etag(a.etag());
    for (const std::string& serial : serials) start.add_supplies()->set_serial(serial);
    if (pigment > 0) {
      iv1::LotQuantity* lq = start.add_supplies()->mutable_lot_quantity();
      lq->set_lot_id(pigment_lot_);
      lq->set_quantity(pigment);
    }
    return scheduling_stub_->StartAppointment(CallContext(tech_token_).get(), start, &a);
  }

  grpc::Status Complete(sv1::Appointment& a) {
    sv1::CompleteAppointmentRequest complete;
    complete.set_request_id(NewId());
    complete.set_id(a.id());
    complete.set_etag(a.etag());
    cv1::ProcedureChecklist* checklist = complete.mutable_checklist();
    checklist->set_sealed_needles_opened_before_client(true);
    checklist->set_gloves_worn(true);
    checklist->set_mask_worn(true);
    checklist->set_sterile_field(true);
    checklist->set_sharps_disposed(true);
    complete.set_pigment_blend("Dark Espresso, diluted 1:1");
    complete.set_anaesthetic("lidocaine 5% cream");
    sv1::CompleteAppointmentResponse done;
    grpc::Status s =
        scheduling_stub_->CompleteAppointment(CallContext(tech_token_).get(), complete, &done);
    if (s.ok()) a = done.appointment();
    return s;
  }

  // The auditor's report over the days around today: procedures and findings.
  struct Report {
    std::vector<cv1::ProcedureRecord> procedures;
    std::vector<cv1::Finding> findings;
    std::vector<cv1::Incident> incidents;
  };
  // Over the clinic-local days [first, last].
  Report AuditorReport(absl::CivilDay first, absl::CivilDay last) {
    cv1::GenerateReportRequest req;
    req.add_clinic_ids(clinic_);
    *req.mutable_period()->mutable_start_date() = ToLocalDate(first);
    *req.mutable_period()->mutable_end_date() = ToLocalDate(last);
    auto context = CallContext(auditor_);
    auto reader = compliance_stub_->GenerateReport(context.get(), req);
    Report report;
    cv1::ReportPart part;
    while (reader->Read(&part)) {
      if (part.has_procedure()) report.procedures.push_back(part.procedure());
      if (part.has_finding()) report.findings.push_back(part.finding());
      if (part.has_incident()) report.incidents.push_back(part.incident());
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return report;
  }
  Report AuditorReport() {
    const absl::CivilDay today = absl::ToCivilDay(Now(), zone_);
    return AuditorReport(today - 1, today + 1);
  }

  std::vector<bv1::Invoice> Invoices() {
    bv1::ListInvoicesRequest req;
    req.set_clinic_id(clinic_);
    req.set_patient_id(patient_);
    bv1::ListInvoicesResponse out;
    EXPECT_TRUE(billing_stub_->ListInvoices(CallContext(admin_).get(), req, &out).ok());
    return {out.invoices().begin(), out.invoices().end()};
  }

  // Serials inventory's ledger issued to procedures, with the appointment of each.
  std::multimap<std::string, std::string> IssuedSerials() {
    std::multimap<std::string, std::string> issued;
    iv1::ListLedgerEntriesRequest req;
    req.set_clinic_id(clinic_);
    req.set_page_size(500);
    iv1::ListLedgerEntriesResponse out;
    EXPECT_TRUE(inventory_stub_->ListLedgerEntries(CallContext(auditor_).get(), req, &out).ok());
    for (const iv1::LedgerEntry& e : out.entries()) {
      if (e.kind() != iv1::LEDGER_ENTRY_KIND_ISSUE) continue;
      for (const std::string& serial : e.serials()) issued.emplace(serial, e.appointment_id());
    }
    return issued;
  }

  common::v1::Money Money(int64_t minor) const {
    common::v1::Money m;
    m.set_amount_minor(minor);
    m.set_currency_code(options_.currency);
    return m;
  }

  SuiteOptions options_;
  std::string clock_file_;
  IdentityHarness harness_;
  Peer compliance_, billing_, inventory_, scheduling_;
  std::unique_ptr<cv1::ComplianceService::Stub> compliance_stub_;
  std::unique_ptr<bv1::BillingService::Stub> billing_stub_;
  std::unique_ptr<iv1::InventoryService::Stub> inventory_stub_;
  std::unique_ptr<sv1::SchedulingService::Stub> scheduling_stub_;
  std::string admin_, tech_, tech_token_, desk_, stock_, auditor_, clinic_, patient_;
  std::string pigment_lot_;
  absl::TimeZone zone_;
  absl::CivilDay day_;
};

}  // namespace smp::testing

#endif  // SMP_TESTS_INTEGRATION_SUITE_FIXTURE_H_
