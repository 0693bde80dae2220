#include "services/inventory/appointment_place_cache.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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

// The cache keeps each clinic once, by index: every place still answers with its own clinic and
// patient, while places come and go past its capacity (here from the change feed, Remember).
TEST(AppointmentPlaceCacheTest, RememberedPlacesComeBackWhole) {
  auto fake = std::make_unique<FakeAppointments>();
  FakeAppointments& scheduling = *fake;
  scheduling.down = true;  // every answer below comes from the cache
  AppointmentPlaceCache cache(std::move(fake), 50);
  std::vector<AppointmentPlace> remembered;
  for (int i = 0; i < 200; ++i) {
    AppointmentPlace place{absl::StrCat("appointment-", i), absl::StrCat("clinic-", i % 3),
                           absl::StrCat("patient-", i % 7)};
    remembered.push_back(place);
    cache.Remember(place);
    cache.Remember(place);  // a change of an appointment already known keeps it as it was
  }
  EXPECT_EQ(cache.size(), 50u);
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<AppointmentPlace> place = cache.PlaceAppointment(remembered[i].appointment_id);
    if (i < 150) {  // dropped, oldest first
      EXPECT_THAT(place, StatusIs(absl::StatusCode::kUnavailable)) << i;
      continue;
    }
    ASSERT_OK(place.status()) << i;
    EXPECT_EQ(place->appointment_id, remembered[i].appointment_id);
    EXPECT_EQ(place->clinic_id, remembered[i].clinic_id);
    EXPECT_EQ(place->patient_id, remembered[i].patient_id);
  }
}

}  // namespace
}  // namespace smp::inventory
