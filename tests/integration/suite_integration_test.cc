// The five services as one product, every one a real process on loopback with a real redis-server:
// the procedure workflow from booking to compliance's record and billing's invoice, peers that are
// down when events are due, and scheduling killed while it acknowledges bookings.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp {
namespace {

namespace bv1 = ::smp::billing::v1;
namespace cv1 = ::smp::compliance::v1;
namespace iv1 = ::smp::inventory::v1;
namespace sv1 = ::smp::scheduling::v1;
using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;
using ::smp::testing::ServiceProcess;

constexpr char kZone[] = "America/New_York";

// Polls `done` every 100 ms for up to 20 s.
bool Eventually(const std::function<bool()>& done) {
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

class SuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    admin_ = harness_.admin_token();
    clinic_ = harness_.MakeClinic("NewYork", kZone);
    tech_ = harness_.MakeStaff("tech", common::v1::ROLE_TECHNICIAN, clinic_);
    harness_.MakeStaff("desk", common::v1::ROLE_FRONT_DESK, clinic_);
    harness_.MakeStaff("stock", common::v1::ROLE_INVENTORY_STAFF, clinic_);
    harness_.MakeStaff("auditor", common::v1::ROLE_AUDITOR);
    tech_token_ = harness_.Login("tech");
    desk_ = harness_.Login("desk");
    stock_ = harness_.Login("stock");
    auditor_ = harness_.Login("auditor");
    ASSERT_TRUE(absl::LoadTimeZone(kZone, &zone_));
    day_ = absl::ToCivilDay(absl::Now(), zone_) + 7;

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
    for (auto kind : {cv1::CREDENTIAL_KIND_SMP_CERTIFICATION, cv1::CREDENTIAL_KIND_BODY_ART_LICENSE,
                      cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING}) {
      cv1::RecordCredentialRequest req;
      req.set_request_id(NewId());
      cv1::Credential& c = *req.mutable_credential();
      c.set_practitioner_id(tech_);
      c.set_kind(kind);
      c.set_issuer("NY DOH");
      *c.mutable_valid_from() = ToLocalDate(day_ - 300);
      *c.mutable_valid_until() = ToLocalDate(day_ + 300);
      if (kind == cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
        c.mutable_training()->set_content_summary("OSHA BBP standard");
        c.mutable_training()->set_trainer_name("Dana Lee");
        c.mutable_training()->set_trainer_qualification("RN");
        *c.mutable_training()->mutable_training_date() = ToLocalDate(day_ - 300);
        *c.mutable_valid_until() = ToLocalDate(day_ + 60);  // yearly training
      }
      cv1::Credential out;
      grpc::Status s = compliance_stub_->RecordCredential(CallContext(admin_).get(), req, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    cv1::RecordPermitRequest permit;
    permit.set_request_id("permit");
    permit.mutable_permit()->set_clinic_id(clinic_);
    permit.mutable_permit()->set_kind(cv1::PERMIT_KIND_COUNTY_HEALTH);
    permit.mutable_permit()->set_issuer("NYC DOHMH");
    *permit.mutable_permit()->mutable_valid_from() = ToLocalDate(day_ - 300);
    *permit.mutable_permit()->mutable_valid_until() = ToLocalDate(day_ + 300);
    cv1::Permit p;
    grpc::Status s = compliance_stub_->RecordPermit(CallContext(admin_).get(), permit, &p);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void SetUpBilling() {
    bv1::CreatePriceListRequest prices;
    prices.set_request_id("prices");
    bv1::PriceList* list = prices.mutable_price_list();
    list->set_clinic_id(clinic_);
    *list->mutable_effective_date() = ToLocalDate(absl::ToCivilDay(absl::Now(), zone_) - 1);
    list->set_time_zone(kZone);
    list->set_currency_code("USD");
    auto usd = [](int64_t cents) {
      common::v1::Money m;
      m.set_amount_minor(cents);
      m.set_currency_code("USD");
      return m;
    };
    *list->mutable_consultation_fee() = usd(15000);
    *list->mutable_session_prices()->mutable_hairline() = usd(145000);
    *list->mutable_session_prices()->mutable_crown() = usd(160000);
    *list->mutable_session_prices()->mutable_full_scalp() = usd(220000);
    *list->mutable_session_prices()->mutable_scar_camouflage() = usd(90000);
    *list->mutable_sample_patch_fee() = usd(10000);
    *list->mutable_touch_up_fee() = usd(60000);
    *list->mutable_late_cancellation_fee() = usd(5000);
    *list->mutable_no_show_fee() = usd(7500);
    bv1::PriceList saved;
    grpc::Status s = billing_stub_->CreatePriceList(CallContext(admin_).get(), prices, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void SetUpInventory() {
    iv1::UpdateClinicInventorySettingsRequest settings;
    settings.set_request_id("settings");
    settings.mutable_settings()->set_clinic_id(clinic_);
    settings.mutable_settings()->set_time_zone(kZone);
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
    schedule.mutable_schedule()->set_time_zone(kZone);
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
    *consent.mutable_consent()->mutable_signed_time() = ToProtoTimestamp(absl::Now());
    cv1::Consent c;
    s = compliance_stub_->RecordConsent(CallContext(tech_token_).get(), consent, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    cv1::RecordScreeningRequest screening;
    screening.set_request_id("screening");
    screening.mutable_screening()->set_patient_id(patient_);
    screening.mutable_screening()->set_clinic_id(clinic_);
    *screening.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(absl::Now());
    cv1::Screening sc;
    s = compliance_stub_->RecordScreening(CallContext(tech_token_).get(), screening, &sc);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  absl::Time At(int hour, int day_offset = 0) const {
    return zone_.At(absl::CivilSecond(day_ + day_offset) + hour * 3600).pre;
  }

  // A sample patch booked at `hour` and checked in: ready to start.
  sv1::Appointment ArrivedPatch(int hour) {
    sv1::BookAppointmentRequest book;
    book.set_request_id(NewId());
    book.set_clinic_id(clinic_);
    book.set_patient_id(patient_);
    book.set_practitioner_id(tech_);
    book.set_type(sv1::SAMPLE_PATCH);
    *book.mutable_start_time() = ToProtoTimestamp(At(hour));
    sv1::Appointment a;
    grpc::Status s = scheduling_stub_->BookAppointment(CallContext(desk_).get(), book, &a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    sv1::CheckInAppointmentRequest checkin;
    checkin.set_request_id(NewId());
    checkin.set_id(a.id());
    checkin.set_etag(a.etag());
    s = scheduling_stub_->CheckInAppointment(CallContext(desk_).get(), checkin, &a);
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
  Report AuditorReport() {
    cv1::GenerateReportRequest req;
    req.add_clinic_ids(clinic_);
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone_);
    *req.mutable_period()->mutable_start_date() = ToLocalDate(today - 1);
    *req.mutable_period()->mutable_end_date() = ToLocalDate(today + 1);
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

// Issue 14 item 8: a start that fails after inventory issued (here the technician reused the
// request id of another start) sends the units back through scheduling's outbox: the ledger shows
// the issue, then the return with the reason; the unit is in stock again and the next start of the
// appointment draws it afresh.
TEST_F(SuiteTest, AStartFailingAfterTheIssueReturnsTheUnits) {
  sv1::Appointment other = ArrivedPatch(9);
  ASSERT_TRUE(Start(other, {"SN-3"}, 0, "start-used").ok());
  sv1::Appointment a = ArrivedPatch(11);
  EXPECT_THAT(Start(a, {"SN-1"}, 0, "start-used"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "request_id"));
  EXPECT_EQ(a.status(), sv1::ARRIVED);

  iv1::GetSerialUnitRequest unit_req;
  unit_req.set_serial("sn-1");
  iv1::SerialUnit unit;
  ASSERT_TRUE(Eventually([&] {
    return inventory_stub_->GetSerialUnit(CallContext(stock_).get(), unit_req, &unit).ok() &&
           unit.state() == iv1::UNIT_STATE_IN_STOCK;
  }));
  iv1::ListLedgerEntriesRequest ledger;
  ledger.set_clinic_id(clinic_);
  ledger.set_lot_id(unit.lot_id());
  ledger.set_page_size(500);
  iv1::ListLedgerEntriesResponse lines;
  ASSERT_TRUE(inventory_stub_->ListLedgerEntries(CallContext(auditor_).get(), ledger, &lines).ok());
  std::vector<iv1::LedgerEntry> of_a;
  for (const iv1::LedgerEntry& e : lines.entries()) {
    if (e.appointment_id() == a.id()) of_a.push_back(e);
  }
  ASSERT_EQ(of_a.size(), 2u);
  EXPECT_EQ(of_a[0].kind(), iv1::LEDGER_ENTRY_KIND_ISSUE);
  EXPECT_EQ(of_a[1].kind(), iv1::LEDGER_ENTRY_KIND_RETURN);
  EXPECT_EQ(of_a[1].quantity_delta(), 1);
  EXPECT_THAT(of_a[1].reason(), ::testing::HasSubstr("start failed"));

  ASSERT_TRUE(Start(a, {"SN-1"}).ok());
  EXPECT_EQ(a.status(), sv1::IN_PROGRESS);
  ASSERT_TRUE(inventory_stub_->GetSerialUnit(CallContext(stock_).get(), unit_req, &unit).ok());
  EXPECT_EQ(unit.state(), iv1::UNIT_STATE_ISSUED);
  EXPECT_EQ(unit.appointment_id(), a.id());
}

TEST_F(SuiteTest, ProcedureFromBookingToComplianceRecordAndInvoice) {
  sv1::Appointment a = ArrivedPatch(10);
  ASSERT_EQ(a.status(), sv1::ARRIVED);
  EXPECT_THAT(Start(a, {}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "supplies"));
  ASSERT_TRUE(Start(a, {"SN-1", "SN-2"}, 1).ok());
  EXPECT_EQ(a.status(), sv1::IN_PROGRESS);
  ASSERT_EQ(a.supplies_size(), 3);
  EXPECT_EQ(a.supplies(0).serial(), "SN-1");
  EXPECT_EQ(a.supplies(0).lot_number(), "N-2026-11");
  EXPECT_EQ(a.supplies(2).product_name(), "Dark Espresso");

  iv1::GetSerialUnitRequest unit_req;
  unit_req.set_serial("SN-1");
  iv1::SerialUnit unit;
  ASSERT_TRUE(inventory_stub_->GetSerialUnit(CallContext(stock_).get(), unit_req, &unit).ok());
  EXPECT_EQ(unit.state(), iv1::UNIT_STATE_ISSUED);
  EXPECT_EQ(unit.appointment_id(), a.id());

  ASSERT_TRUE(Complete(a).ok());
  EXPECT_EQ(a.status(), sv1::FULFILLED);

  // Compliance receives the record and billing the charge, through the outboxes.
  Report report;
  ASSERT_TRUE(Eventually([&] {
    report = AuditorReport();
    return !report.procedures.empty();
  }));
  ASSERT_EQ(report.procedures.size(), 1u);
  const cv1::ProcedureRecord& record = report.procedures[0];
  EXPECT_EQ(record.appointment_id(), a.id());
  EXPECT_EQ(record.practitioner_id(), tech_);
  EXPECT_EQ(record.procedure_type(), cv1::PROCEDURE_TYPE_SAMPLE_PATCH);
  ASSERT_EQ(record.needles_size(), 2);
  EXPECT_EQ(record.needles(1).serial(), "SN-2");
  ASSERT_EQ(record.pigments_size(), 1);
  EXPECT_EQ(record.pigments(0).lot(), "P-77");
  EXPECT_EQ(record.pigment_blend(), "Dark Espresso, diluted 1:1");
  EXPECT_TRUE(report.findings.empty()) << report.findings[0].detail();
  std::vector<bv1::Invoice> invoices;
  ASSERT_TRUE(Eventually([&] {
    invoices = Invoices();
    return !invoices.empty();
  }));
  EXPECT_EQ(invoices[0].totals().total().amount_minor(), 10000);  // the sample patch fee

  // A used needle presented again: refused, the appointment stays arrived, compliance hears.
  sv1::Appointment b = ArrivedPatch(14);
  EXPECT_THAT(Start(b, {"SN-2", "SN-3"}),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "single use"));
  sv1::GetAppointmentRequest get;
  get.set_id(b.id());
  ASSERT_TRUE(scheduling_stub_->GetAppointment(CallContext(desk_).get(), get, &b).ok());
  EXPECT_EQ(b.status(), sv1::ARRIVED);
  EXPECT_EQ(b.supplies_size(), 0);
  // Nothing of the refused start was issued: SN-3 is still in stock and can be used.
  ASSERT_TRUE(Start(b, {"SN-3"}).ok());
  ASSERT_TRUE(Complete(b).ok());

  // The auditor sees the reuse attempt against the procedure it happened in (the record comes
  // from scheduling's outbox, the incident from inventory's, in either order).
  ASSERT_TRUE(Eventually([&] {
    report = AuditorReport();
    return report.procedures.size() == 2 && !report.findings.empty();
  }));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind(), cv1::FINDING_KIND_NEEDLE_REUSE);
  EXPECT_EQ(report.findings[0].appointment_id(), b.id());

  // Every needle inventory issued appears in exactly one procedure, and only those.
  std::multimap<std::string, std::string> recorded;
  for (const cv1::ProcedureRecord& p : report.procedures) {
    for (const cv1::NeedleUse& n : p.needles()) recorded.emplace(n.serial(), p.appointment_id());
  }
  EXPECT_EQ(IssuedSerials(), recorded);
  EXPECT_EQ(recorded.size(), 3u);

  // A recall reaches compliance's records.
  iv1::RecallLotRequest recall;
  recall.set_request_id("recall-p77");
  recall.set_lot_id(pigment_lot_);
  recall.set_reason("microbial contamination");
  iv1::RecallLotResponse recalled;
  ASSERT_TRUE(inventory_stub_->RecallLot(CallContext(admin_).get(), recall, &recalled).ok());
  EXPECT_EQ(recalled.uses_size(), 1);  // the first procedure used it
  ASSERT_TRUE(Eventually([&] {
    cv1::ListAuditEntriesRequest req;
    req.set_page_size(5000);
    cv1::ListAuditEntriesResponse log;
    EXPECT_TRUE(compliance_stub_->ListAuditEntries(CallContext(auditor_).get(), req, &log).ok());
    for (const cv1::AuditEntry& e : log.entries()) {
      if (e.method() == "RecordLotRecall" && e.entity_id() == "P-77") return true;
    }
    return false;
  }));
  // And recalled pigment cannot be started with.
  sv1::Appointment c = ArrivedPatch(16);
  EXPECT_THAT(Start(c, {"SN-4"}, 1), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "recalled"));

  // Appointment c never completes, yet its refused start (inventory's incident) is on the
  // auditor's record: in ListIncidents and in the report's incidents.
  cv1::ListIncidentsRequest incidents_req;
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone_);
  *incidents_req.mutable_period()->mutable_start_date() = ToLocalDate(today - 1);
  *incidents_req.mutable_period()->mutable_end_date() = ToLocalDate(today + 1);
  auto has_c = [&](const auto& incidents) {
    for (const cv1::Incident& i : incidents) {
      if (i.appointment_id() == c.id()) return true;
    }
    return false;
  };
  ASSERT_TRUE(Eventually([&] {
    cv1::ListIncidentsResponse listed;
    EXPECT_TRUE(
        compliance_stub_->ListIncidents(CallContext(auditor_).get(), incidents_req, &listed).ok());
    return has_c(listed.incidents());
  }));
  report = AuditorReport();
  EXPECT_TRUE(has_c(report.incidents));
  EXPECT_EQ(report.procedures.size(), 2u);
  // A technician cannot list incidents (auditors and admins only).
  cv1::ListIncidentsResponse denied;
  EXPECT_THAT(
      compliance_stub_->ListIncidents(CallContext(tech_token_).get(), incidents_req, &denied),
      GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
}

// Issue 14 (1): with a real compliance, a booked sample patch is judged again when it is moved
// (past the technician's credentials: refused) and when it starts (consent withdrawn after
// booking: refused before inventory issues anything); the technician records it as not done.
TEST_F(SuiteTest, ComplianceIsAskedAgainAtRescheduleAndAtStart) {
  sv1::BookAppointmentRequest book;
  book.set_request_id(NewId());
  book.set_clinic_id(clinic_);
  book.set_patient_id(patient_);
  book.set_practitioner_id(tech_);
  book.set_type(sv1::SAMPLE_PATCH);
  *book.mutable_start_time() = ToProtoTimestamp(At(10));
  sv1::Appointment a;
  grpc::Status s = scheduling_stub_->BookAppointment(CallContext(desk_).get(), book, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();

  sv1::RescheduleAppointmentRequest move;
  move.set_request_id(NewId());
  move.set_id(a.id());
  move.set_etag(a.etag());
  *move.mutable_start_time() = ToProtoTimestamp(At(10, 301));  // credentials end at day + 300
  sv1::Appointment moved;
  EXPECT_THAT(scheduling_stub_->RescheduleAppointment(CallContext(desk_).get(), move, &moved),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "CREDENTIAL_INVALID"));
  move.set_request_id(NewId());
  *move.mutable_start_time() = ToProtoTimestamp(At(12));
  s = scheduling_stub_->RescheduleAppointment(CallContext(desk_).get(), move, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The patient withdraws consent after booking.
  cv1::ListConsentsRequest list;
  list.set_patient_id(patient_);
  cv1::ListConsentsResponse consents;
  ASSERT_TRUE(compliance_stub_->ListConsents(CallContext(admin_).get(), list, &consents).ok());
  ASSERT_EQ(consents.consents_size(), 1);
  cv1::WithdrawConsentRequest withdraw;
  withdraw.set_request_id(NewId());
  withdraw.set_id(consents.consents(0).id());
  cv1::Consent withdrawn;
  s = compliance_stub_->WithdrawConsent(CallContext(admin_).get(), withdraw, &withdrawn);
  ASSERT_TRUE(s.ok()) << s.error_message();

  move.set_request_id(NewId());
  move.set_etag(a.etag());
  *move.mutable_start_time() = ToProtoTimestamp(At(14));
  EXPECT_THAT(scheduling_stub_->RescheduleAppointment(CallContext(desk_).get(), move, &moved),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "CONSENT_MISSING"));

  sv1::CheckInAppointmentRequest checkin;
  checkin.set_request_id(NewId());
  checkin.set_id(a.id());
  checkin.set_etag(a.etag());
  s = scheduling_stub_->CheckInAppointment(CallContext(desk_).get(), checkin, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(Start(a, {"SN-9"}), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "CONSENT_MISSING"));
  EXPECT_EQ(a.status(), sv1::ARRIVED);
  EXPECT_TRUE(IssuedSerials().empty());  // the hard stop came before any issue
  iv1::GetSerialUnitRequest unit_req;
  unit_req.set_serial("SN-9");
  iv1::SerialUnit unit;
  ASSERT_TRUE(inventory_stub_->GetSerialUnit(CallContext(stock_).get(), unit_req, &unit).ok());
  EXPECT_NE(unit.state(), iv1::UNIT_STATE_ISSUED);

  sv1::StopAppointmentRequest stop;
  stop.set_request_id(NewId());
  stop.set_id(a.id());
  stop.set_etag(a.etag());
  stop.set_reason("consent withdrawn");
  stop.set_initiator(sv1::INITIATOR_CLINIC);
  s = scheduling_stub_->StopAppointment(CallContext(tech_token_).get(), stop, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.status(), sv1::APPOINTMENT_STATUS_STOPPED);
  EXPECT_FALSE(a.stop().started());
}

// Issue 14 (1): a procedure stopped after it started keeps its needles on record: compliance
// receives the procedure record with what inventory issued, and the clinic's stop is not billed.
TEST_F(SuiteTest, AStoppedProcedureKeepsWhatWasIssuedOnRecord) {
  sv1::Appointment a = ArrivedPatch(10);
  ASSERT_TRUE(Start(a, {"SN-4"}).ok());
  sv1::StopAppointmentRequest stop;
  stop.set_request_id(NewId());
  stop.set_id(a.id());
  stop.set_etag(a.etag());
  stop.set_reason("herpes outbreak found at the chair");
  stop.set_initiator(sv1::INITIATOR_CLINIC);
  stop.mutable_checklist()->set_gloves_worn(true);
  grpc::Status s = scheduling_stub_->StopAppointment(CallContext(tech_token_).get(), stop, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(a.stop().started());
  EXPECT_FALSE(a.stop().charged());
  ASSERT_EQ(a.supplies_size(), 1);
  Report report;
  ASSERT_TRUE(Eventually([&] {
    report = AuditorReport();
    return !report.procedures.empty();
  }));
  ASSERT_EQ(report.procedures.size(), 1u);
  EXPECT_EQ(report.procedures[0].appointment_id(), a.id());
  ASSERT_EQ(report.procedures[0].needles_size(), 1);
  EXPECT_EQ(report.procedures[0].needles(0).serial(), "SN-4");
  EXPECT_THAT(report.procedures[0].notes(), ::testing::HasSubstr("stopped"));
  EXPECT_TRUE(Invoices().empty());  // a stop the clinic made is never charged
}

TEST_F(SuiteTest, EventsArriveOnceWhenComplianceAndBillingWereDown) {
  sv1::Appointment a = ArrivedPatch(11);
  ASSERT_TRUE(Start(a, {"SN-5"}).ok());
  compliance_.process->Stop();
  billing_.process->Stop();
  ASSERT_TRUE(Complete(a).ok());     // the technician is not held up by peers being down
  absl::SleepFor(absl::Seconds(1));  // several failed deliveries

  ASSERT_OK(compliance_.Start());
  ASSERT_OK(billing_.Start());
  ASSERT_TRUE(Eventually([&] { return !AuditorReport().procedures.empty(); }));
  ASSERT_TRUE(Eventually([&] { return !Invoices().empty(); }));
  absl::SleepFor(absl::Seconds(1));  // later passes must not record or charge again
  EXPECT_EQ(AuditorReport().procedures.size(), 1u);
  EXPECT_EQ(Invoices().size(), 1u);
}

TEST_F(SuiteTest, AcknowledgedBookingsSurviveKill9UnderLoad) {
  // Four desks book consultations (60 min) over three days of half-hour starts, in different
  // orders, so that many requests collide; scheduling is killed while they run.
  std::vector<absl::Time> starts;
  for (int d = 0; d < 3; ++d) {
    for (int half = 18; half < 34; ++half) starts.push_back(At(0, d) + absl::Minutes(30 * half));
  }
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> killed{false};
  std::vector<std::thread> desks;
  for (int t = 0; t < 4; ++t) {
    desks.emplace_back([&, t] {
      auto stub = sv1::SchedulingService::NewStub(
          grpc::CreateChannel(scheduling_.address, grpc::InsecureChannelCredentials()));
      for (size_t i = 0; i < starts.size() && !killed.load(); ++i) {
        const absl::Time start = starts[(i * (t + 1) + t * 7) % starts.size()];
        sv1::BookAppointmentRequest book;
        book.set_request_id(NewId());
        book.set_clinic_id(clinic_);
        book.set_patient_id(patient_);
        book.set_practitioner_id(tech_);
        book.set_type(sv1::CONSULTATION);
        *book.mutable_start_time() = ToProtoTimestamp(start);
        sv1::Appointment a;
        if (stub->BookAppointment(CallContext(desk_).get(), book, &a).ok()) {
          absl::MutexLock lock(&mu);
          acknowledged.push_back(a.id());
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] {
    absl::MutexLock lock(&mu);
    return acknowledged.size() >= 6;
  }));
  scheduling_.process->Kill();
  killed.store(true);
  for (std::thread& t : desks) t.join();

  ASSERT_OK(scheduling_.Start());
  Connect();
  std::vector<sv1::Appointment> kept;
  for (const std::string& id : acknowledged) {
    sv1::GetAppointmentRequest get;
    get.set_id(id);
    sv1::Appointment a;
    grpc::Status s = scheduling_stub_->GetAppointment(CallContext(desk_).get(), get, &a);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    kept.push_back(a);
  }
  // No two of the technician's appointments overlap.
  sv1::ListAppointmentsRequest list;
  list.set_clinic_id(clinic_);
  *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(0));
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(0, 3));
  list.set_page_size(500);
  sv1::ListAppointmentsResponse listed;
  ASSERT_TRUE(scheduling_stub_->ListAppointments(CallContext(desk_).get(), list, &listed).ok());
  EXPECT_GE(listed.appointments_size(), static_cast<int>(acknowledged.size()));
  std::vector<std::pair<absl::Time, absl::Time>> busy;
  for (const sv1::Appointment& a : listed.appointments()) {
    if (a.status() == sv1::CANCELLED) continue;
    busy.emplace_back(FromProtoTimestamp(a.start_time()), FromProtoTimestamp(a.end_time()));
  }
  std::sort(busy.begin(), busy.end());
  for (size_t i = 1; i < busy.size(); ++i) {
    EXPECT_LE(busy[i - 1].second, busy[i].first) << "double booking at " << busy[i].first;
  }
  std::cerr << acknowledged.size() << " bookings acknowledged before the kill, all kept\n";
}

}  // namespace
}  // namespace smp
