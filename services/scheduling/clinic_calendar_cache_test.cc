#include "services/scheduling/clinic_calendar_cache.h"

#include <string>
#include <vector>

#include "services/scheduling/appointment_book.h"
#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class ClinicCalendarCacheTest : public SchedulingTestEnv {
 protected:
  // Clinic A's calendars for the next 7 days through the cache, at `at`: the practitioner's busy
  // blocks.
  absl::StatusOr<std::vector<Interval>> Busy(absl::Time at) {
    std::vector<Interval> busy;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::ClinicSchedule schedule, store_.RequireSchedule(txn, clinic_a_, "c"));
      CalendarScope scope{Today(), Today() + 6, "", "", ""};
      ASSIGN_OR_RETURN(std::shared_ptr<const CalendarInputs> in,
                       cache_.Load(txn, schedule, scope, at));
      for (const PractitionerCalendar& p : in->practitioners) {
        if (p.practitioner_id == practitioner_) busy = p.busy;
      }
      return absl::OkStatus();
    }));
    return busy;
  }

  // Books the practitioner at `clinic` for an hour from `start` (chair of that clinic), as a
  // booking writes it: occupancy, the clinic's change, the row.
  absl::Status BookAt(const std::string& clinic, const std::string& chair, absl::Time start) {
    return db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      v1::Appointment a = ConsultationAt(clinic, chair, start);
      RETURN_IF_ERROR(store_.Occupy(txn, a, Interval{start, start + absl::Hours(1)}));
      RETURN_IF_ERROR(book_.RecordChange(txn, a, v1::CHANGE_TYPE_CREATED, 1, now_));
      return store_.InsertAppointment(txn, a, start + absl::Hours(1));
    });
  }

  ChangeNotifier notifier_;
  AppointmentBook book_{db_.get(), &store_, &notifier_, nullptr};
  ClinicCalendarCache cache_{&store_};
};

TEST_F(ClinicCalendarCacheTest, ARepeatedSearchIsAnsweredFromMemory) {
  ASSERT_OK(BookAt(clinic_a_, chair_a_, At(1, 10)));
  ASSERT_OK_AND_ASSIGN(std::vector<Interval> first, Busy(now_));
  ASSERT_OK_AND_ASSIGN(std::vector<Interval> second, Busy(now_ + absl::Milliseconds(500)));
  EXPECT_EQ(cache_.builds(), 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].start, At(1, 10));
  // Older than kMaxAge (a hold may have lapsed meanwhile): read again.
  ASSERT_OK(Busy(now_ + ClinicCalendarCache::kMaxAge).status());
  EXPECT_EQ(cache_.builds(), 2);
}

TEST_F(ClinicCalendarCacheTest, ABookingOrAnHoursChangeCommittedAnywhereRebuilds) {
  ASSERT_OK_AND_ASSIGN(std::vector<Interval> before, Busy(now_));
  EXPECT_TRUE(before.empty());
  // A booking of the clinic (another process would write the same rows): its feed head moved.
  ASSERT_OK(BookAt(clinic_a_, chair_a_, At(1, 10)));
  ASSERT_OK_AND_ASSIGN(std::vector<Interval> booked, Busy(now_));
  EXPECT_EQ(booked.size(), 1u);
  EXPECT_EQ(cache_.builds(), 2);

  // The practitioner takes hours at clinic B too: clinic A's calendar version moves, and B's
  // feed is watched from then on.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::WorkingHours hours;
    hours.set_practitioner_id(practitioner_);
    hours.set_clinic_id(clinic_b_);
    return store_.PutWorkingHours(txn, hours, 0).status();
  }));
  ASSERT_OK(Busy(now_).status());
  EXPECT_EQ(cache_.builds(), 3);
  // Their booking at clinic B keeps them away at A: seen at the next search.
  ASSERT_OK(BookAt(clinic_b_, chair_b_, At(2, 10)));
  ASSERT_OK_AND_ASSIGN(std::vector<Interval> both, Busy(now_));
  EXPECT_EQ(both.size(), 2u);
  EXPECT_EQ(cache_.builds(), 4);
  // Nothing moved since: from memory.
  ASSERT_OK(Busy(now_).status());
  EXPECT_EQ(cache_.builds(), 4);
}

}  // namespace
}  // namespace smp::scheduling::testing
