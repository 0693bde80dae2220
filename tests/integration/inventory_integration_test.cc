// The inventory service as a real process, with identity and a real redis-server, over real gRPC:
// roles and clinic scope, bad inputs, single use of needle serials under concurrency, no oversell
// of a lot under concurrency, and recalls.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::inventory {
namespace {

using ::smp::testing::ServiceProcess;
namespace sv1 = ::smp::scheduling::v1;

using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return CallContext(token); }

common::v1::LocalDate DaysFromNow(int days) {
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + days;
  common::v1::LocalDate d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

// Stands in for scheduling's ListAppointments, GetAppointment and ListChanges: answers from a list
// (filtered by clinic and period; each appointment added is one change of its clinic's feed), and
// only to a live session of the expected account, as identity (asked by WhoAmI) sees it.
class FakeScheduling final : public sv1::SchedulingService::Service {
 public:
  FakeScheduling(identity::v1::IdentityService::Stub* identity, std::string username)
      : identity_(identity), username_(std::move(username)) {}

  grpc::Status GetAppointment(grpc::ServerContext* ctx, const sv1::GetAppointmentRequest* req,
                              sv1::Appointment* out) override {
    if (grpc::Status who = CheckCaller(ctx); !who.ok()) return who;
    absl::MutexLock lock(&mu_);
    ++get_calls_;
    for (const sv1::Appointment& a : appointments_) {
      if (a.id() == req->id()) {
        *out = a;
        return grpc::Status::OK;
      }
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such appointment");
  }

  grpc::Status ListAppointments(grpc::ServerContext* ctx, const sv1::ListAppointmentsRequest* req,
                                sv1::ListAppointmentsResponse* out) override {
    if (grpc::Status who = CheckCaller(ctx); !who.ok()) return who;
    absl::MutexLock lock(&mu_);
    const absl::Time from = FromProtoTimestamp(req->period().start_time());
    const absl::Time to = FromProtoTimestamp(req->period().end_time());
    for (const sv1::Appointment& a : appointments_) {
      const absl::Time start = FromProtoTimestamp(a.start_time());
      if (a.clinic_id() == req->clinic_id() && start >= from && start < to) {
        *out->add_appointments() = a;
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status ListChanges(grpc::ServerContext* ctx, const sv1::ListChangesRequest* req,
                           sv1::ListChangesResponse* out) override {
    if (grpc::Status who = CheckCaller(ctx); !who.ok()) return who;
    absl::MutexLock lock(&mu_);
    int64_t sequence = 0;
    for (const sv1::Appointment& a : appointments_) {
      if (a.clinic_id() != req->clinic_id()) continue;
      ++sequence;
      if (sequence <= req->since_sequence() || out->changes_size() >= req->page_size()) continue;
      sv1::Change* change = out->add_changes();
      change->set_sequence(sequence);
      change->set_clinic_id(a.clinic_id());
      change->set_type(sv1::CHANGE_TYPE_CREATED);
      *change->mutable_appointment() = a;
    }
    out->set_head_sequence(sequence);
    const int64_t served =
        out->changes().empty() ? req->since_sequence() : out->changes().rbegin()->sequence();
    served_[req->clinic_id()] = std::max(served_[req->clinic_id()], served);
    return grpc::Status::OK;
  }
  int GetAppointmentCalls() {
    absl::MutexLock lock(&mu_);
    return get_calls_;
  }
  // How far inventory has read `clinic`'s feed.
  int64_t Served(const std::string& clinic) {
    absl::MutexLock lock(&mu_);
    return served_[clinic];
  }

  void Add(const std::string& clinic, const std::string& id, sv1::AppointmentType type,
           sv1::AppointmentStatus status, absl::Time start, const std::string& patient = "") {
    absl::MutexLock lock(&mu_);
    sv1::Appointment a;
    a.set_id(id);
    a.set_patient_id(patient);
    a.set_clinic_id(clinic);
    a.set_type(type);
    a.set_status(status);
    *a.mutable_start_time() = ToProtoTimestamp(start);
    appointments_.push_back(a);
  }
  // A procedure in progress at `clinic` long ago (outside any forecast), for issues, unless known.
  void Ensure(const std::string& clinic, const std::string& id, const std::string& patient = "") {
    {
      absl::MutexLock lock(&mu_);
      for (const sv1::Appointment& a : appointments_) {
        if (a.id() == id) return;
      }
    }
    Add(clinic, id, sv1::TREATMENT_SESSION, sv1::IN_PROGRESS, absl::UnixEpoch(), patient);
  }

 private:
  grpc::Status CheckCaller(grpc::ServerContext* ctx) {
    auto auth = ctx->client_metadata().find("authorization");
    if (auth == ctx->client_metadata().end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no service token");
    }
    grpc::ClientContext who_ctx;
    who_ctx.AddMetadata("authorization", std::string(auth->second.data(), auth->second.size()));
    identity::v1::WhoAmIResponse who;
    if (!identity_->WhoAmI(&who_ctx, identity::v1::WhoAmIRequest(), &who).ok() ||
        who.staff().username() != username_) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad service token");
    }
    return grpc::Status::OK;
  }

  identity::v1::IdentityService::Stub* identity_;
  const std::string username_;
  absl::Mutex mu_;
  std::vector<sv1::Appointment> appointments_ ABSL_GUARDED_BY(mu_);
  int get_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int64_t> served_ ABSL_GUARDED_BY(mu_);
};

class InventoryIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    SetUpIdentity();
    redis_flag_ = harness_.RedisFlag();
    // Inventory's own service account, and a scheduling stand-in that only answers to it: every
    // issue asks scheduling where its appointment is.
    scheduling_flags_ = harness_.MakeServiceAccount("svc.inventory");
    scheduling_ = std::make_unique<FakeScheduling>(&harness_.stub(), "svc.inventory");
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(scheduling_.get());
    scheduling_server_ = builder.BuildAndStart();
    ASSERT_NE(scheduling_server_, nullptr);
    scheduling_flags_.push_back(absl::StrCat("--scheduling_address=127.0.0.1:", port));
    scheduling_flags_.push_back("--appointment_feed_interval=100ms");
    StartInventory(scheduling_flags_);
    SetUpInventory();
  }

  void TearDown() override {
    inventory_.reset();
    if (scheduling_server_ != nullptr) scheduling_server_->Shutdown();
  }

  // (Re)starts inventory on the same data directory, as a restarted service would.
  void StartInventory(const std::vector<std::string>& extra) {
    inventory_.reset();
    if (inventory_dir_.empty()) inventory_dir_ = smp::testing::MakeTempDir("inv");
    std::vector<std::string> args = {"--data_dir=" + inventory_dir_, redis_flag_};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_OK_AND_ASSIGN(inventory_, ServiceProcess::Start(SMP_INVENTORY_BINARY, args));
    stub_ = v1::InventoryService::NewStub(
        grpc::CreateChannel(inventory_->address(), grpc::InsecureChannelCredentials()));
  }

  void SetUpIdentity() {
    admin_ = harness_.admin_token();
    clinic_a_ = harness_.MakeClinic("NewYork", "America/New_York");
    clinic_b_ = harness_.MakeClinic("London", "Europe/London");
    harness_.MakeStaff("stock.a", common::v1::ROLE_INVENTORY_STAFF, clinic_a_);
    harness_.MakeStaff("tech.a", common::v1::ROLE_TECHNICIAN, clinic_a_);
    harness_.MakeStaff("tech.b", common::v1::ROLE_TECHNICIAN, clinic_b_);
    harness_.MakeStaff("audit", common::v1::ROLE_AUDITOR);
    stock_a_ = harness_.Login("stock.a");
    tech_a_ = harness_.Login("tech.a");
    tech_b_ = harness_.Login("tech.b");
    auditor_ = harness_.Login("audit");
  }

  void SetUpInventory() {
    for (const auto& [clinic, tz] :
         {std::pair{clinic_a_, "America/New_York"}, std::pair{clinic_b_, "Europe/London"}}) {
      v1::UpdateClinicInventorySettingsRequest req;
      req.set_request_id("settings-" + clinic);
      req.mutable_settings()->set_clinic_id(clinic);
      req.mutable_settings()->set_time_zone(tz);
      v1::ClinicInventorySettings out;
      grpc::Status s = stub_->UpdateClinicInventorySettings(Ctx(admin_).get(), req, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    v1::CreateProductRequest needle;
    needle.set_request_id("product-needle");
    needle.mutable_product()->set_name("3RL 0.30 mm cartridge");
    needle.mutable_product()->set_unit(v1::UNIT_OF_MEASURE_EACH);
    needle.mutable_product()->set_single_use(true);
    needle.mutable_product()->mutable_needle_cartridge()->set_configuration("3RL");
    needle.mutable_product()->mutable_needle_cartridge()->set_needle_diameter_um(300);
    v1::Product out;
    grpc::Status s = stub_->CreateProduct(Ctx(stock_a_).get(), needle, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    needle_ = out.id();
    v1::CreateProductRequest pigment;
    pigment.set_request_id("product-pigment");
    pigment.mutable_product()->set_name("Dark Espresso 15 ml");
    pigment.mutable_product()->set_unit(v1::UNIT_OF_MEASURE_BOTTLE);
    pigment.mutable_product()->mutable_pigment()->set_brand("Acme");
    pigment.mutable_product()->mutable_pigment()->set_shade("Dark Espresso");
    pigment.mutable_product()->mutable_pigment()->set_opened_shelf_life_days(365);
    s = stub_->CreateProduct(Ctx(stock_a_).get(), pigment, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    pigment_ = out.id();
  }

  v1::ReceiveStockRequest Receipt(const std::string& clinic, const std::string& product,
                                  const std::string& lot, int64_t quantity,
                                  std::vector<std::string> serials = {}) {
    v1::ReceiveStockRequest req;
    req.set_request_id("receive-" + NewId());
    req.set_clinic_id(clinic);
    req.set_product_id(product);
    req.set_lot_number(lot);
    *req.mutable_expiry_date() = DaysFromNow(200);
    req.set_quantity(quantity);
    for (std::string& s : serials) req.add_serials(std::move(s));
    req.set_supplier("Acme Medical");
    return req;
  }

  v1::ReceiveStockResponse Receive(const v1::ReceiveStockRequest& req) {
    v1::ReceiveStockResponse out;
    grpc::Status s = stub_->ReceiveStock(Ctx(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status IssueSerial(const std::string& token, const std::string& clinic,
                           const std::string& serial, const std::string& appointment) {
    scheduling_->Ensure(clinic, appointment);
    v1::IssueToProcedureRequest req;
    req.set_request_id("issue-" + NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointment);
    req.add_lines()->set_serial(serial);
    v1::IssueToProcedureResponse out;
    return stub_->IssueToProcedure(Ctx(token).get(), req, &out);
  }

  grpc::Status IssueCount(const std::string& token, const std::string& clinic,
                          const std::string& lot_id, int64_t quantity,
                          const std::string& appointment, const std::string& patient = "") {
    scheduling_->Ensure(clinic, appointment, patient);
    v1::IssueToProcedureRequest req;
    req.set_request_id("issue-" + NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointment);
    req.set_patient_id(patient);
    req.add_lines()->mutable_lot_quantity()->set_lot_id(lot_id);
    req.mutable_lines(0)->mutable_lot_quantity()->set_quantity(quantity);
    v1::IssueToProcedureResponse out;
    return stub_->IssueToProcedure(Ctx(token).get(), req, &out);
  }

  grpc::Status OpenBottle(const std::string& token, const std::string& clinic,
                          const std::string& lot_id, v1::OpenBottleResponse* out) {
    v1::OpenBottleRequest req;
    req.set_request_id("open-" + NewId());
    req.set_clinic_id(clinic);
    req.set_lot_id(lot_id);
    return stub_->OpenBottle(Ctx(token).get(), req, out);
  }

  grpc::Status IssueBottle(const std::string& token, const std::string& clinic,
                           const std::string& bottle_id, const std::string& appointment,
                           const std::string& patient = "",
                           v1::IssueToProcedureResponse* response = nullptr) {
    scheduling_->Ensure(clinic, appointment, patient);
    v1::IssueToProcedureRequest req;
    req.set_request_id("issue-" + NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointment);
    req.set_patient_id(patient);
    req.add_lines()->set_bottle_id(bottle_id);
    v1::IssueToProcedureResponse out;
    return stub_->IssueToProcedure(Ctx(token).get(), req, response ? response : &out);
  }

  grpc::Status CloseBottle(const std::string& token, const std::string& bottle_id,
                           v1::BottleState state) {
    v1::CloseBottleRequest req;
    req.set_request_id("close-" + NewId());
    req.set_bottle_id(bottle_id);
    req.set_state(state);
    v1::PigmentBottle out;
    return stub_->CloseBottle(Ctx(token).get(), req, &out);
  }

  v1::ListOpenBottlesResponse Bottles(const std::string& clinic) {
    v1::ListOpenBottlesRequest req;
    req.set_clinic_id(clinic);
    v1::ListOpenBottlesResponse out;
    grpc::Status s = stub_->ListOpenBottles(Ctx(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::ListStockResponse Stock(const std::string& clinic) {
    v1::ListStockRequest req;
    req.set_clinic_id(clinic);
    v1::ListStockResponse out;
    grpc::Status s = stub_->ListStock(Ctx(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // The sum of the clinic's ledger lines for a lot and bucket, through the contract.
  int64_t LedgerSum(const std::string& clinic, const std::string& lot, v1::StockBucket bucket) {
    int64_t sum = 0;
    v1::ListLedgerEntriesRequest req;
    req.set_clinic_id(clinic);
    req.set_lot_id(lot);
    req.set_page_size(500);
    do {
      v1::ListLedgerEntriesResponse out;
      grpc::Status s = stub_->ListLedgerEntries(Ctx(auditor_).get(), req, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const v1::LedgerEntry& e : out.entries()) {
        if (e.bucket() == bucket) sum += e.quantity_delta();
      }
      req.set_page_token(out.next_page_token());
    } while (!req.page_token().empty());
    return sum;
  }

  std::string redis_flag_, inventory_dir_;
  IdentityHarness harness_;
  std::vector<std::string> scheduling_flags_;
  std::unique_ptr<FakeScheduling> scheduling_;
  std::unique_ptr<grpc::Server> scheduling_server_;
  std::unique_ptr<ServiceProcess> inventory_;
  std::unique_ptr<v1::InventoryService::Stub> stub_;
  std::string admin_, stock_a_, tech_a_, tech_b_, auditor_;
  std::string clinic_a_, clinic_b_, needle_, pigment_;
};

TEST_F(InventoryIntegrationTest, BadInputsAreInvalidArgumentAndStoreNothing) {
  v1::ReceiveStockResponse out;
  auto expect_invalid = [&](v1::ReceiveStockRequest req, const std::string& field,
                            const std::string& token = "") {
    grpc::Status s = stub_->ReceiveStock(Ctx(token.empty() ? stock_a_ : token).get(), req, &out);
    EXPECT_THAT(s, GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, field));
  };
  v1::ReceiveStockRequest req = Receipt(clinic_a_, pigment_, "BAD-1", 0);
  expect_invalid(req, "quantity");
  req.set_quantity(-5);
  expect_invalid(req, "quantity");
  req = Receipt(clinic_a_, pigment_, "BAD-1", 5);
  *req.mutable_expiry_date() = DaysFromNow(-2);
  expect_invalid(req, "expiry_date");
  req.mutable_expiry_date()->set_month(13);
  expect_invalid(req, "expiry_date");
  expect_invalid(Receipt(clinic_a_, NewId(), "BAD-1", 5), "product_id");
  std::vector<std::string> many;
  for (int i = 0; i < 1001; ++i) many.push_back(absl::StrCat("OVER-", i));
  expect_invalid(Receipt(clinic_a_, needle_, "BAD-2", 1001, many), "serials");
  expect_invalid(Receipt(clinic_a_, needle_, "BAD-2", 3, {"DUP-1", "DUP-1", "DUP-2"}), "serials");
  expect_invalid(Receipt(clinic_a_, needle_, "BAD-2", 5, {"MIS-1"}), "quantity");
  expect_invalid(Receipt(clinic_a_, pigment_, "BAD-3", 2, {"PIG-1", "PIG-2"}), "serials");
  // A malformed clinic id is another clinic to clinic-scoped staff: the scope answers first.
  EXPECT_THAT(
      stub_->ReceiveStock(Ctx(stock_a_).get(), Receipt("not-an-id", pigment_, "BAD-1", 5), &out),
      GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"));
  expect_invalid(Receipt("not-an-id", pigment_, "BAD-1", 5), "clinic_id", admin_);
  expect_invalid(Receipt(NewId(), pigment_, "BAD-1", 5), "clinic_id", admin_);  // unknown clinic

  v1::AdjustStockRequest adjust;
  adjust.set_request_id("adjust-bad");
  adjust.set_clinic_id(clinic_a_);
  adjust.set_lot_id(NewId());
  adjust.set_quantity_delta(0);
  adjust.set_reason("count");
  v1::LedgerEntry entry;
  EXPECT_THAT(stub_->AdjustStock(Ctx(stock_a_).get(), adjust, &entry),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "quantity_delta"));
  adjust.set_quantity_delta(3);
  adjust.set_reason("");
  EXPECT_THAT(stub_->AdjustStock(Ctx(stock_a_).get(), adjust, &entry),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "reason"));
  EXPECT_THAT(IssueCount(tech_a_, clinic_a_, NewId(), 0, NewId()),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "quantity"));
  EXPECT_THAT(IssueCount(tech_a_, clinic_a_, NewId(), -1, NewId()),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "quantity"));

  // Nothing was stored: no stock, no ledger, no unit, no lot.
  EXPECT_EQ(Stock(clinic_a_).levels_size(), 0);
  v1::ListLedgerEntriesRequest ledger;
  ledger.set_clinic_id(clinic_a_);
  v1::ListLedgerEntriesResponse entries;
  ASSERT_TRUE(stub_->ListLedgerEntries(Ctx(admin_).get(), ledger, &entries).ok());
  EXPECT_EQ(entries.entries_size(), 0);
  for (const char* serial : {"OVER-0", "DUP-2", "MIS-1", "PIG-1"}) {
    v1::GetSerialUnitRequest get;
    get.set_serial(serial);
    v1::SerialUnit unit;
    EXPECT_THAT(stub_->GetSerialUnit(Ctx(admin_).get(), get, &unit),
                GrpcIs(grpc::StatusCode::NOT_FOUND, serial));
  }
}

TEST_F(InventoryIntegrationTest, RolesAndClinicScope) {
  v1::ReceiveStockResponse out;
  EXPECT_THAT(stub_->ReceiveStock(Ctx(auditor_).get(), Receipt(clinic_a_, pigment_, "R1", 2), &out),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_THAT(stub_->ReceiveStock(Ctx(tech_a_).get(), Receipt(clinic_a_, pigment_, "R1", 2), &out),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_THAT(stub_->ReceiveStock(Ctx(stock_a_).get(), Receipt(clinic_b_, pigment_, "R1", 2), &out),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "clinic scope"));
  ASSERT_TRUE(
      stub_->ReceiveStock(Ctx(stock_a_).get(), Receipt(clinic_a_, pigment_, "R1", 2), &out).ok());
  EXPECT_THAT(IssueCount(tech_b_, clinic_a_, out.lot().id(), 1, NewId()),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "clinic scope"));
  v1::ListStockRequest list;
  list.set_clinic_id(clinic_a_);
  v1::ListStockResponse stock;
  EXPECT_THAT(stub_->ListStock(Ctx(tech_b_).get(), list, &stock),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "clinic scope"));
  EXPECT_TRUE(stub_->ListStock(Ctx(auditor_).get(), list, &stock).ok());
  v1::UpdateClinicInventorySettingsRequest settings;
  settings.set_request_id("settings-by-staff");
  settings.mutable_settings()->set_clinic_id(clinic_a_);
  settings.mutable_settings()->set_time_zone("Europe/Paris");
  v1::ClinicInventorySettings s_out;
  EXPECT_THAT(stub_->UpdateClinicInventorySettings(Ctx(stock_a_).get(), settings, &s_out),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_TRUE(stub_->ListStock(Ctx("").get(), list, &stock).error_code() ==
              grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(InventoryIntegrationTest, NeedleSerialsAreSingleUseAndReuseIsRecorded) {
  const v1::ReceiveStockResponse lot =
      Receive(Receipt(clinic_a_, needle_, "N-100", 3, {"SN-1", "SN-2", "SN-3"}));
  EXPECT_EQ(lot.stock().available(), 3);
  // The same serial anywhere in the chain is refused.
  v1::ReceiveStockResponse dup;
  EXPECT_THAT(stub_->ReceiveStock(Ctx(admin_).get(),
                                  Receipt(clinic_b_, needle_, "N-200", 1, {"SN-2"}), &dup),
              GrpcIs(grpc::StatusCode::ALREADY_EXISTS, "SN-2"));

  const std::string first = NewId(), second = NewId();
  ASSERT_TRUE(IssueSerial(tech_a_, clinic_a_, "SN-1", first).ok());
  EXPECT_THAT(IssueSerial(tech_a_, clinic_a_, "SN-1", second),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "already issued"));
  // A count from a serialised lot is refused; the unit is recorded as issued to the first.
  EXPECT_THAT(IssueCount(tech_a_, clinic_a_, lot.lot().id(), 1, second),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "by serial"));
  v1::GetSerialUnitRequest get;
  get.set_serial("SN-1");
  v1::SerialUnit unit;
  ASSERT_TRUE(stub_->GetSerialUnit(Ctx(auditor_).get(), get, &unit).ok());
  EXPECT_EQ(unit.state(), v1::UNIT_STATE_ISSUED);
  EXPECT_EQ(unit.appointment_id(), first);

  v1::ListReuseAttemptsRequest attempts_req;
  attempts_req.set_clinic_id(clinic_a_);
  v1::ListReuseAttemptsResponse attempts;
  ASSERT_TRUE(stub_->ListReuseAttempts(Ctx(auditor_).get(), attempts_req, &attempts).ok());
  ASSERT_EQ(attempts.attempts_size(), 1);
  EXPECT_EQ(attempts.attempts(0).serial(), "SN-1");
  EXPECT_EQ(attempts.attempts(0).appointment_id(), second);
  EXPECT_EQ(attempts.attempts(0).first_appointment_id(), first);

  // Stock held at another clinic is refused at this one.
  Receive(Receipt(clinic_b_, needle_, "N-300", 1, {"SN-LON-1"}));
  EXPECT_THAT(IssueSerial(admin_, clinic_a_, "SN-LON-1", NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "held at clinic"));

  // Used needle disposed of as sharps; it can never be issued again either.
  v1::DiscardStockRequest discard;
  discard.set_request_id("sharps-1");
  discard.set_clinic_id(clinic_a_);
  discard.mutable_units()->add_serials("SN-1");
  discard.set_reason("sharps");
  discard.set_witness("tech.a");
  v1::DiscardStockResponse discarded;
  ASSERT_TRUE(stub_->DiscardStock(Ctx(stock_a_).get(), discard, &discarded).ok());
  EXPECT_EQ(discarded.units(0).state(), v1::UNIT_STATE_DISPOSED_SHARPS);
  EXPECT_EQ(discarded.entries_size(), 0);
  EXPECT_THAT(IssueSerial(tech_a_, clinic_a_, "SN-1", NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "single use"));

  const v1::ListStockResponse stock = Stock(clinic_a_);
  ASSERT_EQ(stock.levels_size(), 1);
  EXPECT_EQ(stock.levels(0).available(), 2);
  EXPECT_EQ(LedgerSum(clinic_a_, lot.lot().id(), v1::STOCK_BUCKET_AVAILABLE), 2);

  // The refusal carries its reason and the serial; a technician of another clinic presenting the
  // unit is not told which procedure of clinic A used it.
  const absl::Status reused = FromGrpcStatus(IssueSerial(tech_a_, clinic_a_, "SN-1", NewId()));
  EXPECT_EQ(ErrorReason(reused), reason::kUnitAlreadyUsed);
  EXPECT_EQ(ErrorMetadata(reused, "serial"), "SN-1");
  const absl::Status elsewhere = FromGrpcStatus(IssueSerial(tech_b_, clinic_b_, "SN-1", NewId()));
  EXPECT_EQ(ErrorReason(elsewhere), reason::kUnitAlreadyUsed);
  EXPECT_EQ(elsewhere.message().find(first), absl::string_view::npos) << elsewhere.message();
}

// Issue 14 item 8 over real processes: a start's issue is keyed by (appointment, start attempt),
// not by who calls, so a second technician retrying that start replays it (no reuse attempt, no
// second draw); other lines are refused naming what was issued; only services return an issue.
TEST_F(InventoryIntegrationTest, AStartIssueIsReplayedForASecondTechnician) {
  const v1::ReceiveStockResponse lot =
      Receive(Receipt(clinic_a_, needle_, "N-START", 2, {"ST-1", "ST-2"}));
  harness_.MakeStaff("tech.a2", common::v1::ROLE_TECHNICIAN, clinic_a_);
  const std::string tech_a2 = harness_.Login("tech.a2");
  const std::string appointment = NewId(), attempt = NewId();
  scheduling_->Ensure(clinic_a_, appointment);
  v1::IssueToProcedureRequest req;
  req.set_request_id("start:" + attempt);
  req.set_clinic_id(clinic_a_);
  req.set_appointment_id(appointment);
  req.set_start_attempt_id(attempt);
  req.add_lines()->set_serial("st-1");  // any case: the unit is ST-1
  v1::IssueToProcedureResponse first, replay, refused;
  grpc::Status s = stub_->IssueToProcedure(Ctx(tech_a_).get(), req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.items(0).serial(), "ST-1");
  s = stub_->IssueToProcedure(Ctx(tech_a2).get(), req, &replay);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(replay.entries(0).id(), first.entries(0).id());
  req.mutable_lines(0)->set_serial("ST-2");
  EXPECT_THAT(stub_->IssueToProcedure(Ctx(tech_a2).get(), req, &refused),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "ST-1"));

  v1::ReturnProcedureIssueRequest back;
  back.set_request_id("return-1");
  back.set_clinic_id(clinic_a_);
  back.set_appointment_id(appointment);
  back.set_start_attempt_id(attempt);
  back.set_reason("start failed");
  v1::ReturnProcedureIssueResponse returned;
  EXPECT_THAT(stub_->ReturnProcedureIssue(Ctx(tech_a_).get(), back, &returned),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));

  v1::ListReuseAttemptsRequest attempts_req;
  attempts_req.set_clinic_id(clinic_a_);
  v1::ListReuseAttemptsResponse attempts;
  ASSERT_TRUE(stub_->ListReuseAttempts(Ctx(auditor_).get(), attempts_req, &attempts).ok());
  EXPECT_EQ(attempts.attempts_size(), 0);
  EXPECT_EQ(LedgerSum(clinic_a_, lot.lot().id(), v1::STOCK_BUCKET_AVAILABLE), 1);
}

// Issue 13 over real processes: an issue to another clinic's appointment is refused before
// anything about its units is said.
TEST_F(InventoryIntegrationTest, AnIssueToAnotherClinicsAppointmentIsRefused) {
  Receive(Receipt(clinic_a_, needle_, "N-SCOPE", 1, {"SC-1"}));
  const std::string london = NewId();
  scheduling_->Ensure(clinic_b_, london);
  EXPECT_THAT(IssueSerial(tech_a_, clinic_a_, "SC-1", london),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "scope"));
  EXPECT_THAT(IssueSerial(admin_, clinic_a_, "SC-1", london),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));
  v1::IssueToProcedureRequest unknown;
  unknown.set_request_id("issue-unknown");
  unknown.set_clinic_id(clinic_a_);
  unknown.set_appointment_id(NewId());
  unknown.add_lines()->set_serial("SC-1");
  v1::IssueToProcedureResponse out;
  EXPECT_THAT(stub_->IssueToProcedure(Ctx(tech_a_).get(), unknown, &out),
              GrpcIs(grpc::StatusCode::NOT_FOUND, "appointment"));
  EXPECT_TRUE(IssueSerial(tech_a_, clinic_a_, "SC-1", NewId()).ok());
}

// Inventory follows scheduling's change feed: a procedure's first issue finds where its
// appointment is without asking, and goes through while scheduling is down.
TEST_F(InventoryIntegrationTest, AnIssueToAFollowedAppointmentGoesThroughWhileSchedulingIsDown) {
  Receive(Receipt(clinic_a_, needle_, "N-FEED", 2, {"FD-1", "FD-2"}));
  const std::string followed = NewId();
  scheduling_->Ensure(clinic_a_, followed);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (scheduling_->Served(clinic_a_) < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_GE(scheduling_->Served(clinic_a_), 1) << "inventory never read the change feed";
  const int asked = scheduling_->GetAppointmentCalls();
  EXPECT_TRUE(IssueSerial(tech_a_, clinic_a_, "FD-1", followed).ok());
  EXPECT_EQ(scheduling_->GetAppointmentCalls(), asked);

  scheduling_server_->Shutdown();
  scheduling_server_.reset();
  v1::IssueToProcedureRequest req;
  req.set_request_id("issue-feed-down");
  req.set_clinic_id(clinic_a_);
  req.set_appointment_id(followed);
  req.add_lines()->set_serial("FD-2");
  v1::IssueToProcedureResponse out;
  grpc::Status s = stub_->IssueToProcedure(Ctx(tech_a_).get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // One never seen is still refused as unverifiable, nothing issued.
  req.set_request_id("issue-feed-unknown");
  req.set_appointment_id(NewId());
  EXPECT_THAT(stub_->IssueToProcedure(Ctx(tech_a_).get(), req, &out),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, "scheduling"));
}

TEST_F(InventoryIntegrationTest, ConcurrentIssuesOfOneSerialExactlyOneSucceeds) {
  Receive(Receipt(clinic_a_, needle_, "N-500", 1, {"SN-RACE"}));
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      grpc::Status s = IssueSerial(tech_a_, clinic_a_, "SN-RACE", NewId());
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++refused;
      } else {
        ADD_FAILURE() << s.error_code() << " " << s.error_message();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  v1::ListReuseAttemptsRequest req;
  req.set_clinic_id(clinic_a_);
  v1::ListReuseAttemptsResponse attempts;
  ASSERT_TRUE(stub_->ListReuseAttempts(Ctx(admin_).get(), req, &attempts).ok());
  EXPECT_EQ(attempts.attempts_size(), kThreads - 1);
}

TEST_F(InventoryIntegrationTest, ConcurrentIssuesFromOneLotNeverOversell) {
  const v1::ReceiveStockResponse lot = Receive(Receipt(clinic_a_, pigment_, "P-20", 20));
  constexpr int kThreads = 10, kPerThread = 3;
  std::atomic<int> ok{0}, short_stock{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kPerThread; ++j) {
        grpc::Status s = IssueCount(tech_a_, clinic_a_, lot.lot().id(), 1, NewId());
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                   s.error_message().find("not enough stock") != std::string::npos) {
          ++short_stock;
        } else {
          ADD_FAILURE() << s.error_code() << " " << s.error_message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(short_stock.load(), kThreads * kPerThread - 20);
  const v1::ListStockResponse stock = Stock(clinic_a_);
  EXPECT_EQ(stock.levels_size(), 0);  // empty balances are hidden
  EXPECT_EQ(LedgerSum(clinic_a_, lot.lot().id(), v1::STOCK_BUCKET_AVAILABLE), 0);
}

TEST_F(InventoryIntegrationTest, RecallQuarantinesEverywhereAndFindsEveryUse) {
  const v1::ReceiveStockResponse at_a = Receive(Receipt(clinic_a_, pigment_, "INK-2019", 5));
  const v1::ReceiveStockResponse at_b = Receive(Receipt(clinic_b_, pigment_, "INK-2019", 4));
  ASSERT_EQ(at_a.lot().id(), at_b.lot().id());  // one lot, chain-wide
  const std::string lot = at_a.lot().id();
  const std::string appt1 = NewId(), appt2 = NewId(), appt3 = NewId();
  const std::string patient1 = NewId(), patient2 = NewId();
  ASSERT_TRUE(IssueCount(tech_a_, clinic_a_, lot, 1, appt1, patient1).ok());
  ASSERT_TRUE(IssueCount(tech_a_, clinic_a_, lot, 1, appt2).ok());
  ASSERT_TRUE(IssueCount(tech_b_, clinic_b_, lot, 2, appt3, patient2).ok());

  v1::RecallLotRequest recall;
  recall.set_request_id("recall-ink");
  recall.set_lot_id(lot);
  recall.set_reason("microbial contamination");
  v1::RecallLotResponse recalled;
  grpc::Status s = stub_->RecallLot(Ctx(admin_).get(), recall, &recalled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(recalled.lot().status(), v1::LOT_STATUS_RECALLED);
  ASSERT_EQ(recalled.uses_size(), 3);
  EXPECT_EQ(recalled.uses(0).appointment_id(), appt1);
  EXPECT_EQ(recalled.uses(0).clinic_id(), clinic_a_);
  EXPECT_EQ(recalled.uses(0).patient_id(), patient1);
  EXPECT_EQ(recalled.uses(1).appointment_id(), appt2);
  EXPECT_EQ(recalled.uses(2).appointment_id(), appt3);
  EXPECT_EQ(recalled.uses(2).clinic_id(), clinic_b_);
  EXPECT_EQ(recalled.uses(2).patient_id(), patient2);
  EXPECT_EQ(recalled.uses(2).quantity(), 2);

  for (const auto& [clinic, left] : {std::pair{clinic_a_, 3}, std::pair{clinic_b_, 2}}) {
    const v1::ListStockResponse stock = Stock(clinic);
    ASSERT_EQ(stock.levels_size(), 1);
    EXPECT_EQ(stock.levels(0).available(), 0);
    EXPECT_EQ(stock.levels(0).quarantined(), left);
    EXPECT_EQ(LedgerSum(clinic, lot, v1::STOCK_BUCKET_QUARANTINED), left);
  }
  EXPECT_THAT(IssueCount(tech_a_, clinic_a_, lot, 1, NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "recalled"));
  const absl::Status refused = FromGrpcStatus(IssueCount(tech_a_, clinic_a_, lot, 1, NewId()));
  EXPECT_EQ(ErrorReason(refused), reason::kRecalled);
  EXPECT_EQ(ErrorMetadata(refused, "lot_id"), lot);
  v1::ReceiveStockResponse more;
  EXPECT_THAT(
      stub_->ReceiveStock(Ctx(admin_).get(), Receipt(clinic_a_, pigment_, "INK-2019", 1), &more),
      GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "recalled"));
  // A clinic's technician sees only the uses at their clinic.
  v1::ListLotUsesRequest uses_req;
  uses_req.set_lot_id(lot);
  v1::ListLotUsesResponse uses;
  ASSERT_TRUE(stub_->ListLotUses(Ctx(tech_b_).get(), uses_req, &uses).ok());
  ASSERT_EQ(uses.uses_size(), 1);
  EXPECT_EQ(uses.uses(0).appointment_id(), appt3);
}

TEST_F(InventoryIntegrationTest, SuggestsFirstExpiryFirstOutAndRetriesAreIdempotent) {
  v1::ReceiveStockRequest late = Receipt(clinic_a_, pigment_, "LATE", 5);
  *late.mutable_expiry_date() = DaysFromNow(300);
  v1::ReceiveStockRequest soon = Receipt(clinic_a_, pigment_, "SOON", 2);
  *soon.mutable_expiry_date() = DaysFromNow(30);
  v1::ReceiveStockRequest too_soon = Receipt(clinic_a_, pigment_, "TOO-SOON", 9);
  *too_soon.mutable_expiry_date() = DaysFromNow(5);
  const v1::ReceiveStockResponse first = Receive(late);
  Receive(late);  // the same request_id again: the first response, no second receipt
  Receive(soon);
  Receive(too_soon);

  v1::SuggestLotsRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_product_id(pigment_);
  req.set_quantity(4);
  *req.mutable_procedure_date() = DaysFromNow(10);
  v1::SuggestLotsResponse out;
  grpc::Status s = stub_->SuggestLots(Ctx(tech_a_).get(), req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(out.suggestions_size(), 2);
  EXPECT_EQ(out.suggestions(0).lot().lot_number(), "SOON");
  EXPECT_EQ(out.suggestions(0).quantity(), 2);
  EXPECT_EQ(out.suggestions(1).lot().lot_number(), "LATE");
  EXPECT_EQ(out.suggestions(1).quantity(), 2);
  EXPECT_EQ(out.quantity_covered(), 4);
  const v1::ListStockResponse stock = Stock(clinic_a_);
  for (const v1::StockLevel& level : stock.levels()) {
    if (level.lot_id() == first.lot().id()) {
      EXPECT_EQ(level.available(), 5);
    }
  }
}

int64_t Total(const v1::ListStockResponse& stock, const std::string& lot) {
  int64_t total = 0;
  for (const v1::StockLevel& l : stock.levels()) {
    if (l.lot_id() == lot) total += l.available() + l.quarantined() + l.in_transit();
  }
  return total;
}

const v1::StockLevel* LevelOf(const v1::ListStockResponse& stock, const std::string& lot) {
  for (const v1::StockLevel& l : stock.levels()) {
    if (l.lot_id() == lot) return &l;
  }
  return nullptr;
}

TEST_F(InventoryIntegrationTest, TransferInTransitIsVisibleAndCountedOnce) {
  const std::string pig = Receive(Receipt(clinic_a_, pigment_, "T-1", 10)).lot().id();
  const std::string ndl =
      Receive(Receipt(clinic_a_, needle_, "T-2", 3, {"TR-1", "TR-2", "TR-3"})).lot().id();
  v1::ShipTransferRequest ship;
  ship.set_request_id("ship-1");
  ship.set_source_clinic_id(clinic_a_);
  ship.set_destination_clinic_id(clinic_b_);
  ship.add_lines()->set_lot_id(pig);
  ship.mutable_lines(0)->set_quantity(4);
  ship.add_serials("TR-1");
  ship.add_serials("TR-2");
  v1::Transfer shipped;
  grpc::Status s = stub_->ShipTransfer(Ctx(stock_a_).get(), ship, &shipped);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(shipped.status(), v1::TRANSFER_STATUS_SHIPPED);

  auto check_totals = [&] {
    const v1::ListStockResponse a = Stock(clinic_a_), b = Stock(clinic_b_);
    EXPECT_EQ(Total(a, pig) + Total(b, pig), 10);
    EXPECT_EQ(Total(a, ndl) + Total(b, ndl), 3);
    for (const std::string& clinic : {clinic_a_, clinic_b_}) {
      const v1::ListStockResponse stock = Stock(clinic);
      for (const std::string& lot : {pig, ndl}) {
        const v1::StockLevel* l = LevelOf(stock, lot);
        const int64_t avail = l ? l->available() : 0, transit = l ? l->in_transit() : 0;
        EXPECT_EQ(LedgerSum(clinic, lot, v1::STOCK_BUCKET_AVAILABLE), avail);
        EXPECT_EQ(LedgerSum(clinic, lot, v1::STOCK_BUCKET_IN_TRANSIT), transit);
      }
    }
  };
  {
    const v1::ListStockResponse a = Stock(clinic_a_), b = Stock(clinic_b_);
    ASSERT_NE(LevelOf(a, pig), nullptr);
    EXPECT_EQ(LevelOf(a, pig)->available(), 6);
    EXPECT_EQ(LevelOf(a, ndl)->available(), 1);
    ASSERT_NE(LevelOf(b, pig), nullptr);
    EXPECT_EQ(LevelOf(b, pig)->available(), 0);
    EXPECT_EQ(LevelOf(b, pig)->in_transit(), 4);
    EXPECT_EQ(LevelOf(b, ndl)->in_transit(), 2);
  }
  check_totals();
  EXPECT_THAT(IssueSerial(tech_b_, clinic_b_, "TR-1", NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "in transit"));
  EXPECT_THAT(IssueCount(tech_b_, clinic_b_, pig, 1, NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "not enough stock"));

  v1::ListTransfersRequest list;
  list.set_clinic_id(clinic_b_);
  v1::ListTransfersResponse transfers;
  ASSERT_TRUE(stub_->ListTransfers(Ctx(tech_b_).get(), list, &transfers).ok());
  ASSERT_EQ(transfers.transfers_size(), 1);
  EXPECT_EQ(transfers.transfers(0).id(), shipped.id());

  v1::ReceiveTransferRequest receive;
  receive.set_request_id("receive-1");
  receive.set_id(shipped.id());
  receive.set_etag(shipped.etag());
  v1::Transfer received;
  EXPECT_THAT(stub_->ReceiveTransfer(Ctx(stock_a_).get(), receive, &received),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "clinic scope"));
  s = stub_->ReceiveTransfer(Ctx(admin_).get(), receive, &received);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(received.status(), v1::TRANSFER_STATUS_RECEIVED);
  receive.set_request_id("receive-2");
  receive.set_etag(received.etag());
  EXPECT_THAT(stub_->ReceiveTransfer(Ctx(admin_).get(), receive, &received),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "already received"));
  {
    const v1::ListStockResponse b = Stock(clinic_b_);
    EXPECT_EQ(LevelOf(b, pig)->available(), 4);
    EXPECT_EQ(LevelOf(b, pig)->in_transit(), 0);
    EXPECT_EQ(LevelOf(b, ndl)->available(), 2);
  }
  check_totals();
  EXPECT_TRUE(IssueSerial(tech_b_, clinic_b_, "TR-1", NewId()).ok());
  EXPECT_TRUE(IssueCount(tech_b_, clinic_b_, pig, 4, NewId()).ok());
}

TEST_F(InventoryIntegrationTest, LowStockListFollowsReorderPoints) {
  v1::SetReorderPointRequest set;
  set.set_request_id("reorder-1");
  set.mutable_point()->set_clinic_id(clinic_a_);
  set.mutable_point()->set_product_id(pigment_);
  set.mutable_point()->set_reorder_level(5);
  set.mutable_point()->set_reorder_quantity(20);
  v1::ReorderPoint point;
  EXPECT_THAT(stub_->SetReorderPoint(Ctx(auditor_).get(), set, &point),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  ASSERT_TRUE(stub_->SetReorderPoint(Ctx(stock_a_).get(), set, &point).ok());
  Receive(Receipt(clinic_a_, pigment_, "LOW-1", 3));
  v1::ListLowStockRequest req;
  req.set_clinic_id(clinic_a_);
  v1::ListLowStockResponse low;
  ASSERT_TRUE(stub_->ListLowStock(Ctx(tech_a_).get(), req, &low).ok());
  ASSERT_EQ(low.items_size(), 1);
  EXPECT_EQ(low.items(0).available(), 3);
  EXPECT_EQ(low.items(0).point().reorder_quantity(), 20);
  // A watcher gets the list now and again when it changes.
  auto watch_ctx = Ctx(tech_a_);
  std::unique_ptr<grpc::ClientReader<v1::ListLowStockResponse>> watch =
      stub_->WatchLowStock(watch_ctx.get(), req);
  v1::ListLowStockResponse update;
  ASSERT_TRUE(watch->Read(&update));
  ASSERT_EQ(update.items_size(), 1);
  EXPECT_EQ(update.items(0).available(), 3);

  Receive(Receipt(clinic_a_, pigment_, "LOW-2", 5));
  low.Clear();
  ASSERT_TRUE(stub_->ListLowStock(Ctx(tech_a_).get(), req, &low).ok());
  EXPECT_EQ(low.items_size(), 0);
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.items_size(), 0);
  watch_ctx->TryCancel();
  watch->Finish();

  // Another clinic's technician cannot watch this clinic.
  auto other_ctx = Ctx(tech_b_);
  auto other = stub_->WatchLowStock(other_ctx.get(), req);
  EXPECT_FALSE(other->Read(&update));
  EXPECT_EQ(other->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(InventoryIntegrationTest, ForecastAndReconciliationNeedSchedulingAndNeverGuess) {
  // Without scheduling configured: no forecast, and no issue either (its clinic is unverified).
  StartInventory({});
  v1::ForecastDemandRequest forecast;
  forecast.set_clinic_id(clinic_a_);
  forecast.set_weeks(4);
  v1::ForecastDemandResponse demand;
  EXPECT_THAT(stub_->ForecastDemand(Ctx(stock_a_).get(), forecast, &demand),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, "scheduling"));
  EXPECT_THAT(IssueSerial(tech_a_, clinic_a_, "F-SN-0", NewId()),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, "scheduling"));

  StartInventory(scheduling_flags_);
  FakeScheduling& scheduling = *scheduling_;

  // History: needles to two procedures (one never recorded as performed), pigment to one.
  const std::string pig = Receive(Receipt(clinic_a_, pigment_, "F-1", 10)).lot().id();
  Receive(Receipt(clinic_a_, needle_, "F-2", 4, {"F-SN-1", "F-SN-2", "F-SN-3", "F-SN-4"}));
  const std::string done = NewId(), unrecorded = NewId(), no_needles = NewId();
  ASSERT_TRUE(IssueSerial(tech_a_, clinic_a_, "F-SN-1", done).ok());
  ASSERT_TRUE(IssueSerial(tech_a_, clinic_a_, "F-SN-2", done).ok());
  ASSERT_TRUE(IssueSerial(tech_a_, clinic_a_, "F-SN-3", unrecorded).ok());
  ASSERT_TRUE(IssueCount(tech_a_, clinic_a_, pig, 1, done).ok());

  absl::TimeZone new_york;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &new_york));
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), new_york);
  const absl::Time early_today = absl::FromCivil(today, new_york) + absl::Minutes(1);
  scheduling.Add(clinic_a_, done, sv1::TREATMENT_SESSION, sv1::FULFILLED, early_today);
  scheduling.Add(clinic_a_, no_needles, sv1::TOUCH_UP, sv1::FULFILLED, early_today);
  for (int i = 0; i < 3; ++i) {
    scheduling.Add(clinic_a_, NewId(), sv1::TREATMENT_SESSION, sv1::BOOKED,
                   absl::Now() + absl::Hours(24 * (i + 1)));
  }
  scheduling.Add(clinic_a_, NewId(), sv1::CONSULTATION, sv1::BOOKED, absl::Now() + absl::Hours(30));
  scheduling.Add(clinic_b_, NewId(), sv1::TREATMENT_SESSION, sv1::BOOKED,
                 absl::Now() + absl::Hours(30));

  grpc::Status s = stub_->ForecastDemand(Ctx(stock_a_).get(), forecast, &demand);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(demand.booked_sessions(), 3);
  EXPECT_EQ(demand.history_procedures(), 2);
  ASSERT_EQ(demand.demands_size(), 2);
  for (const v1::ProductDemand& d : demand.demands()) {
    if (d.product_id() == needle_) {
      EXPECT_EQ(d.expected_units(), 5);  // 3 units over 2 procedures, times 3 booked, rounded up
      EXPECT_EQ(d.on_hand(), 1);
      EXPECT_EQ(d.suggested_order(), 4);
    } else {
      EXPECT_EQ(d.product_id(), pigment_);
      EXPECT_EQ(d.expected_units(), 2);
      EXPECT_EQ(d.on_hand(), 9);
      EXPECT_EQ(d.suggested_order(), 0);
    }
  }

  v1::ReconcileDayRequest reconcile;
  reconcile.set_clinic_id(clinic_a_);
  reconcile.mutable_date()->set_year(static_cast<int32_t>(today.year()));
  reconcile.mutable_date()->set_month(today.month());
  reconcile.mutable_date()->set_day(today.day());
  v1::ReconcileDayResponse day;
  s = stub_->ReconcileDay(Ctx(auditor_).get(), reconcile, &day);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(day.needle_units_issued(), 3);
  EXPECT_EQ(day.procedures_recorded(), 2);
  ASSERT_EQ(day.findings_size(), 2);
  std::set<std::string> flagged;
  for (const auto& f : day.findings()) flagged.insert(f.appointment_id());
  EXPECT_EQ(flagged, (std::set<std::string>{unrecorded, no_needles}));

  // Scheduling going away: UNAVAILABLE again, never a guess.
  scheduling_server_->Shutdown();
  scheduling_server_.reset();
  EXPECT_THAT(stub_->ForecastDemand(Ctx(stock_a_).get(), forecast, &demand),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, "scheduling cannot answer"));
}

namespace bottles {

common::v1::LocalDate LocalDaysFromNow(const char* zone_name, int days) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(zone_name, &zone));
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), zone) + days;
  common::v1::LocalDate d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

}  // namespace bottles

