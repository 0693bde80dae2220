#include "services/inventory/appointment_place_cache.h"

#include <memory>
#include <string>
#include <utility>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "services/inventory/inventory_test_env.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;

// The issues of one procedure ask scheduling once; a place already known answers while
// scheduling is down, an unknown one does not.
TEST(AppointmentPlaceCacheTest, AProcedureIsPlacedOnceAndStillPlacedWhileSchedulingIsDown) {
  auto fake = std::make_unique<FakeAppointments>();
  FakeAppointments& scheduling = *fake;
  const std::string seen = scheduling.Add("clinic-a", "patient-1");
  const std::string unseen = scheduling.Add("clinic-a", "patient-2");
  AppointmentPlaceCache cache(std::move(fake), 100);

  ASSERT_OK_AND_ASSIGN(AppointmentPlace first, cache.PlaceAppointment(seen));
  EXPECT_EQ(first.appointment_id, seen);
  EXPECT_EQ(first.clinic_id, "clinic-a");
  EXPECT_EQ(first.patient_id, "patient-1");
  ASSERT_OK_AND_ASSIGN(AppointmentPlace again, cache.PlaceAppointment(seen));
  EXPECT_EQ(again.patient_id, "patient-1");
  EXPECT_EQ(scheduling.placed.load(), 1);

  scheduling.down = true;
  ASSERT_OK_AND_ASSIGN(AppointmentPlace while_down, cache.PlaceAppointment(seen));
  EXPECT_EQ(while_down.clinic_id, "clinic-a");
  EXPECT_THAT(cache.PlaceAppointment(unseen), StatusIs(absl::StatusCode::kUnavailable));
  // The forecast's listing is never answered from the cache.
  EXPECT_THAT(cache.ListProcedures("clinic-a", absl::UnixEpoch(), absl::Now()),
              StatusIs(absl::StatusCode::kUnavailable));
}

// A refusal is asked again next time (the booking may have committed since); past its capacity
// the cache drops the place it learnt first.
TEST(AppointmentPlaceCacheTest, RefusalsAreNotKeptAndTheOldestPlaceGoesFirst) {
  auto fake = std::make_unique<FakeAppointments>();
  FakeAppointments& scheduling = *fake;
  AppointmentPlaceCache cache(std::move(fake), 2);

  EXPECT_THAT(cache.PlaceAppointment("not-booked-yet"), StatusIs(absl::StatusCode::kNotFound));
  scheduling.down = true;
  EXPECT_THAT(cache.PlaceAppointment("not-booked-yet"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(scheduling.placed.load(), 2);
  scheduling.down = false;

  const std::string a = scheduling.Add("clinic-a"), b = scheduling.Add("clinic-a"),
                    c = scheduling.Add("clinic-b");
  for (const std::string& id : {a, b, c}) ASSERT_OK(cache.PlaceAppointment(id).status());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(scheduling.placed.load(), 5);
  ASSERT_OK(cache.PlaceAppointment(c).status());  // kept
  ASSERT_OK(cache.PlaceAppointment(b).status());  // kept
  EXPECT_EQ(scheduling.placed.load(), 5);
  ASSERT_OK(cache.PlaceAppointment(a).status());  // dropped first: asked again
  EXPECT_EQ(scheduling.placed.load(), 6);
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace smp::inventory
