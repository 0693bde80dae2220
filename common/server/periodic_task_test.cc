#include "common/server/periodic_task.h"

#include <atomic>

#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(PeriodicTaskTest, RunsEveryIntervalAndKeepsGoingAfterAFailure) {
  std::atomic<int> calls{0};
  PeriodicTask task("test", absl::Milliseconds(5), [&] {
    return ++calls % 2 == 0 ? absl::OkStatus() : absl::UnavailableError("store busy");
  });
  task.Start();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (task.runs() < 4 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  task.Stop();
  EXPECT_GE(task.runs(), 4);
  const int after_stop = calls.load();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(calls.load(), after_stop) << "no run after Stop()";
}

TEST(PeriodicTaskTest, StopDoesNotWaitForTheInterval) {
  int calls = 0;
  PeriodicTask task("hourly", absl::Hours(1), [&] {
    ++calls;
    return absl::OkStatus();
  });
  task.Start();
  const absl::Time before = absl::Now();
  task.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
  EXPECT_EQ(calls, 0);
  task.Stop();  // idempotent
}

TEST(PeriodicTaskTest, RunOnceRunsOnTheCallersThreadAndReportsTheJobsStatus) {
  PeriodicTask task("manual", absl::Hours(1), [] { return absl::AbortedError("conflict"); });
  EXPECT_EQ(task.RunOnce().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(task.runs(), 1);
}

}  // namespace
}  // namespace smp
