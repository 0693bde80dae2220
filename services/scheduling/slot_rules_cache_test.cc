#include "services/scheduling/slot_rules_cache.h"

#include <optional>
#include <string>

#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class SlotRulesCacheTest : public SchedulingTestEnv {
 protected:
  // The rules for booking the practitioner in clinic A's chair at `start`, asked at `at`
  // (NOT_FOUND: the cache has none).
  absl::StatusOr<SlotRules> Rules(absl::Time start, absl::Time at, const std::string& clinic = "") {
    std::optional<SlotRules> out;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, cache_.Get(txn, clinic.empty() ? clinic_a_ : clinic, practitioner_,
                                       chair_a_, start, at));
      return absl::OkStatus();
    }));
    if (!out.has_value()) return absl::NotFoundError("no rules");
    return *std::move(out);
  }

  // When the practitioner's hours end on the rules' day, in minutes after midnight.
  static int HoursEnd(const SlotRules& rules) {
    return rules.day->practitioners.at(0).weekly.at(0).end_minute;
  }

  SlotRulesCache cache_{&store_};
};

TEST_F(SlotRulesCacheTest, ARepeatedBookingOfTheDayIsAnsweredFromMemory) {
  ASSERT_OK_AND_ASSIGN(SlotRules first, Rules(At(1, 10), now_));
  EXPECT_EQ(first.schedule->clinic_id(), clinic_a_);
  ASSERT_EQ(first.day->practitioners.size(), 1u);
  EXPECT_EQ(first.day->practitioners[0].practitioner_id, practitioner_);
  ASSERT_EQ(first.day->chairs.size(), 1u);
  EXPECT_EQ(first.day->chairs[0].chair_id, chair_a_);
  EXPECT_EQ(cache_.reads(), 1);

  // Another process changes the hours: memory still answers, with the version it was read at,
  // which is what the booking's write transaction compares.
  ASSERT_OK(ReplaceHours(10, 12));
  ASSERT_OK_AND_ASSIGN(SlotRules second, Rules(At(1, 11), now_ + absl::Milliseconds(500)));
  EXPECT_EQ(cache_.reads(), 1);
  EXPECT_EQ(second.calendar_version, first.calendar_version);
  EXPECT_EQ(second.day, first.day);

  // Once the entry is kMaxAge old, it is read again.
  ASSERT_OK_AND_ASSIGN(SlotRules third, Rules(At(1, 11), now_ + SlotRulesCache::kMaxAge));
  EXPECT_EQ(cache_.reads(), 2);
  EXPECT_GT(third.calendar_version, first.calendar_version);
  EXPECT_EQ(HoursEnd(first), 18 * 60);
  EXPECT_EQ(HoursEnd(third), 12 * 60);
}

TEST_F(SlotRulesCacheTest, ForgetSendsTheNextBookingToTheDatabase) {
  ASSERT_OK_AND_ASSIGN(SlotRules first, Rules(At(1, 10), now_));
  ASSERT_OK(ReplaceHours(10, 12));
  cache_.Forget(clinic_a_);
  ASSERT_OK_AND_ASSIGN(SlotRules second, Rules(At(1, 10), now_));
  EXPECT_EQ(cache_.reads(), 2);
  EXPECT_GT(second.calendar_version, first.calendar_version);
}

TEST_F(SlotRulesCacheTest, DaysAreKeptWhileTheVersionHolds) {
  ASSERT_OK(Rules(At(1, 10), now_).status());
  ASSERT_OK(Rules(At(2, 10), now_).status());  // another day: read
  ASSERT_OK(Rules(At(1, 15), now_).status());  // the first day again: memory
  EXPECT_EQ(cache_.reads(), 2);
  // Re-read once old, at the same version: the second day stays.
  ASSERT_OK(Rules(At(1, 10), now_ + absl::Seconds(5)).status());
  ASSERT_OK(Rules(At(2, 10), now_ + absl::Seconds(5)).status());
  EXPECT_EQ(cache_.reads(), 3);
  // A new version drops the days read at the old one.
  ASSERT_OK(ReplaceHours(9, 12));
  ASSERT_OK(Rules(At(1, 10), now_ + absl::Seconds(10)).status());
  ASSERT_OK_AND_ASSIGN(SlotRules day2, Rules(At(2, 10), now_ + absl::Seconds(10)));
  EXPECT_EQ(cache_.reads(), 5);
  EXPECT_EQ(HoursEnd(day2), 12 * 60);
}

TEST_F(SlotRulesCacheTest, RulesCarryNoBusyBlocks) {
  // The occupancy keys decide conflicts; the rules of a day with a booking show none.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    return store_.InsertAppointment(txn, ConsultationAt(clinic_a_, chair_a_, At(1, 10)), At(1, 11));
  }));
  ASSERT_OK_AND_ASSIGN(SlotRules rules, Rules(At(1, 10), now_));
  EXPECT_TRUE(rules.day->practitioners[0].busy.empty());
  EXPECT_TRUE(rules.day->chairs[0].busy.empty());
}

TEST_F(SlotRulesCacheTest, AClinicWithoutAScheduleHasNoRules) {
  EXPECT_THAT(Rules(At(1, 10), now_, NewIdAt(now_ - absl::Hours(9))),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace smp::scheduling::testing
