#ifndef SMP_SERVICES_INVENTORY_INVENTORY_TEST_ENV_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_TEST_ENV_H_
// Test-only: the fixture the operation units' in-process tests share. A new database of the test
// backend (SMP_TEST_BACKEND: SQLite, or PostgreSQL) with inventory's migrations, two clinics (A and
// B, Europe/London) with settings, a fixed "now", callers built with common/rpc/testing/calls.h,
// and helpers that create products and receive stock through the operations themselves.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/catalog.h"
#include "services/inventory/inventory_migrations.h"
#include "services/inventory/receiving.h"

namespace smp::inventory {

// Scheduling as inventory sees it: a fixed list of appointments (listed by the forecast and the
// reconciliation, looked up by an issue), or UNAVAILABLE when `down`.
class FakeAppointments final : public AppointmentSource, public AppointmentChanges {
 public:
  absl::StatusOr<std::vector<ProcedureAppointment>> ListProcedures(const std::string& clinic_id,
                                                                   absl::Time from,
                                                                   absl::Time to) override {
    asked_clinic = clinic_id;
    if (down) return absl::UnavailableError("scheduling is down");
    std::vector<ProcedureAppointment> out;
    for (const ProcedureAppointment& a : procedures) {
      if (a.start >= from && a.start < to) out.push_back(a);
    }
    return out;
  }
  absl::StatusOr<AppointmentPlace> PlaceAppointment(const std::string& id) override {
    ++placed;
    if (down) return absl::UnavailableError("scheduling is down");
    for (const ProcedureAppointment& a : procedures) {
      if (a.appointment_id == id)
        return AppointmentPlace{a.appointment_id, a.clinic_id, a.patient_id};
    }
    return absl::NotFoundError(absl::StrCat("appointment_id: no appointment ", id));
  }
  // A clinic's change feed: one change per appointment added there, sequence 1, 2, 3...
  absl::StatusOr<PlacesPage> ListPlaces(const std::string& clinic_id, int64_t since,
                                        int page_size) override {
    ++listed;
    if (down) return absl::UnavailableError("scheduling is down");
    PlacesPage page;
    page.last_sequence = since;
    int64_t sequence = 0;
    for (const ProcedureAppointment& a : procedures) {
      if (a.clinic_id != clinic_id) continue;
      ++sequence;
      if (sequence <= since || static_cast<int>(page.places.size()) >= page_size) continue;
      page.places.push_back(AppointmentPlace{a.appointment_id, a.clinic_id, a.patient_id});
      page.last_sequence = sequence;
    }
    page.head_sequence = sequence;
    return page;
  }
  // Adds a treatment session of `patient` at `clinic` long ago (outside any forecast window), for
  // issues; returns its id.
  std::string Add(const std::string& clinic, const std::string& patient = "") {
    ProcedureAppointment a;
    a.appointment_id = NewId();
    a.clinic_id = clinic;
    a.patient_id = patient;
    a.type = scheduling::v1::TREATMENT_SESSION;
    a.status = scheduling::v1::IN_PROGRESS;
    a.start = absl::UnixEpoch();
    procedures.push_back(a);
    return a.appointment_id;
  }

  std::vector<ProcedureAppointment> procedures;
  bool down = false;
  std::string asked_clinic;    // the clinic of the last question
  std::atomic<int> placed{0};  // PlaceAppointment calls (issues run on several threads)
  int listed = 0;              // ListPlaces calls
};

class InventoryUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, ::smp::testing::OpenNewTestDatabase());
    ASSERT_OK(ApplyMigrations(*db_, InventoryMigrations(), now_));
    for (const std::string& clinic : {clinic_a_, clinic_b_}) {
      v1::UpdateClinicInventorySettingsRequest req;
      req.set_request_id(NewId());
      req.mutable_settings()->set_clinic_id(clinic);
      req.mutable_settings()->set_time_zone("Europe/London");
      ASSERT_OK(Catalog(db_.get())
                    .UpdateSettings(Staff(clinic, "UpdateClinicInventorySettings"), req)
                    .status());
    }
  }

  // An inventory staff member of `clinic` calling `method` now.
  Call Staff(const std::string& clinic, const std::string& method) const {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_INVENTORY_STAFF}, {clinic}, "staff-" + clinic),
        now_, method);
  }
  // An admin (chain-wide) calling `method` now; the acting permission is set as the frame would.
  Call Admin(const std::string& method,
             common::v1::Permission acting = common::v1::PERMISSION_INVENTORY_WRITE) const {
    Call call = smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_ADMIN}, {}, "admin-1"),
                                     now_, method);
    call.who.acting_permission = acting;
    return call;
  }
  // A technician of `clinic` calling `method` now.
  Call Technician(const std::string& clinic, const std::string& method) const {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic}, "tech-" + clinic), now_,
        method);
  }

  v1::Product CreateProduct(v1::Product product) {
    v1::CreateProductRequest req;
    req.set_request_id(NewId());
    *req.mutable_product() = std::move(product);
    absl::StatusOr<v1::Product> out =
        Catalog(db_.get()).CreateProduct(Staff(clinic_a_, "CreateProduct"), req);
    EXPECT_OK(out.status());
    return out.value_or(v1::Product());
  }
  static v1::Product NeedleSpec() {
    v1::Product p;
    p.set_name("3RL 0.30");
    p.set_unit(v1::UNIT_OF_MEASURE_EACH);
    p.set_single_use(true);
    p.mutable_needle_cartridge()->set_configuration("3RL");
    p.mutable_needle_cartridge()->set_needle_diameter_um(300);
    return p;
  }
  static v1::Product PigmentSpec(int shelf_life_days = 365) {
    v1::Product p;
    p.set_name("Dark Espresso");
    p.set_unit(v1::UNIT_OF_MEASURE_EACH);
    p.mutable_pigment()->set_brand("Acme");
    p.mutable_pigment()->set_shade("Dark Espresso");
    p.mutable_pigment()->set_opened_shelf_life_days(shelf_life_days);
    return p;
  }
  static v1::Product ConsumableSpec() {
    v1::Product p;
    p.set_name("Gloves");
    p.set_unit(v1::UNIT_OF_MEASURE_EACH);
    p.mutable_consumable()->set_description("nitrile gloves");
    return p;
  }

  static v1::ReceiveStockRequest Receipt(const std::string& clinic, const std::string& product,
                                         const std::string& lot_number, int64_t quantity,
                                         absl::CivilDay expiry = absl::CivilDay(2028, 1, 31),
                                         std::vector<std::string> serials = {}) {
    v1::ReceiveStockRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_product_id(product);
    req.set_lot_number(lot_number);
    *req.mutable_expiry_date() = ToLocalDate(expiry);
    req.set_quantity(quantity);
    for (std::string& s : serials) req.add_serials(std::move(s));
    return req;
  }
  // Receives stock through the receiving unit; the lot received.
  v1::Lot Receive(const v1::ReceiveStockRequest& req) {
    absl::StatusOr<v1::ReceiveStockResponse> out =
        Receiving(db_.get()).Receive(Staff(req.clinic_id(), "ReceiveStock"), req);
    EXPECT_OK(out.status());
    return out.ok() ? out->lot() : v1::Lot();
  }

  std::unique_ptr<Database> db_;
  // Scheduling: issues look their appointments up here (Add one first).
  FakeAppointments appointments_;
  // 2027-03-10 12:00 UTC (noon in London).
  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2027, 3, 10, 12, 0, 0), absl::UTCTimeZone());
  std::string clinic_a_ = NewId();
  std::string clinic_b_ = NewId();
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_TEST_ENV_H_
