#include "common/outbox/outbox.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/db/migrations.h"
#include "common/db/testing/recording_database.h"
#include "common/db/testing/test_database.h"
#include "common/server/metrics.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "smp/common/v1/money.pb.h"

namespace smp {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1764000000);

// Fails the first `failures` deliveries, then accepts; remembers what it accepted.
class FlakyReceiver final : public EventDeliverer {
 public:
  explicit FlakyReceiver(int failures) : failures_(failures) {}
  absl::Status Deliver(const OutboxEvent& event) override {
    absl::MutexLock lock(&mu_);
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("receiver is down");
    }
    received_.push_back(event.id);
    return absl::OkStatus();
  }
  std::vector<std::string> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  void set_failures(int n) {
    absl::MutexLock lock(&mu_);
    failures_ = n;
  }

 private:
  absl::Mutex mu_;
  int failures_;
  std::vector<std::string> received_;
};

class OutboxTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(where_, testing::NewTestDatabase(GetParam()));
    ASSERT_OK_AND_ASSIGN(db_, testing::Open(where_));
    ASSERT_OK(ApplyMigrations(
        *db_,
        {{1, "outbox and a business table",
          std::string(kOutboxTableSql) + "CREATE TABLE sessions (id TEXT PRIMARY KEY);"}},
        kStart));
  }

  // A state change and its event in one transaction; `fail` aborts both.
  absl::StatusOr<std::string> CompleteSession(const std::string& session, bool fail = false) {
    std::string event_id;
    RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(txn.Exec("INSERT INTO sessions (id) VALUES (?)", {session}));
      common::v1::Money charge;
      charge.set_amount_minor(145000);
      charge.set_currency_code("USD");
      ASSIGN_OR_RETURN(event_id,
                       EnqueueEvent(txn, "billing", "session_completed", charge, clock_.Now()));
      if (fail) return absl::AbortedError("the change failed");
      return absl::OkStatus();
    }));
    return event_id;
  }

  testing::TestDatabase where_;
  std::unique_ptr<Database> db_;
  FakeClock clock_{kStart};
  RetryPolicy policy_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST(BackoffTest, GrowsExponentiallyToTheCapWithBoundedJitter) {
  RetryPolicy p;
  EXPECT_EQ(BackoffAfter(1, p, 0.5), absl::Milliseconds(500));
  EXPECT_EQ(BackoffAfter(2, p, 0.5), absl::Seconds(1));
  EXPECT_EQ(BackoffAfter(4, p, 0.5), absl::Seconds(4));
  EXPECT_EQ(BackoffAfter(30, p, 0.5), absl::Minutes(5));
  EXPECT_EQ(BackoffAfter(1000000, p, 0.5), absl::Minutes(5));
  EXPECT_EQ(BackoffAfter(1, p, 0.0), absl::Milliseconds(400));  // -20%
  EXPECT_GE(BackoffAfter(30, p, 0.999), absl::Minutes(5));
  EXPECT_LE(BackoffAfter(30, p, 0.999), absl::Minutes(6));  // +20% at most
}

TEST_P(OutboxTest, EventCommitsWithTheChangeOrNotAtAll) {
  FlakyReceiver billing(0);
  OutboxDispatcher dispatcher(db_.get(), clock_, policy_, {{"billing", &billing}});
  EXPECT_FALSE(CompleteSession("s-1", /*fail=*/true).ok());
  ASSERT_OK_AND_ASSIGN(std::string id, CompleteSession("s-2"));
  ASSERT_OK_AND_ASSIGN(DispatchStats stats, dispatcher.RunOnce());
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(billing.received(), std::vector<std::string>{id});
  ASSERT_OK_AND_ASSIGN(stats, dispatcher.RunOnce());  // delivered events are not sent again
  EXPECT_EQ(stats.delivered, 0);
}

