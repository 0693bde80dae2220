#include "services/inventory/appointment_feed.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/inventory/appointment_place_cache.h"
#include "services/inventory/inventory_test_env.h"
#include "services/inventory/issuing.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;

class AppointmentFeedTest : public InventoryUnitTest {
 protected:
  // The feed over a cache of `capacity` places, reading at most `backlog` changes of a new clinic.
  void MakeFeed(size_t capacity, int64_t backlog) {
    auto fake = std::make_unique<FakeAppointments>();
    scheduling_ = fake.get();
    places_ = std::make_unique<AppointmentPlaceCache>(std::move(fake), capacity);
    feed_ = std::make_unique<AppointmentFeed>(db_.get(), scheduling_, places_.get(), backlog);
  }
  void SetUp() override {
    InventoryUnitTest::SetUp();
    MakeFeed(1000, 1000);
  }

  // Whether the cache answers for `id` without scheduling (scheduling is down meanwhile).
  bool Known(const std::string& id) {
    const bool was_down = scheduling_->down;
    scheduling_->down = true;
    const bool known = places_->PlaceAppointment(id).ok();
    scheduling_->down = was_down;
    return known;
  }

  FakeAppointments* scheduling_ = nullptr;  // owned by places_
  std::unique_ptr<AppointmentPlaceCache> places_;
  std::unique_ptr<AppointmentFeed> feed_;
};

// The point of the feed: a procedure's first issue finds its appointment's place in memory, so it
// asks scheduling nothing and goes through while scheduling is down. An appointment booked since
// the last read is still asked for, and refused while scheduling cannot answer.
TEST_F(AppointmentFeedTest, AnIssueToAFollowedAppointmentGoesThroughWhileSchedulingIsDown) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  Receive(Receipt(clinic_a_, needle.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"}));
  const std::string followed = scheduling_->Add(clinic_a_, "patient-1");
  ASSERT_OK(feed_->Poll());
  const std::string booked_since = scheduling_->Add(clinic_a_, "patient-2");
  scheduling_->down = true;

  Issuing issuing(db_.get(), places_.get(), [] {});
  const Call call = Technician(clinic_a_, "IssueToProcedure");
  v1::IssueToProcedureRequest req;
  req.set_request_id(NewId());
  req.set_clinic_id(clinic_a_);
  req.set_appointment_id(followed);
  req.add_lines()->set_serial("SN-1");
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse issued, issuing.Issue(call, req));
  ASSERT_EQ(issued.entries_size(), 1);
  EXPECT_EQ(issued.entries(0).patient_id(), "patient-1");  // the feed's patient, not a guess
  EXPECT_EQ(scheduling_->placed.load(), 0);

  req.set_request_id(NewId());
  req.set_appointment_id(booked_since);
  req.mutable_lines(0)->set_serial("SN-2");
  EXPECT_THAT(issuing.Issue(call, req), StatusIs(absl::StatusCode::kUnavailable));
}

// Every clinic that has settings is followed from the start of its feed, page after page until
// its head; a clinic inventory has no settings for is not asked about.
TEST_F(AppointmentFeedTest, EveryClinicWithSettingsIsFollowedToItsHead) {
  MakeFeed(20'000, 20'000);
  for (int i = 0; i < AppointmentFeed::kPageSize + 3; ++i) scheduling_->Add(clinic_a_);
  const std::string b = scheduling_->Add(clinic_b_, "patient-b");
  const std::string x = scheduling_->Add("clinic-without-settings");

  ASSERT_OK(feed_->Poll());
  EXPECT_EQ(feed_->position(clinic_a_), AppointmentFeed::kPageSize + 3);
  EXPECT_EQ(feed_->position(clinic_b_), 1);
  EXPECT_EQ(feed_->position("clinic-without-settings"), 0);
  EXPECT_EQ(scheduling_->listed, 3);  // two pages of clinic a, one of clinic b
  EXPECT_TRUE(Known(scheduling_->procedures.front().appointment_id));
  EXPECT_TRUE(Known(scheduling_->procedures[AppointmentFeed::kPageSize + 2].appointment_id));
  EXPECT_TRUE(Known(b));
  EXPECT_FALSE(Known(x));

  // Caught up: the next pass reads one empty page a clinic and keeps its place.
  ASSERT_OK(feed_->Poll());
  EXPECT_EQ(scheduling_->listed, 5);
  EXPECT_EQ(feed_->position(clinic_a_), AppointmentFeed::kPageSize + 3);
}

// A clinic with more changes than the backlog starts at its latest `backlog` changes: older places
// would only push newer ones out of the cache. Those older appointments are asked for when issued.
TEST_F(AppointmentFeedTest, AClinicWithALongHistoryIsFollowedFromItsLatestChanges) {
  MakeFeed(1000, 3);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(scheduling_->Add(clinic_a_));
  ASSERT_OK(feed_->Poll());
  EXPECT_EQ(feed_->position(clinic_a_), 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Known(ids[i]), i >= 7) << i;
  const int asked = scheduling_->placed.load();
  EXPECT_OK(places_->PlaceAppointment(ids[0]).status());  // asked of scheduling instead
  EXPECT_OK(places_->PlaceAppointment(ids[9]).status());
  EXPECT_EQ(scheduling_->placed.load(), asked + 1);
}

// Scheduling down: the pass says so in the log once and returns OK (the service keeps running);
// the next pass after it is back reads from where the feed stopped, nothing skipped.
TEST_F(AppointmentFeedTest, AFeedSchedulingCannotServeIsReadOnceItIsBack) {
  const std::string first = scheduling_->Add(clinic_a_);
  ASSERT_OK(feed_->Poll());
  scheduling_->down = true;
  const std::string during = scheduling_->Add(clinic_a_);
  EXPECT_OK(feed_->Poll());
  EXPECT_OK(feed_->Poll());
  EXPECT_EQ(feed_->position(clinic_a_), 1);
  scheduling_->down = false;
  const std::string after = scheduling_->Add(clinic_a_);
  ASSERT_OK(feed_->Poll());
  EXPECT_EQ(feed_->position(clinic_a_), 3);
  EXPECT_TRUE(Known(first));
  EXPECT_TRUE(Known(during));
  EXPECT_TRUE(Known(after));
}

// A feed shorter than what was read of it (scheduling's database restored from a backup) is read
// again from its start rather than waited for.
TEST_F(AppointmentFeedTest, AFeedThatWentBackIsReadAgainFromItsStart) {
  for (int i = 0; i < 5; ++i) scheduling_->Add(clinic_a_);
  ASSERT_OK(feed_->Poll());
  ASSERT_EQ(feed_->position(clinic_a_), 5);
  scheduling_->procedures.clear();
  const std::string restored = scheduling_->Add(clinic_a_);
  const std::string next = scheduling_->Add(clinic_a_);
  ASSERT_OK(feed_->Poll());
  EXPECT_EQ(feed_->position(clinic_a_), 2);
  EXPECT_TRUE(Known(restored));
  EXPECT_TRUE(Known(next));
}

}  // namespace
}  // namespace smp::inventory
