#include "services/scheduling/change_feed.h"

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/rpc/encoded_unary.h"
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

// ---- The encoded forms the service sends: the stored bytes, framed as the messages would be ----

class EncodedChangeFeedTest : public ChangeFeedTest {
 protected:
  // Appends `n` changes carrying a whole appointment (long enough for multi-byte lengths).
  void AppendFull(int n) {
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(int64_t sequence, store_.NextSequence(txn, clinic_a_));
        v1::Change change;
        change.set_sequence(sequence);
        change.set_clinic_id(clinic_a_);
        change.set_type(i % 2 == 0 ? v1::CHANGE_TYPE_CREATED : v1::CHANGE_TYPE_UPDATED);
        v1::Appointment* a = change.mutable_appointment();
        a->set_id(NewIdAt(now_ + absl::Seconds(sequence)));
        a->set_clinic_id(clinic_a_);
        a->set_notes(std::string(150 + i, 'n'));
        change.mutable_commit_time()->set_seconds(1'780'000'000 + sequence);
        RETURN_IF_ERROR(store_.AppendChange(txn, change));
      }
      return absl::OkStatus();
    }));
  }
};

TEST_F(EncodedChangeFeedTest, AnEncodedPageIsTheSerialisedPageByteForByte) {
  v1::ListChangesRequest req;
  req.set_clinic_id(clinic_a_);
  // An empty feed: no changes, head 0 (left out, as proto3 leaves it out).
  ASSERT_OK_AND_ASSIGN(std::string empty, feed_.ListEncoded(Desk("ListChanges"), req));
  ASSERT_OK_AND_ASSIGN(v1::ListChangesResponse empty_page, feed_.List(Desk("ListChanges"), req));
  EXPECT_EQ(empty, empty_page.SerializeAsString());

  AppendFull(200);
  for (auto [since, size] :
       std::vector<std::pair<int, int>>{{0, 0}, {3, 7}, {0, 200}, {150, 100}}) {
    req.set_since_sequence(since);
    req.set_page_size(size);
    ASSERT_OK_AND_ASSIGN(std::string bytes, feed_.ListEncoded(Desk("ListChanges"), req));
    ASSERT_OK_AND_ASSIGN(v1::ListChangesResponse page, feed_.List(Desk("ListChanges"), req));
    EXPECT_EQ(bytes, page.SerializeAsString()) << "since " << since << " size " << size;
    v1::ListChangesResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    EXPECT_EQ(parsed.head_sequence(), 200);
    ASSERT_EQ(parsed.changes_size(), page.changes_size());
    ASSERT_GT(parsed.changes_size(), 0);
    EXPECT_EQ(parsed.changes(0).sequence(), since + 1);
    EXPECT_EQ(parsed.changes(0).appointment().notes(), page.changes(0).appointment().notes());
  }
}

