#include "services/scheduling/change_feed.h"

#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class ChangeFeedTest : public SchedulingTestEnv {
 protected:
  // Appends `n` changes to clinic A's feed, as the appointment book records them.
  void Append(int n) {
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(int64_t sequence, store_.NextSequence(txn, clinic_a_));
        v1::Change change;
        change.set_sequence(sequence);
        change.set_clinic_id(clinic_a_);
        change.set_type(v1::CHANGE_TYPE_CREATED);
        change.mutable_appointment()->set_id(NewIdAt(now_ + absl::Seconds(sequence)));
        RETURN_IF_ERROR(store_.AppendChange(txn, change));
      }
      return absl::OkStatus();
    }));
  }

  // Every change the source gives until it has none now.
  static std::vector<int64_t> Drain(WatchSource<v1::Change>& source, const Call& call) {
    std::vector<int64_t> seen;
    while (true) {
      absl::StatusOr<std::optional<v1::Change>> next = source.Next(call);
      EXPECT_OK(next.status());
      if (!next.ok() || !next->has_value()) return seen;
      seen.push_back((*next)->sequence());
    }
  }

  ChangeFeed feed_{db_.get(), &store_};
};

TEST_F(ChangeFeedTest, ListPagesBySequenceAndReportsTheHead) {
  Append(5);
  v1::ListChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(1);
  req.set_page_size(3);
  ASSERT_OK_AND_ASSIGN(v1::ListChangesResponse page, feed_.List(Desk("ListChanges"), req));
  ASSERT_EQ(page.changes_size(), 3);
  EXPECT_EQ(page.changes(0).sequence(), 2);
  EXPECT_EQ(page.changes(2).sequence(), 4);
  EXPECT_EQ(page.head_sequence(), 5);

  req.set_since_sequence(-1);
  EXPECT_THAT(feed_.List(Desk("ListChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("since_sequence")));
  req.set_since_sequence(0);
  req.set_page_size(-1);
  EXPECT_THAT(feed_.List(Desk("ListChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  req.set_page_size(0);
  EXPECT_EQ(ErrorReason(feed_.List(OtherDesk("ListChanges"), req).status()),
            reason::kOutsideClinicScope);
}

TEST_F(ChangeFeedTest, WatchSendsTheBacklogThenEachNewChange) {
  Append(3);
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(1);
  ASSERT_OK_AND_ASSIGN(auto source, feed_.OpenWatch(Desk("WatchChanges"), req));
  EXPECT_EQ(source->wake_key(), clinic_a_);
  EXPECT_EQ(Drain(*source, Desk("WatchChanges")), (std::vector<int64_t>{2, 3}));
  Append(2);  // committed after the backlog: the next rounds find them
  EXPECT_EQ(Drain(*source, Desk("WatchChanges")), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(Drain(*source, Desk("WatchChanges")), (std::vector<int64_t>{}));
}

TEST_F(ChangeFeedTest, WatchChecksTheRequestAndTheScopeAtOpenAndAtEveryStep) {
  Append(1);
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(-1);
  EXPECT_THAT(feed_.OpenWatch(Desk("WatchChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("since_sequence")));
  req.set_since_sequence(0);
  EXPECT_EQ(ErrorReason(feed_.OpenWatch(OtherDesk("WatchChanges"), req).status()),
            reason::kOutsideClinicScope);
  // A caller whose re-checked scope no longer covers the clinic is refused on the next step.
  ASSERT_OK_AND_ASSIGN(auto source, feed_.OpenWatch(Desk("WatchChanges"), req));
  EXPECT_EQ(ErrorReason(source->Next(OtherDesk("WatchChanges")).status()),
            reason::kOutsideClinicScope);
}

}  // namespace
}  // namespace smp::scheduling::testing