// Opening a bottle takes one unit out of stock (the ledger still sums to the stock); the bottle is
// usable through the earlier of the lot's expiry and the opened shelf life; issuing from it is
// recorded, so the lot's recall finds the patient; the recall quarantines the bottle.
TEST_F(InventoryIntegrationTest, BottleOpenIssueRecallFindsTheUse) {
  v1::CreateProductRequest short_life;
  short_life.set_request_id("product-short-life");
  short_life.mutable_product()->set_name("Soft Black 15 ml");
  short_life.mutable_product()->set_unit(v1::UNIT_OF_MEASURE_BOTTLE);
  short_life.mutable_product()->mutable_pigment()->set_brand("Acme");
  short_life.mutable_product()->mutable_pigment()->set_shade("Soft Black");
  short_life.mutable_product()->mutable_pigment()->set_opened_shelf_life_days(30);
  v1::Product product;
  ASSERT_TRUE(stub_->CreateProduct(Ctx(stock_a_).get(), short_life, &product).ok());
  const std::string lot = Receive(Receipt(clinic_a_, product.id(), "BOT-1", 3)).lot().id();
  Receive(Receipt(clinic_b_, product.id(), "BOT-1", 2));
  const v1::ReceiveStockResponse long_receipt = Receive(Receipt(clinic_a_, pigment_, "BOT-2", 1));
  const std::string long_lot = long_receipt.lot().id();
  const std::string only_at_a = Receive(Receipt(clinic_a_, pigment_, "BOT-3", 1)).lot().id();

  v1::OpenBottleResponse opened;
  grpc::Status s = OpenBottle(tech_a_, clinic_a_, lot, &opened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string bottle = opened.bottle().id();
  EXPECT_EQ(opened.bottle().state(), v1::BOTTLE_STATE_OPEN);
  EXPECT_EQ(opened.bottle().lot_id(), lot);
  EXPECT_EQ(opened.bottle().clinic_id(), clinic_a_);
  // 30 days of opened shelf life end before the lot's expiry (200 days).
  EXPECT_EQ(opened.bottle().use_by_date().DebugString(),
            bottles::LocalDaysFromNow("America/New_York", 30).DebugString());
  EXPECT_EQ(opened.entry().kind(), v1::LEDGER_ENTRY_KIND_OPEN_BOTTLE);
  EXPECT_EQ(opened.entry().quantity_delta(), -1);
  // The other product's 365 days end after its lot's expiry: the lot's expiry wins.
  v1::OpenBottleResponse opened_long;
  ASSERT_TRUE(OpenBottle(tech_a_, clinic_a_, long_lot, &opened_long).ok());
  EXPECT_EQ(opened_long.bottle().use_by_date().DebugString(),
            long_receipt.lot().expiry_date().DebugString());
  // Its lot is empty now: no second bottle.
  v1::OpenBottleResponse none;
  EXPECT_THAT(OpenBottle(tech_a_, clinic_a_, long_lot, &none),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "not enough stock"));
  ASSERT_TRUE(CloseBottle(tech_a_, opened_long.bottle().id(), v1::BOTTLE_STATE_FINISHED).ok());
  EXPECT_THAT(IssueBottle(tech_a_, clinic_a_, opened_long.bottle().id(), NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "finished"));

  const v1::ListStockResponse before = Stock(clinic_a_);
  for (const v1::StockLevel& level : before.levels()) {
    if (level.lot_id() == lot) {
      EXPECT_EQ(level.available(), 2);
    }
  }
  EXPECT_EQ(LedgerSum(clinic_a_, lot, v1::STOCK_BUCKET_AVAILABLE), 2);

  const std::string appt = NewId(), patient = NewId();
  v1::IssueToProcedureResponse issued;
  s = IssueBottle(tech_a_, clinic_a_, bottle, appt, patient, &issued);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(issued.bottles_size(), 1);
  EXPECT_EQ(issued.bottles(0).id(), bottle);
  EXPECT_EQ(issued.entries_size(), 0);  // the bottle left stock when opened
  EXPECT_EQ(LedgerSum(clinic_a_, lot, v1::STOCK_BUCKET_AVAILABLE), 2);
  // A bottle is used where it was opened; a lot held elsewhere cannot be opened here.
  EXPECT_THAT(IssueBottle(tech_b_, clinic_b_, bottle, NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "held at clinic"));
  EXPECT_THAT(OpenBottle(tech_b_, clinic_b_, only_at_a, &none),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "1 held at other clinics"));
  // A clinic-scoped technician cannot open at another clinic.
  EXPECT_THAT(OpenBottle(tech_b_, clinic_a_, lot, &none),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));

  v1::ListOpenBottlesResponse listed = Bottles(clinic_a_);
  ASSERT_EQ(listed.bottles_size(), 1);  // the finished one is closed
  EXPECT_EQ(listed.bottles(0).id(), bottle);
  EXPECT_FALSE(listed.bottles(0).expired());

  v1::RecallLotRequest recall;
  recall.set_request_id("recall-bottle");
  recall.set_lot_id(lot);
  recall.set_reason("microbial contamination");
  v1::RecallLotResponse recalled;
  s = stub_->RecallLot(Ctx(admin_).get(), recall, &recalled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(recalled.uses_size(), 1);
  EXPECT_EQ(recalled.uses(0).appointment_id(), appt);
  EXPECT_EQ(recalled.uses(0).patient_id(), patient);
  EXPECT_EQ(recalled.uses(0).clinic_id(), clinic_a_);
  ASSERT_EQ(recalled.uses(0).bottle_ids_size(), 1);
  EXPECT_EQ(recalled.uses(0).bottle_ids(0), bottle);
  v1::ListLotUsesRequest uses_req;
  uses_req.set_lot_id(lot);
  v1::ListLotUsesResponse uses;
  ASSERT_TRUE(stub_->ListLotUses(Ctx(auditor_).get(), uses_req, &uses).ok());
  ASSERT_EQ(uses.uses_size(), 1);
  EXPECT_EQ(uses.uses(0).patient_id(), patient);

  listed = Bottles(clinic_a_);
  ASSERT_EQ(listed.bottles_size(), 1);
  EXPECT_EQ(listed.bottles(0).state(), v1::BOTTLE_STATE_QUARANTINED);
  EXPECT_THAT(IssueBottle(tech_a_, clinic_a_, bottle, NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "quarantined"));
  EXPECT_THAT(OpenBottle(tech_a_, clinic_a_, lot, &none),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "recalled"));
  EXPECT_THAT(CloseBottle(tech_a_, bottle, v1::BOTTLE_STATE_FINISHED),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "quarantined"));
  ASSERT_TRUE(CloseBottle(tech_a_, bottle, v1::BOTTLE_STATE_DISCARDED).ok());
  EXPECT_EQ(Bottles(clinic_a_).bottles_size(), 0);
  EXPECT_THAT(CloseBottle(tech_a_, bottle, v1::BOTTLE_STATE_DISCARDED),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "discarded"));
  // The recall quarantined what was left; stock still equals the ledger.
  const v1::ListStockResponse after = Stock(clinic_a_);
  for (const v1::StockLevel& level : after.levels()) {
    if (level.lot_id() == lot) {
      EXPECT_EQ(level.quarantined(), 2);
    }
  }
  EXPECT_EQ(LedgerSum(clinic_a_, lot, v1::STOCK_BUCKET_QUARANTINED), 2);
  EXPECT_EQ(LedgerSum(clinic_a_, lot, v1::STOCK_BUCKET_AVAILABLE), 0);
}