TEST_P(OutboxTest, ReceiverDownDelaysDeliveryAndNothingIsLost) {
  FlakyReceiver billing(3);
  OutboxDispatcher dispatcher(db_.get(), clock_, policy_, {{"billing", &billing}});
  ASSERT_OK_AND_ASSIGN(std::string id, CompleteSession("s-1"));
  ASSERT_OK_AND_ASSIGN(DispatchStats stats, dispatcher.RunOnce());
  EXPECT_EQ(stats.failed, 1);
  ASSERT_OK_AND_ASSIGN(stats, dispatcher.RunOnce());  // not due yet: backoff
  EXPECT_EQ(stats.failed + stats.delivered, 0);

  for (int i = 0; i < 10 && billing.received().empty(); ++i) {
    clock_.Advance(absl::Minutes(6));  // past any backoff
    ASSERT_OK(dispatcher.RunOnce().status());
  }
  EXPECT_EQ(billing.received(), std::vector<std::string>{id});
  ASSERT_OK_AND_ASSIGN(auto pending, dispatcher.Pending(1, 10));
  EXPECT_TRUE(pending.empty());
}

TEST_P(OutboxTest, EventsThatKeepFailingStayVisible) {
  FlakyReceiver billing(1000);
  OutboxDispatcher dispatcher(db_.get(), clock_, policy_,
                              {{"billing", &billing}});  // "compliance" has no deliverer
  ASSERT_OK_AND_ASSIGN(std::string id, CompleteSession("s-1"));
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(dispatcher.RunOnce().status());
    clock_.Advance(absl::Minutes(6));
  }
  ASSERT_OK_AND_ASSIGN(auto pending, dispatcher.Pending(5, 10));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, id);
  EXPECT_EQ(pending[0].attempts, 6);
  EXPECT_NE(pending[0].last_error.find("receiver is down"), std::string::npos);
  // The receiver comes back: the event arrives, once.
  billing.set_failures(0);
  ASSERT_OK(dispatcher.RunOnce().status());
  EXPECT_EQ(billing.received(), std::vector<std::string>{id});
}

// A pass writes what it learnt in one transaction, not one per event: each write transaction is
// a commit and a log sync. The backlog gauges are refreshed at most every few seconds.
TEST_P(OutboxTest, APassRecordsItsOutcomesInOneTransaction) {
  FlakyReceiver billing(1);  // the first delivery fails
  testing::RecordingDatabase recorded(db_.get());
  OutboxDispatcher dispatcher(&recorded, clock_, policy_, {{"billing", &billing}});
  for (const char* session : {"s-1", "s-2", "s-3"}) ASSERT_OK(CompleteSession(session).status());

  ASSERT_OK_AND_ASSIGN(DispatchStats first, dispatcher.RunOnce());
  EXPECT_EQ(first.delivered, 2);
  EXPECT_EQ(first.failed, 1);
  // The claim, the outcomes, the backlog.
  EXPECT_EQ(recorded.TakeWriteQueues().size(), 3u);
  ASSERT_OK_AND_ASSIGN(auto pending, dispatcher.Pending(1, 10));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].last_error.find("receiver is down"), std::string::npos);

  // A second pass a second later: the claim and the outcome; the backlog waits.
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK(CompleteSession("s-4").status());
  ASSERT_OK_AND_ASSIGN(DispatchStats second, dispatcher.RunOnce());
  EXPECT_EQ(second.delivered, 2);                    // s-4 and the retried one
  EXPECT_EQ(recorded.TakeWriteQueues().size(), 3u);  // a minute on: the backlog again
  ASSERT_OK(CompleteSession("s-5").status());
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(DispatchStats third, dispatcher.RunOnce());
  EXPECT_EQ(third.delivered, 1);
  EXPECT_EQ(recorded.TakeWriteQueues().size(), 2u);
  EXPECT_EQ(billing.received().size(), 5u);
  ASSERT_OK_AND_ASSIGN(pending, dispatcher.Pending(0, 10));
  EXPECT_TRUE(pending.empty());
}

