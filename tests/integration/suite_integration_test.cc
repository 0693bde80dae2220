// The five services as one product, every one a real process on loopback with a real redis-server:
// the procedure workflow from booking to compliance's record and billing's invoice, peers that are
// down when events are due, and scheduling killed while it acknowledges bookings.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
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

// The fixture's defaults: one New York clinic on the real clock.
class SuiteTest : public SuiteFixture {};

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
  sv1::Appointment a;
  grpc::Status s = Book(sv1::SAMPLE_PATCH, At(10), &a);
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

  s = CheckIn(a);
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
