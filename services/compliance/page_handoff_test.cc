#include "services/compliance/page_handoff.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace smp::compliance {
namespace {

// A page of `n` parts, each a procedure whose id is `tag` and its index.
BuiltPage Page(const std::string& tag, int n) {
  BuiltPage page;
  page.arena = std::make_unique<google::protobuf::Arena>();
  for (int i = 0; i < n; ++i) {
    auto* part = google::protobuf::Arena::CreateMessage<v1::ReportPart>(page.arena.get());
    part->mutable_procedure()->set_id(tag + "-" + std::to_string(i));
    page.parts.push_back(part);
  }
  return page;
}

TEST(PageHandoffTest, PagesArriveInOrderAndEndAfterFinish) {
  PageHandoff handoff(2);
  // No ASSERT while the builder runs: returning early would leave it waiting (or the thread
  // unjoined); a failed push still finishes, so Pop ends.
  std::thread builder([&] {
    for (int p = 0; p < 10; ++p) {
      if (!handoff.Push(Page(std::to_string(p), 3))) {
        ADD_FAILURE() << "page " << p << " refused";
        break;
      }
    }
    handoff.Finish();
  });
  int pages = 0;
  while (std::optional<BuiltPage> page = handoff.Pop()) {
    EXPECT_EQ(page->parts.size(), 3u);
    if (page->parts.size() == 3) {
      EXPECT_EQ(page->parts[0]->procedure().id(), std::to_string(pages) + "-0");
      EXPECT_EQ(page->parts[2]->procedure().id(), std::to_string(pages) + "-2");
    }
    ++pages;
  }
  builder.join();
  EXPECT_EQ(pages, 10);
  EXPECT_FALSE(handoff.Pop().has_value());
}

TEST(PageHandoffTest, PagesPushedBeforeFinishAreStillTaken) {
  PageHandoff handoff(2);
  ASSERT_TRUE(handoff.Push(Page("a", 1)));
  ASSERT_TRUE(handoff.Push(Page("b", 1)));
  handoff.Finish();
  ASSERT_EQ(handoff.Pop()->parts[0]->procedure().id(), "a-0");
  ASSERT_EQ(handoff.Pop()->parts[0]->procedure().id(), "b-0");
  EXPECT_FALSE(handoff.Pop().has_value());
}

TEST(PageHandoffTest, TheBuilderWaitsWhileDepthPagesWait) {
  PageHandoff handoff(2);
  ASSERT_TRUE(handoff.Push(Page("a", 1)));
  ASSERT_TRUE(handoff.Push(Page("b", 1)));
  std::atomic<bool> third_pushed{false};
  std::thread builder([&] {
    EXPECT_TRUE(handoff.Push(Page("c", 1)));
    third_pushed = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(third_pushed) << "a third page was queued beside two waiting ones";
  std::optional<BuiltPage> first = handoff.Pop();  // makes room for the third page
  builder.join();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->parts[0]->procedure().id(), "a-0");
  EXPECT_TRUE(third_pushed);
  ASSERT_EQ(handoff.Pop()->parts[0]->procedure().id(), "b-0");
  ASSERT_EQ(handoff.Pop()->parts[0]->procedure().id(), "c-0");
}

TEST(PageHandoffTest, StopReleasesAWaitingBuilderAndRefusesLaterPages) {
  PageHandoff handoff(1);
  ASSERT_TRUE(handoff.Push(Page("a", 1)));
  absl::Notification refused;
  std::thread builder([&] {
    // Waits for room that never comes: the sender stops instead.
    if (!handoff.Push(Page("b", 1))) refused.Notify();
  });
  handoff.Stop();
  builder.join();
  EXPECT_TRUE(refused.HasBeenNotified());
  EXPECT_FALSE(handoff.Push(Page("c", 1)));
  handoff.Finish();
  EXPECT_FALSE(handoff.Pop().has_value()) << "a stopped handoff still held a page";
}

}  // namespace
}  // namespace smp::compliance
