#ifndef SMP_COMMON_RPC_INLINE_GATE_H_
#define SMP_COMMON_RPC_INLINE_GATE_H_

// Lets one short read at a time run at once on gRPC's callback thread, instead of being handed to
// a service's threads and its answer handed back: two thread switches, which on the suite's
// virtual machines cost a lightly loaded server (one caller at a time, a clinic's usual load)
// about as much CPU as the read itself (README, "Benchmarks", Session 11). One at a time, so that
// gRPC's threads are never all held by handlers; a read arriving meanwhile is queued for the
// service's threads as before, which also keeps every core busy under load.

#include <atomic>

namespace smp {

class InlineGate {
 public:
  // True when no other handler runs inline now; the caller then runs inline and calls Exit().
  bool TryEnter() {
    bool idle = false;
    return busy_.compare_exchange_strong(idle, true, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void Exit() { busy_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> busy_{false};
};

}  // namespace smp

#endif  // SMP_COMMON_RPC_INLINE_GATE_H_