// The backlog is published for operators, and delivered events are dropped after a week.
TEST_P(OutboxTest, BacklogIsAGaugeAndDeliveredEventsAgeOut) {
  FlakyReceiver billing(1000);
  OutboxDispatcher dispatcher(db_.get(), clock_, policy_, {{"billing", &billing}});
  ASSERT_OK(CompleteSession("s-1").status());
  ASSERT_OK(CompleteSession("s-2").status());
  clock_.Advance(absl::Seconds(90));
  ASSERT_OK(dispatcher.RunOnce().status());
  const std::string metrics = Metrics().RenderPrometheus();
  EXPECT_NE(metrics.find("smp_outbox_pending_events{destination=\"billing\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("smp_outbox_oldest_pending_seconds{destination=\"billing\"} 90"),
            std::string::npos);

  billing.set_failures(0);
  clock_.Advance(absl::Minutes(10));
  ASSERT_OK(dispatcher.RunOnce().status());
  EXPECT_NE(
      Metrics().RenderPrometheus().find("smp_outbox_pending_events{destination=\"billing\"} 0"),
      std::string::npos);
  auto count = [&] {
    int64_t n = -1;
    EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM outbox"));
      n = rows[0].Int(0);
      return absl::OkStatus();
    }));
    return n;
  };
  EXPECT_EQ(count(), 2);  // delivered, kept for inspection
  clock_.Advance(absl::Hours(24 * 7 + 1));
  ASSERT_OK(dispatcher.RunOnce().status());
  EXPECT_EQ(count(), 0);
}

TEST_P(OutboxTest, UnknownDestinationIsAVisibleFailureNotADrop) {
  OutboxDispatcher dispatcher(db_.get(), clock_, policy_, {});
  ASSERT_OK(CompleteSession("s-1").status());
  ASSERT_OK_AND_ASSIGN(DispatchStats stats, dispatcher.RunOnce());
  EXPECT_EQ(stats.failed, 1);
  ASSERT_OK_AND_ASSIGN(auto pending, dispatcher.Pending(1, 10));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].last_error.find("no deliverer"), std::string::npos);
}

