// A clinic's time zone has one source, identity: scheduling and inventory, real processes with
// their service accounts, take it from identity when a clinic is set up, follow identity when it
// changes (the refresh task), and keep the last known zone while identity is down.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp {
namespace {

using ::smp::testing::CallContext;
using ::smp::testing::IdentityHarness;
using ::smp::testing::ServiceProcess;

class ClinicZoneIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    admin_ = harness_.admin_token();
    clinic_ = harness_.MakeClinic("Auckland", "Pacific/Auckland");
    std::vector<std::string> sched_args = {"--data_dir=" + smp::testing::MakeTempDir("zone-sched"),
                                           harness_.RedisFlag(), "--clinic_zone_refresh=200ms"};
    for (const std::string& f : harness_.MakeServiceAccount("svc.scheduling")) {
      sched_args.push_back(f);
    }
    ASSERT_OK_AND_ASSIGN(scheduling_, ServiceProcess::Start(SMP_SCHEDULING_BINARY, sched_args));
    std::vector<std::string> inv_args = {"--data_dir=" + smp::testing::MakeTempDir("zone-inv"),
                                         harness_.RedisFlag(), "--clinic_zone_refresh=200ms"};
    for (const std::string& f : harness_.MakeServiceAccount("svc.inventory")) {
      inv_args.push_back(f);
    }
    ASSERT_OK_AND_ASSIGN(inventory_, ServiceProcess::Start(SMP_INVENTORY_BINARY, inv_args));
    scheduling_stub_ = scheduling::v1::SchedulingService::NewStub(
        grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
    inventory_stub_ = inventory::v1::InventoryService::NewStub(
        grpc::CreateChannel(inventory_->address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status UpdateSchedule(const std::string& request_id, const std::string& etag,
                              const std::string& zone, int buffer_minutes,
                              scheduling::v1::ClinicSchedule* out) {
    scheduling::v1::UpdateClinicScheduleRequest req;
    req.set_request_id(request_id);
    req.mutable_schedule()->set_clinic_id(clinic_);
    req.mutable_schedule()->set_etag(etag);
    req.mutable_schedule()->set_time_zone(zone);
    req.mutable_schedule()->mutable_buffer_after()->set_seconds(buffer_minutes * 60);
    for (int day = 1; day <= 7; ++day) {
      scheduling::v1::WeeklyInterval* w = req.mutable_schedule()->add_opening_hours();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(8);
      w->mutable_end_time()->set_hours(20);
    }
    return scheduling_stub_->UpdateClinicSchedule(CallContext(admin_).get(), req, out);
  }

  grpc::Status UpdateSettings(const std::string& request_id, const std::string& etag,
                              const std::string& zone,
                              inventory::v1::ClinicInventorySettings* out) {
    inventory::v1::UpdateClinicInventorySettingsRequest req;
    req.set_request_id(request_id);
    req.mutable_settings()->set_clinic_id(clinic_);
    req.mutable_settings()->set_etag(etag);
    req.mutable_settings()->set_time_zone(zone);
    return inventory_stub_->UpdateClinicInventorySettings(CallContext(admin_).get(), req, out);
  }

  std::string ScheduleZone() {
    scheduling::v1::GetClinicScheduleRequest req;
    req.set_clinic_id(clinic_);
    scheduling::v1::ClinicSchedule out;
    grpc::Status s = scheduling_stub_->GetClinicSchedule(CallContext(admin_).get(), req, &out);
    return s.ok() ? out.time_zone() : "error: " + s.error_message();
  }

  std::string InventoryZone() {
    inventory::v1::GetClinicInventorySettingsRequest req;
    req.set_clinic_id(clinic_);
    inventory::v1::ClinicInventorySettings out;
    grpc::Status s =
        inventory_stub_->GetClinicInventorySettings(CallContext(admin_).get(), req, &out);
    return s.ok() ? out.time_zone() : "error: " + s.error_message();
  }

  IdentityHarness harness_;
  std::string admin_;
  std::string clinic_;
  std::unique_ptr<ServiceProcess> scheduling_;
  std::unique_ptr<ServiceProcess> inventory_;
  std::unique_ptr<scheduling::v1::SchedulingService::Stub> scheduling_stub_;
  std::unique_ptr<inventory::v1::InventoryService::Stub> inventory_stub_;
};

TEST_F(ClinicZoneIntegrationTest, ZoneComesFromIdentityFollowsItAndSurvivesItsOutage) {
  // Set up without a zone: both services take identity's.
  scheduling::v1::ClinicSchedule schedule;
  grpc::Status s = UpdateSchedule("sched-1", "", "", 30, &schedule);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(schedule.time_zone(), "Pacific/Auckland");
  inventory::v1::ClinicInventorySettings settings;
  s = UpdateSettings("inv-1", "", "", &settings);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(settings.time_zone(), "Pacific/Auckland");
  // A zone typed in that contradicts identity is refused.
  scheduling::v1::ClinicSchedule refused;
  s = UpdateSchedule("sched-2", schedule.etag(), "Europe/London", 30, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("schedule.time_zone"), std::string::npos) << s.error_message();

  // The admin moves the clinic's zone at identity; both services follow within a refresh.
  identity::v1::GetClinicRequest get;
  get.set_id(clinic_);
  identity::v1::Clinic clinic;
  ASSERT_TRUE(harness_.stub().GetClinic(CallContext(admin_).get(), get, &clinic).ok());
  identity::v1::UpdateClinicRequest move;
  move.set_request_id("move-1");
  *move.mutable_clinic() = clinic;
  move.mutable_clinic()->set_time_zone("Australia/Sydney");
  move.mutable_update_mask()->add_paths("time_zone");
  identity::v1::Clinic moved;
  s = harness_.stub().UpdateClinic(CallContext(admin_).get(), move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while ((ScheduleZone() != "Australia/Sydney" || InventoryZone() != "Australia/Sydney") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(ScheduleZone(), "Australia/Sydney");
  EXPECT_EQ(InventoryZone(), "Australia/Sydney");

  // Identity goes down: the last known zone stays in use and settings still change.
  harness_.identity().Kill();
  absl::SleepFor(absl::Milliseconds(500));  // a few refreshes fail meanwhile
  scheduling::v1::GetClinicScheduleRequest read;
  read.set_clinic_id(clinic_);
  ASSERT_TRUE(scheduling_stub_->GetClinicSchedule(CallContext(admin_).get(), read, &schedule).ok());
  EXPECT_EQ(schedule.time_zone(), "Australia/Sydney");
  scheduling::v1::ClinicSchedule offline;
  s = UpdateSchedule("sched-3", schedule.etag(), "", 20, &offline);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(offline.time_zone(), "Australia/Sydney");
  EXPECT_EQ(offline.buffer_after().seconds(), 20 * 60);
  EXPECT_EQ(InventoryZone(), "Australia/Sydney");
}

}  // namespace
}  // namespace smp