TEST_F(EncodedChangeFeedTest, EncodedPagesRefuseAsListRefuses) {
  AppendFull(1);
  v1::ListChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(-1);
  EXPECT_THAT(feed_.ListEncoded(Desk("ListChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("since_sequence")));
  req.set_since_sequence(0);
  req.set_page_size(-1);
  EXPECT_THAT(feed_.ListEncoded(Desk("ListChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  req.set_page_size(0);
  req.set_clinic_id("");
  EXPECT_THAT(feed_.ListEncoded(Desk("ListChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
  req.set_clinic_id(clinic_a_);
  EXPECT_EQ(ErrorReason(feed_.ListEncoded(OtherDesk("ListChanges"), req).status()),
            reason::kOutsideClinicScope);
}

TEST_F(EncodedChangeFeedTest, PageFramingMatchesProtobufForLongChangesAndLargeHeads) {
  // Lengths and heads past one varint byte (128, 16384) and a head past 32 bits.
  std::vector<SchedulingStore::StoredChange> stored;
  v1::ListChangesResponse expected;
  for (int length : {0, 1, 127, 128, 300, 16383, 16384, 70000}) {
    v1::Change change;
    change.set_sequence(length + 1);
    change.mutable_appointment()->set_notes(std::string(length, 'x'));
    stored.push_back({change.sequence(), change.SerializeAsString()});
    *expected.add_changes() = change;
  }
  for (int64_t head : {int64_t{0}, int64_t{1}, int64_t{127}, int64_t{128}, int64_t{1} << 40}) {
    expected.set_head_sequence(head);
    EXPECT_EQ(EncodeChangesPage(stored, head), expected.SerializeAsString()) << "head " << head;
  }
}

TEST_F(EncodedChangeFeedTest, AnEncodedWatchSendsEachStoredChangeAsItIs) {
  AppendFull(ChangeFeed::kWatchPage + 3);  // more than one page of backlog
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(auto parsed, feed_.OpenWatch(Desk("WatchChanges"), req));
  ASSERT_OK_AND_ASSIGN(auto encoded, feed_.OpenEncodedWatch(Desk("WatchChanges"), req));
  EXPECT_EQ(encoded->wake_key(), clinic_a_);
  EXPECT_FALSE(encoded->buffered());  // nothing read yet: the next step reads the database
  for (int i = 1; i <= ChangeFeed::kWatchPage + 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<v1::Change> want, parsed->Next(Desk("WatchChanges")));
    ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> got, encoded->Next(Desk("WatchChanges")));
    ASSERT_TRUE(want.has_value() && got.has_value()) << i;
    EXPECT_EQ(want->sequence(), i);
    EXPECT_EQ(StringOf(*got), want->SerializeAsString()) << i;
    // The rest of each page is at hand; its last change leaves the next page to be read.
    const bool page_end = i == ChangeFeed::kWatchPage || i == ChangeFeed::kWatchPage + 3;
    EXPECT_EQ(encoded->buffered(), !page_end) << i;
  }
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> none, encoded->Next(Desk("WatchChanges")));
  EXPECT_FALSE(none.has_value());
  AppendFull(1);  // committed later by this process: the next step finds it
  feed_.Committed(clinic_a_);
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> late, encoded->Next(Desk("WatchChanges")));
  ASSERT_TRUE(late.has_value());
  v1::Change change;
  ASSERT_TRUE(change.ParseFromString(StringOf(*late)));
  EXPECT_EQ(change.sequence(), ChangeFeed::kWatchPage + 4);
  // The scope is checked at every step, buffered or not.
  EXPECT_EQ(ErrorReason(encoded->Next(OtherDesk("WatchChanges")).status()),
            reason::kOutsideClinicScope);
  req.set_since_sequence(-1);
  EXPECT_THAT(feed_.OpenEncodedWatch(Desk("WatchChanges"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("since_sequence")));
  req.set_since_sequence(0);
  EXPECT_EQ(ErrorReason(feed_.OpenEncodedWatch(OtherDesk("WatchChanges"), req).status()),
            reason::kOutsideClinicScope);
}

// ---- RecentChanges: the watches of one process read each new change from the database once ----

std::vector<SchedulingStore::StoredChange> ChangesRun(int64_t from, int64_t to) {
  std::vector<SchedulingStore::StoredChange> out;
  for (int64_t s = from; s <= to; ++s) out.push_back({s, absl::StrCat("change ", s)});
  return out;
}

std::vector<int64_t> Sequences(const std::deque<SchedulingStore::StoredChange>& changes) {
  std::vector<int64_t> out;
  for (const auto& c : changes) out.push_back(c.sequence);
  return out;
}

TEST(RecentChangesTest, HoldsTheLatestRunWithoutGapsAndGivesWhatFollowsASequence) {
  RecentChanges recent;
  std::deque<SchedulingStore::StoredChange> got;
  EXPECT_EQ(recent.Take("c1", 0, 10, got), 0u);  // nothing held yet
  recent.Offer("c1", ChangesRun(5, 8));
  EXPECT_EQ(recent.Take("c1", 3, 10, got), 0u);  // 4 is not held: the caller reads the database
  EXPECT_EQ(recent.Take("c1", 8, 10, got), 0u);  // nothing after 8 is known
  EXPECT_EQ(recent.Take("c2", 4, 10, got), 0u);  // another clinic's
  EXPECT_EQ(recent.Take("c1", 5, 2, got), 2u);   // at most `max`
  EXPECT_EQ(Sequences(got), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(got.front().bytes, "change 6");
  got.clear();

  recent.Offer("c1", ChangesRun(7, 10));  // overlaps and extends: 5..10
  recent.Offer("c1", ChangesRun(1, 3));   // older: ignored
  EXPECT_EQ(recent.Take("c1", 4, 100, got), 6u);
  EXPECT_EQ(Sequences(got), (std::vector<int64_t>{5, 6, 7, 8, 9, 10}));
  got.clear();

  recent.Offer("c1", ChangesRun(20, 21));  // after a gap: only the new run is held
  EXPECT_EQ(recent.Take("c1", 9, 100, got), 0u);
  EXPECT_EQ(recent.Take("c1", 19, 100, got), 2u);
  got.clear();

  // Bounded: only the latest kPerClinic of a clinic.
  const int64_t n = static_cast<int64_t>(RecentChanges::kPerClinic);
  recent.Offer("c1", ChangesRun(22, 21 + 2 * n));
  EXPECT_EQ(recent.Take("c1", 21, 10, got), 0u);
  EXPECT_EQ(recent.Take("c1", 21 + n, 3 * n, got), RecentChanges::kPerClinic);
  EXPECT_EQ(got.back().sequence, 21 + 2 * n);
}

TEST_F(EncodedChangeFeedTest, WatchesOfOneClinicShareWhatOneOfThemRead) {
  AppendFull(3);
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(1);
  ASSERT_OK_AND_ASSIGN(auto first, feed_.OpenEncodedWatch(Desk("WatchChanges"), req));
  ASSERT_OK_AND_ASSIGN(auto second, feed_.OpenEncodedWatch(Desk("WatchChanges"), req));
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> a, first->Next(Desk("WatchChanges")));
  ASSERT_TRUE(a.has_value());
  // The feed's rows are gone from the database now: the second watch gets 2 and 3 as the first
  // read them (a second read would find nothing).
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("DELETE FROM appointment_changes");
  }));
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> b, second->Next(Desk("WatchChanges")));
    ASSERT_TRUE(b.has_value()) << i;
    seen.push_back(StringOf(*b));
  }
  EXPECT_EQ(seen.front(), StringOf(*a));
  v1::Change last;
  ASSERT_TRUE(last.ParseFromString(seen.back()));
  EXPECT_EQ(last.sequence(), 3);
  // It is checked for the caller's scope like every step.
  EXPECT_EQ(ErrorReason(second->Next(OtherDesk("WatchChanges")).status()),
            reason::kOutsideClinicScope);
}

TEST(RecentChangesTest, AnEmptyReadStandsUntilACommitOrItsTimeIsUp) {
  RecentChanges recent;
  const absl::Time t = absl::FromUnixSeconds(1'780'000'000);
  EXPECT_FALSE(recent.KnownEmpty("c1", 7, t));
  uint64_t generation = recent.Generation("c1");
  recent.NoteEmpty("c1", 7, generation, t);
  EXPECT_TRUE(recent.KnownEmpty("c1", 7, t + absl::Milliseconds(10)));
  EXPECT_FALSE(recent.KnownEmpty("c1", 6, t));                             // another position: read
  EXPECT_FALSE(recent.KnownEmpty("c2", 7, t));                             // another clinic
  EXPECT_FALSE(recent.KnownEmpty("c1", 7, t + RecentChanges::kEmptyFor));  // the poll's business
  recent.Committed("c1");
  EXPECT_FALSE(recent.KnownEmpty("c1", 7, t));  // this process committed: read again

  // A read that began before a commit and ended after it is not trusted: it may have missed it.
  generation = recent.Generation("c1");
  recent.Committed("c1");
  recent.NoteEmpty("c1", 7, generation, t);
  EXPECT_FALSE(recent.KnownEmpty("c1", 7, t));
}

TEST_F(EncodedChangeFeedTest, OneEmptyReadServesTheOtherWatchesUntilTheNextCommit) {
  AppendFull(2);
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_since_sequence(2);
  ASSERT_OK_AND_ASSIGN(auto first, feed_.OpenEncodedWatch(Desk("WatchChanges"), req));
  ASSERT_OK_AND_ASSIGN(auto second, feed_.OpenEncodedWatch(Desk("WatchChanges"), req));
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> none, first->Next(Desk("WatchChanges")));
  EXPECT_FALSE(none.has_value());
  // Another replica commits (this process is not told): the second watch trusts the first's empty
  // read for a moment; its step after that reads the database.
  AppendFull(1);
  ASSERT_OK_AND_ASSIGN(none, second->Next(Desk("WatchChanges")));
  EXPECT_FALSE(none.has_value());
  Call later = Desk("WatchChanges");
  later.now += RecentChanges::kEmptyFor;
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> third, second->Next(later));
  ASSERT_TRUE(third.has_value());
  ASSERT_OK_AND_ASSIGN(none, second->Next(later));  // nothing after 3: remembered
  EXPECT_FALSE(none.has_value());
  // This process commits; once it announces the commit, every watch reads at once.
  AppendFull(1);
  ASSERT_OK_AND_ASSIGN(none, second->Next(later));
  EXPECT_FALSE(none.has_value());
  feed_.Committed(clinic_a_);
  ASSERT_OK_AND_ASSIGN(std::optional<grpc::ByteBuffer> fourth, second->Next(later));
  ASSERT_TRUE(fourth.has_value());
  v1::Change change;
  ASSERT_TRUE(change.ParseFromString(StringOf(*fourth)));
  EXPECT_EQ(change.sequence(), 4);
}

}  // namespace
}  // namespace smp::scheduling::testing
