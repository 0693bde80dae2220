#include "tools/loadgen/task.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace smp::loadgen {
namespace {

TEST(TaskTest, TasksRunInterleavedAndReportTheirCounts) {
  std::vector<std::string> order;
  TaskSet set;
  set.tasks.push_back({"a", "things", [&]() -> absl::StatusOr<int64_t> {
                         order.push_back("a");
                         return 7;
                       }});
  set.tasks.push_back({"b", "things", [&]() -> absl::StatusOr<int64_t> {
                         order.push_back("b");
                         return 3;
                       }});
  absl::StatusOr<std::vector<TaskReport>> reports = RunTasks(set, 2, {{"self", 0}});
  ASSERT_TRUE(reports.ok()) << reports.status();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "a", "b"}));
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].items, 7);
  EXPECT_EQ((*reports)[0].seconds.size(), 2u);
  EXPECT_GT((*reports)[1].peak_rss_kb.at(0).second, 0);

  int calls = 0;
  TaskSet changing;
  changing.tasks.push_back({"c", "things", [&]() -> absl::StatusOr<int64_t> { return ++calls; }});
  EXPECT_FALSE(RunTasks(changing, 2, {}).ok());  // a run that handles a different count fails
  TaskSet failing;
  failing.tasks.push_back(
      {"d", "things", []() -> absl::StatusOr<int64_t> { return absl::UnavailableError("x"); }});
  EXPECT_EQ(RunTasks(failing, 1, {}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(TaskTest, ResidentMemoryOfThisProcess) {
  absl::StatusOr<int64_t> rss = ProcessRssKb(0);
  absl::StatusOr<int64_t> peak = ProcessPeakRssKb(0);
  ASSERT_TRUE(rss.ok() && peak.ok());
  EXPECT_GT(*rss, 0);
  EXPECT_GE(*peak, *rss);
  EXPECT_FALSE(ProcessRssKb(999'999'999).ok());
}

}  // namespace
}  // namespace smp::loadgen
