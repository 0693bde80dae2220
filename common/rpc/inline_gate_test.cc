#include "common/rpc/inline_gate.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace smp {
namespace {

// One handler at a time runs inline; the gate opens again when it exits.
TEST(InlineGateTest, OneAtATime) {
  InlineGate gate;
  ASSERT_TRUE(gate.TryEnter());
  EXPECT_FALSE(gate.TryEnter());
  gate.Exit();
  EXPECT_TRUE(gate.TryEnter());
  gate.Exit();
}

// Many threads trying at once: never two inside together.
TEST(InlineGateTest, NeverTwoInsideAcrossThreads) {
  InlineGate gate;
  std::atomic<int> inside{0}, most{0}, entered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        if (!gate.TryEnter()) continue;
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        entered.fetch_add(1);
        inside.fetch_sub(1);
        gate.Exit();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
  EXPECT_GT(entered.load(), 0);
}

}  // namespace
}  // namespace smp
