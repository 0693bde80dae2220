#include "common/db/wal_sync.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::testing::HasSubstr;

TEST(WalSyncTest, ACommitIsDurableOnlyAfterASyncThatStartedAfterItsAppend) {
  int64_t appends_seen_by_last_sync = 0;
  int64_t appends = 0;
  WalSync wal([&] {
    appends_seen_by_last_sync = appends;
    return absl::OkStatus();
  });
  ++appends;
  const int64_t first = wal.Appended();
  ASSERT_TRUE(wal.AwaitDurable(first).ok());
  EXPECT_EQ(appends_seen_by_last_sync, 1);
  ++appends;
  const int64_t second = wal.Appended();
  ASSERT_TRUE(wal.AwaitDurable(second).ok());
  EXPECT_EQ(appends_seen_by_last_sync, 2);
  EXPECT_EQ(wal.syncs(), 2);
  // A ticket already covered needs no new sync.
  ASSERT_TRUE(wal.AwaitDurable(first).ok());
  EXPECT_EQ(wal.syncs(), 2);
}

TEST(WalSyncTest, CommitsWaitingDuringASyncShareTheNextOne) {
  absl::Notification sync_started, release_sync;
  std::atomic<int> calls{0};
  WalSync wal([&] {
    if (calls.fetch_add(1) == 0) {
      sync_started.Notify();
      release_sync.WaitForNotification();  // the first sync is slow
    }
    return absl::OkStatus();
  });
  std::thread first([&] { EXPECT_TRUE(wal.AwaitDurable(wal.Appended()).ok()); });
  sync_started.WaitForNotification();
  // Appended while the first sync runs: that sync does not cover them.
  constexpr int kLate = 8;
  std::vector<int64_t> tickets;
  for (int i = 0; i < kLate; ++i) tickets.push_back(wal.Appended());
  std::vector<std::thread> late;
  std::atomic<int> durable{0};
  for (int64_t ticket : tickets) {
    late.emplace_back([&, ticket] {
      EXPECT_TRUE(wal.AwaitDurable(ticket).ok());
      ++durable;
    });
  }
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(durable.load(), 0) << "acknowledged before any sync covering it";
  release_sync.Notify();
  first.join();
  for (auto& t : late) t.join();
  EXPECT_EQ(durable.load(), kLate);
  EXPECT_EQ(wal.syncs(), 2);  // the first, and one for all eight
}

TEST(WalSyncTest, AFailedSyncFailsItsCommitsAndEveryLaterOne) {
  bool fail = true;
  WalSync wal([&] {
    return fail ? absl::UnavailableError("fdatasync: Input/output error") : absl::OkStatus();
  });
  absl::Status status = wal.AwaitDurable(wal.Appended());
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  fail = false;  // the disk "recovers": the pages it dropped are still gone
  status = wal.AwaitDurable(wal.Appended());
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_THAT(status.message(), HasSubstr("could not be synced"));
  EXPECT_THAT(status.message(), HasSubstr("until the service restarts"));
}

}  // namespace
}  // namespace smp