// A bottle past its use-by date in the clinic's calendar is refused. The test has no clock to
// move, so it moves the clinic instead: the bottle is opened on its lot's expiry day in Pago Pago
// (UTC-11), then identity (the one source of clinics' zones) moves the clinic to Kiritimati
// (UTC+14), where it is always at least the next day, and inventory follows it.
TEST_F(InventoryIntegrationTest, ExpiredBottleIsRefused) {
  // Inventory's service account (in scheduling_flags_) also reads clinics' zones from identity.
  std::vector<std::string> flags = scheduling_flags_;
  flags.push_back("--clinic_zone_refresh=100ms");
  StartInventory(flags);
  const std::string clinic = harness_.MakeClinic("PagoPago", "Pacific/Pago_Pago");
  v1::UpdateClinicInventorySettingsRequest settings;
  settings.set_request_id("settings-pago");
  settings.mutable_settings()->set_clinic_id(clinic);
  v1::ClinicInventorySettings saved;
  grpc::Status s = stub_->UpdateClinicInventorySettings(Ctx(admin_).get(), settings, &saved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(saved.time_zone(), "Pacific/Pago_Pago");
  v1::ReceiveStockRequest receipt = Receipt(clinic, pigment_, "LAST-DAY", 2);
  *receipt.mutable_expiry_date() = bottles::LocalDaysFromNow("Pacific/Pago_Pago", 0);
  const std::string lot = Receive(receipt).lot().id();
  v1::OpenBottleResponse opened;
  s = OpenBottle(admin_, clinic, lot, &opened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(opened.bottle().use_by_date().DebugString(), receipt.expiry_date().DebugString());
  // Usable on its use-by day.
  ASSERT_TRUE(IssueBottle(admin_, clinic, opened.bottle().id(), NewId()).ok());

  identity::v1::GetClinicRequest get;
  get.set_id(clinic);
  identity::v1::Clinic at_identity;
  ASSERT_TRUE(harness_.stub().GetClinic(Ctx(admin_).get(), get, &at_identity).ok());
  identity::v1::UpdateClinicRequest move;
  move.set_request_id("move-kiritimati");
  *move.mutable_clinic() = at_identity;
  move.mutable_clinic()->set_time_zone("Pacific/Kiritimati");
  move.mutable_update_mask()->add_paths("time_zone");
  s = harness_.stub().UpdateClinic(Ctx(admin_).get(), move, &at_identity);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetClinicInventorySettingsRequest read;
  read.set_clinic_id(clinic);
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(stub_->GetClinicInventorySettings(Ctx(admin_).get(), read, &saved).ok());
  } while (saved.time_zone() != "Pacific/Kiritimati" && absl::Now() < deadline);
  ASSERT_EQ(saved.time_zone(), "Pacific/Kiritimati");
  const v1::ListOpenBottlesResponse listed = Bottles(clinic);
  ASSERT_EQ(listed.bottles_size(), 1);
  EXPECT_TRUE(listed.bottles(0).expired());
  EXPECT_THAT(IssueBottle(admin_, clinic, opened.bottle().id(), NewId()),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "use-by date"));
  v1::OpenBottleResponse none;
  EXPECT_THAT(OpenBottle(admin_, clinic, lot, &none),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "expired"));
  EXPECT_EQ(LedgerSum(clinic, lot, v1::STOCK_BUCKET_AVAILABLE), 1);
}