TEST_P(OutboxTest, BackgroundThreadDeliversAfterWake) {
  FlakyReceiver billing(0);
  OutboxDispatcher dispatcher(db_.get(), Clock::Real(), policy_, {{"billing", &billing}});
  dispatcher.Start(absl::Hours(1));  // only a Wake makes it run
  ASSERT_OK_AND_ASSIGN(std::string id, CompleteSession("s-1"));
  dispatcher.Wake();
  for (int i = 0; i < 200 && billing.received().empty(); ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(billing.received(), std::vector<std::string>{id});
  dispatcher.Stop();
}

// Receives on several threads; counts each event id, to catch a second delivery.
class CountingReceiver final : public EventDeliverer {
 public:
  absl::Status Deliver(const OutboxEvent& event) override {
    absl::SleepFor(absl::Microseconds(200));  // a network call takes a while
    absl::MutexLock lock(&mu_);
    ++deliveries_[event.id];
    return absl::OkStatus();
  }
  absl::flat_hash_map<std::string, int> deliveries() {
    absl::MutexLock lock(&mu_);
    return deliveries_;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> deliveries_;
};

// Several replicas of a service run a dispatcher each on the one database: together they deliver
// every event, and each exactly once (PostgreSQL: claims with FOR UPDATE SKIP LOCKED).
TEST_P(OutboxTest, DispatchersOfSeveralReplicasShareTheWorkWithoutDoubleDelivery) {
  constexpr int kEvents = 60, kReplicas = 3;
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string id, CompleteSession("s-" + std::to_string(i)));
    ids.push_back(id);
  }
  CountingReceiver billing;
  std::vector<std::unique_ptr<Database>> replicas;
  std::vector<std::unique_ptr<OutboxDispatcher>> dispatchers;
  std::vector<int> delivered(kReplicas, 0);
  for (int r = 0; r < kReplicas; ++r) {
    ASSERT_OK_AND_ASSIGN(auto db, testing::Open(where_));
    dispatchers.push_back(std::make_unique<OutboxDispatcher>(
        db.get(), clock_, policy_,
        absl::flat_hash_map<std::string, EventDeliverer*>{{"billing", &billing}}));
    replicas.push_back(std::move(db));
  }
  std::vector<std::thread> threads;
  for (int r = 0; r < kReplicas; ++r) {
    threads.emplace_back([&, r] {
      for (int pass = 0; pass < 200; ++pass) {
        absl::StatusOr<DispatchStats> stats = dispatchers[r]->RunOnce(/*batch=*/4);
        ASSERT_OK(stats.status());
        delivered[r] += stats->delivered;
        if (stats->delivered == 0 && stats->failed == 0) break;  // nothing left for this one
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto deliveries = billing.deliveries();
  EXPECT_EQ(deliveries.size(), ids.size());
  for (const std::string& id : ids) {
    auto it = deliveries.find(id);
    EXPECT_TRUE(it != deliveries.end() && it->second == 1)
        << id << " delivered " << (it == deliveries.end() ? 0 : it->second) << " times";
  }
  EXPECT_EQ(delivered[0] + delivered[1] + delivered[2], kEvents);
  ASSERT_OK_AND_ASSIGN(auto pending, dispatchers[0]->Pending(0, 100));
  EXPECT_TRUE(pending.empty());
}

// Takes a minute per delivery: the pass gives back what it has not tried before its claim could
// lapse, and another replica delivers it at once.
class SlowReceiver final : public EventDeliverer {
 public:
  explicit SlowReceiver(FakeClock* clock) : clock_(clock) {}
  absl::Status Deliver(const OutboxEvent& event) override {
    clock_->Advance(absl::Seconds(40));
    received.push_back(event.id);
    return absl::OkStatus();
  }
  std::vector<std::string> received;

 private:
  FakeClock* clock_;
};

TEST_P(OutboxTest, ASlowPassHandsBackWhatItHasNotTried) {
  ASSERT_OK(CompleteSession("s-1").status());
  ASSERT_OK(CompleteSession("s-2").status());
  ASSERT_OK(CompleteSession("s-3").status());
  SlowReceiver slow(&clock_);
  FlakyReceiver fast(0);
  OutboxDispatcher first(db_.get(), clock_, policy_, {{"billing", &slow}});
  ASSERT_OK_AND_ASSIGN(auto other, testing::Open(where_));
  OutboxDispatcher second(other.get(), clock_, policy_, {{"billing", &fast}});
  ASSERT_OK_AND_ASSIGN(DispatchStats stats, first.RunOnce());
  EXPECT_EQ(stats.delivered, 1);  // 40 s later the lease (1 min) is too close to go on
  ASSERT_OK_AND_ASSIGN(stats, second.RunOnce());
  EXPECT_EQ(stats.delivered, 2);
  EXPECT_EQ(slow.received.size() + fast.received().size(), 3u);
}

// Blocks each delivery until released: a dispatcher stuck (or dead) in the middle of a delivery.
class StuckReceiver final : public EventDeliverer {
 public:
  absl::Status Deliver(const OutboxEvent&) override {
    entered_.Notify();
    release_.WaitForNotification();
    return absl::OkStatus();
  }
  absl::Notification& entered() { return entered_; }
  void Release() { release_.Notify(); }

 private:
  absl::Notification entered_;
  absl::Notification release_;
};

TEST_P(OutboxTest, AnEventClaimedByAStuckDispatcherIsDueAgainAfterTheConfiguredLease) {
  policy_.claim_lease = absl::Seconds(5);
  ASSERT_OK(CompleteSession("s-1").status());
  StuckReceiver stuck;
  FlakyReceiver other_billing(0);
  OutboxDispatcher first(db_.get(), clock_, policy_, {{"billing", &stuck}});
  ASSERT_OK_AND_ASSIGN(auto other_db, testing::Open(where_));
  OutboxDispatcher second(other_db.get(), clock_, policy_, {{"billing", &other_billing}});
  std::thread stuck_pass([&] { EXPECT_OK(first.RunOnce().status()); });
  stuck.entered().WaitForNotification();  // claimed, and in the middle of delivering it

  clock_.Advance(absl::Seconds(4));
  ASSERT_OK_AND_ASSIGN(DispatchStats stats, second.RunOnce());
  EXPECT_EQ(stats.delivered, 0);  // still the first one's
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(stats, second.RunOnce());
  EXPECT_EQ(stats.delivered, 1);  // the lease is over: another replica sends it
  EXPECT_EQ(other_billing.received().size(), 1u);
  stuck.Release();
  stuck_pass.join();
}

}  // namespace
}  // namespace smp
