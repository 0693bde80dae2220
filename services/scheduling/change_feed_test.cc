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

  ChangeNotifier notifier_;
  ChangeFeed feed_{db_.get(), &store_, &notifier_, absl::Milliseconds(10)};
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

TEST_F(ChangeFeedTest, WatchSendsTheBacklogThenEndsWhenTheClientGoes) {
  Append(3);
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(1);
  std::vector<int64_t> seen;
  ChangeFeed::Stream stream{.write =
                                [&](const v1::Change& c) {
                                  seen.push_back(c.sequence());
                                  return seen.size() < 2;  // the client goes after two
                                },
                            .cancelled = [] { return false; }};
  EXPECT_THAT(feed_.Watch(Desk("WatchChanges"), req, stream),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 3}));

  // A draining server ends the stream with UNAVAILABLE (the client resumes elsewhere).
  seen.clear();
  notifier_.Stop();
  stream.write = [&](const v1::Change& c) {
    seen.push_back(c.sequence());
    return true;
  };
  EXPECT_THAT(feed_.Watch(Desk("WatchChanges"), req, stream),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorReason(feed_.Watch(OtherDesk("WatchChanges"), req, stream)),
            reason::kOutsideClinicScope);
}

TEST_F(ChangeFeedTest, WatchFollowsNewChanges) {
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  std::vector<int64_t> seen;
  int polls = 0;
  ChangeFeed::Stream stream{.write =
                                [&](const v1::Change& c) {
                                  seen.push_back(c.sequence());
                                  return true;
                                },
                            .cancelled =
                                [&] {
                                  // Each poll of an idle feed: a change arrives on the second.
                                  if (++polls == 2) Append(1);
                                  return seen.size() >= 1;
                                }};
  EXPECT_THAT(feed_.Watch(Desk("WatchChanges"), req, stream),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(seen, (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace smp::scheduling::testing