TEST_F(InventoryIntegrationTest, BottleBadInputsAreInvalidArgumentAndStoreNothing) {
  const std::string needle_lot =
      Receive(Receipt(clinic_a_, needle_, "N-PLAIN", 4, {"NP-1", "NP-2", "NP-3", "NP-4"}))
          .lot()
          .id();
  v1::OpenBottleResponse none;
  EXPECT_THAT(OpenBottle(tech_a_, clinic_a_, "not-an-id", &none),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "lot_id"));
  EXPECT_THAT(OpenBottle(tech_a_, clinic_a_, NewId(), &none),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "lot_id"));
  EXPECT_THAT(OpenBottle(tech_a_, "not-an-id", needle_lot, &none),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"));
  EXPECT_THAT(OpenBottle(admin_, "not-an-id", needle_lot, &none),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));
  EXPECT_THAT(OpenBottle(admin_, NewId(), needle_lot, &none),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));
  EXPECT_THAT(OpenBottle(tech_a_, clinic_a_, needle_lot, &none),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "not a pigment"));
  EXPECT_THAT(IssueBottle(tech_a_, clinic_a_, "not-an-id", NewId()),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "bottle_id"));
  EXPECT_THAT(IssueBottle(tech_a_, clinic_a_, NewId(), NewId()),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "bottle_id"));
  v1::IssueToProcedureRequest twice;
  twice.set_request_id("issue-twice");
  twice.set_clinic_id(clinic_a_);
  twice.set_appointment_id(NewId());
  const std::string id = NewId();
  twice.add_lines()->set_bottle_id(id);
  twice.add_lines()->set_bottle_id(id);
  v1::IssueToProcedureResponse issued;
  EXPECT_THAT(stub_->IssueToProcedure(Ctx(tech_a_).get(), twice, &issued),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "lines[1].bottle_id"));
  EXPECT_THAT(CloseBottle(tech_a_, NewId(), v1::BOTTLE_STATE_OPEN),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "state"));
  EXPECT_THAT(CloseBottle(tech_a_, NewId(), v1::BOTTLE_STATE_UNSPECIFIED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "state"));
  EXPECT_THAT(CloseBottle(tech_a_, NewId(), v1::BOTTLE_STATE_FINISHED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "bottle_id"));
  EXPECT_THAT(CloseBottle(tech_a_, "not-an-id", v1::BOTTLE_STATE_FINISHED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "bottle_id"));
  v1::ListOpenBottlesRequest list;
  list.set_clinic_id("not-an-id");
  v1::ListOpenBottlesResponse listed;
  EXPECT_THAT(stub_->ListOpenBottles(Ctx(admin_).get(), list, &listed),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));

  // Nothing was stored: no bottle, the needle lot untouched, only the receipt in the ledger.
  EXPECT_EQ(Bottles(clinic_a_).bottles_size(), 0);
  const v1::ListStockResponse stock = Stock(clinic_a_);
  ASSERT_EQ(stock.levels_size(), 1);
  EXPECT_EQ(stock.levels(0).available(), 4);
  v1::ListLedgerEntriesRequest ledger;
  ledger.set_clinic_id(clinic_a_);
  v1::ListLedgerEntriesResponse entries;
  ASSERT_TRUE(stub_->ListLedgerEntries(Ctx(admin_).get(), ledger, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 1);
  EXPECT_EQ(entries.entries(0).kind(), v1::LEDGER_ENTRY_KIND_RECEIVE);
}

}  // namespace
}  // namespace smp::inventory
