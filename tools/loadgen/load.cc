#include "tools/loadgen/load.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/server/rpc_observer.h"
#include "tools/loadgen/client_credentials.h"

namespace smp::loadgen {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sleeps until the steady clock reads `t_ns`.
void SleepUntilNs(int64_t t_ns) {
  const int64_t remaining = t_ns - NowNs();
  if (remaining > 0) absl::SleepFor(absl::Nanoseconds(remaining));
}

// How many RunLoad calls are currently inside GenericStub::UnaryCall on this thread. A completion
// delivered while it is non-zero runs inline under a send, and re-sending from there could recurse
// without bound; such slots are handed to the driving thread instead.
thread_local int tls_sending = 0;

absl::Status ValidateOptions(const LoadOptions& o) {
  if (o.target.empty()) return absl::InvalidArgumentError("target is empty");
  if (o.concurrency < 1) return absl::InvalidArgumentError("concurrency must be at least 1");
  if (o.channels < 1 || o.channels > o.concurrency) {
    return absl::InvalidArgumentError("channels must be between 1 and concurrency");
  }
  if (o.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("duration must be positive");
  }
  if (o.warmup < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("warmup must not be negative");
  }
  if (o.max_requests < 1) return absl::InvalidArgumentError("max_requests must be at least 1");
  if (!o.lb_policy.empty() && o.lb_policy != "pick_first" && o.lb_policy != "round_robin") {
    return absl::InvalidArgumentError("lb_policy must be pick_first or round_robin");
  }
  if (!(o.rate >= 0) || std::isinf(o.rate)) {
    return absl::InvalidArgumentError("rate must be a finite number >= 0");
  }
  if (o.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  return absl::OkStatus();
}

class LoadRun {
 public:
  LoadRun(const LoadOptions& options, const CallSpec& call)
      : options_(options),
        call_(call),
        limit_(call.requests.empty()
                   ? options.max_requests
                   : std::min<int64_t>(options.max_requests,
                                       static_cast<int64_t>(call.requests.size()))) {}

  absl::StatusOr<LoadResult> Run() {
    if (absl::Status status = ValidateOptions(options_); !status.ok()) return status;
    if (absl::Status status = Connect(); !status.ok()) return status;
    const grpc::Slice request_slice(call_.request);
    for (int i = 0; i < options_.concurrency; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->stub = stubs_[i % stubs_.size()].get();
      slot->request = grpc::ByteBuffer(&request_slice, 1);
      slots_.push_back(std::move(slot));
    }

    t0_ns_ = NowNs();
    window_start_ns_ = t0_ns_ + absl::ToInt64Nanoseconds(options_.warmup);
    window_end_ns_ = window_start_ns_ + absl::ToInt64Nanoseconds(options_.duration);
    if (options_.rate > 0) {
      DriveOpenLoop();
    } else {
      DriveClosedLoop();
    }

    absl::MutexLock lock(&mu_);
    const int64_t cap_ns = cap_ns_.load();
    const int64_t end_ns = cap_ns > 0 ? std::min(cap_ns, window_end_ns_) : window_end_ns_;
    result_.measured_seconds = std::max<int64_t>(0, end_ns - window_start_ns_) / 1e9;
    result_.capped = cap_ns > 0;
    result_.started = std::min(tickets_.load(), limit_);
    return std::move(result_);
  }

 private:
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::optional<grpc::ClientContext> context;  // a fresh one per call
    int64_t start_ns = 0;  // when the call started (open loop: was meant to start)
  };

  absl::Status Connect() {
    const auto deadline =
        std::chrono::system_clock::now() + absl::ToChronoNanoseconds(options_.connect_timeout);
    for (int i = 0; i < options_.channels; ++i) {
      grpc::ChannelArguments args;
      // Channels with equal arguments may share a subchannel (one TCP connection); a distinct
      // argument and a per-channel subchannel pool give each its own.
      args.SetInt("smp.loadgen.channel_index", i);
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      if (!options_.lb_policy.empty()) args.SetLoadBalancingPolicyName(options_.lb_policy);
      auto channel = grpc::CreateCustomChannel(options_.target, ClientCredentials(), args);
      if (!channel->WaitForConnected(deadline)) {
        return absl::UnavailableError(absl::StrCat("cannot connect to ", options_.target,
                                                   " within ",
                                                   absl::FormatDuration(options_.connect_timeout)));
      }
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
      channels_.push_back(std::move(channel));
    }
    return absl::OkStatus();
  }

  // Claims one of max_requests; false once they are all taken (the first refusal stamps the
  // time the cap was reached).
  bool TakeTicket(int64_t now_ns, int64_t* ticket) {
    const int64_t n = tickets_.fetch_add(1, std::memory_order_relaxed);
    *ticket = n;
    if (n < limit_) return true;
    int64_t unset = 0;
    cap_ns_.compare_exchange_strong(unset, now_ns);
    return false;
  }

  void Send(Slot* slot, int64_t start_ns, int64_t ticket) {
    slot->start_ns = start_ns;
    if (!call_.requests.empty()) {
      const grpc::Slice request_slice(call_.requests[static_cast<size_t>(ticket)]);
      slot->request = grpc::ByteBuffer(&request_slice, 1);
    }
    slot->response.Clear();
    slot->context.emplace();
    slot->context->set_deadline(std::chrono::system_clock::now() +
                                absl::ToChronoNanoseconds(options_.timeout));
    for (const auto& [key, value] : call_.metadata) slot->context->AddMetadata(key, value);
    ++tls_sending;
    slot->stub->UnaryCall(&*slot->context, call_.method, grpc::StubOptions(), &slot->request,
                          &slot->response,
                          [this, slot](const grpc::Status& status) { OnDone(slot, status); });
    --tls_sending;
  }

  // Closed loop: starts the slot's next call now, or retires the slot once the window has
  // closed or the cap is reached.
  void SendNextOrRetire(Slot* slot) {
    const int64_t now = NowNs();
    int64_t ticket = 0;
    if (now < window_end_ns_ && TakeTicket(now, &ticket)) {
      Send(slot, now, ticket);
      return;
    }
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

  void OnDone(Slot* slot, const grpc::Status& status) {
    Record(slot->start_ns, NowNs(), status);
    if (options_.rate > 0 || tls_sending > 0) {
      // Open loop: back to the free list. Closed loop, inline under a send: let the driving
      // thread send the next call.
      absl::MutexLock lock(&mu_);
      ready_.push_back(slot);
      if (options_.rate > 0) --in_flight_;
      return;
    }
    SendNextOrRetire(slot);
  }

  void Record(int64_t start_ns, int64_t end_ns, const grpc::Status& status) {
    if (start_ns < window_start_ns_ || start_ns >= window_end_ns_) return;
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      result_.latency_us.Record((end_ns - start_ns) / 1000);
      ++result_.ok;
      return;
    }
    const std::string code(GrpcCodeName(status.error_code()));
    if (std::find(call_.expected_errors.begin(), call_.expected_errors.end(), code) !=
        call_.expected_errors.end()) {
      result_.latency_us.Record((end_ns - start_ns) / 1000);
      ++result_.expected[code];
      return;
    }
    ++result_.errors[code];
    result_.error_samples.emplace(code, status.error_message());
  }

  void MeasureStart() {
    if (options_.on_measure_start) options_.on_measure_start();
  }
  void MeasureEnd() {
    if (options_.on_measure_end) options_.on_measure_end();
  }

  void DriveClosedLoop() {
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = static_cast<int>(slots_.size());
    }
    for (auto& slot : slots_) SendNextOrRetire(slot.get());
    bool started = false, ended = false;
    while (true) {
      const int64_t now = NowNs();
      if (!started && now >= window_start_ns_) {
        started = true;
        MeasureStart();
      }
      if (!ended && now >= window_end_ns_) {
        ended = true;
        MeasureEnd();
      }
      std::vector<Slot*> deferred;
      {
        absl::MutexLock lock(&mu_);
        if (in_flight_ == 0) break;
        const int64_t next_ns = !started ? window_start_ns_
                                : !ended ? window_end_ns_
                                         : now + 1'000'000'000;
        auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !ready_.empty() || in_flight_ == 0;
        };
        mu_.AwaitWithTimeout(absl::Condition(&has_work), absl::Nanoseconds(next_ns - now));
        deferred.swap(ready_);
      }
      for (Slot* slot : deferred) SendNextOrRetire(slot);
    }
    if (!started) MeasureStart();
    if (!ended) MeasureEnd();
  }

  void DriveOpenLoop() {
    // Sleeps here should end when asked, not up to 50 us later (the default timer slack), since
    // a late send is charged to the server's latency.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    {
      absl::MutexLock lock(&mu_);
      for (auto& slot : slots_) ready_.push_back(slot.get());
    }
    const double interval_ns = 1e9 / options_.rate;
    bool started = false;
    for (int64_t i = 0;; ++i) {
      const int64_t intended = t0_ns_ + std::llround(static_cast<double>(i) * interval_ns);
      int64_t ticket = 0;
      if (intended >= window_end_ns_ || !TakeTicket(intended, &ticket)) break;
      if (!started && intended >= window_start_ns_) {
        SleepUntilNs(window_start_ns_);
        started = true;
        MeasureStart();
      }
      SleepUntilNs(intended);
      Slot* slot = nullptr;
      {
        absl::MutexLock lock(&mu_);
        auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ready_.empty(); };
        mu_.Await(absl::Condition(&has_free));
        slot = ready_.back();
        ready_.pop_back();
        ++in_flight_;
      }
      const int64_t lag_us = (NowNs() - intended) / 1000;
      result_max_send_lag_us_ = std::max(result_max_send_lag_us_, lag_us);
      Send(slot, intended, ticket);
    }
    if (!started) {
      SleepUntilNs(window_start_ns_);
      MeasureStart();
    }
    if (cap_ns_.load() == 0) SleepUntilNs(window_end_ns_);
    MeasureEnd();
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    mu_.Await(absl::Condition(&drained));
    result_.max_send_lag_us = result_max_send_lag_us_;
  }

  const LoadOptions& options_;
  const CallSpec& call_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::unique_ptr<Slot>> slots_;
  int64_t t0_ns_ = 0, window_start_ns_ = 0, window_end_ns_ = 0;
  std::atomic<int64_t> tickets_{0};
  std::atomic<int64_t> cap_ns_{0};
  const int64_t limit_;                 // max_requests, or fewer when call_.requests is shorter
  int64_t result_max_send_lag_us_ = 0;  // driving thread only

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // slots with a call outstanding (or about to be)
  // Open loop: free slots. Closed loop: slots whose next call the driving thread must send.
  std::vector<Slot*> ready_ ABSL_GUARDED_BY(mu_);
  LoadResult result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int64_t LoadResult::error_count() const {
  int64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

int64_t LoadResult::expected_count() const {
  int64_t n = 0;
  for (const auto& [code, count] : expected) n += count;
  return n;
}

absl::Status CheckErrorBudget(absl::string_view scenario, const LoadResult& result,
                              double max_error_ratio) {
  const int64_t failed = result.error_count(), calls = result.calls();
  if (failed == 0 || static_cast<double>(failed) <= max_error_ratio * static_cast<double>(calls)) {
    return absl::OkStatus();
  }
  std::string out = absl::StrFormat(
      "%s: %d of %d calls failed (%.2f%%, more than %.2f%%):", scenario, failed, calls,
      100.0 * static_cast<double>(failed) / static_cast<double>(calls), 100.0 * max_error_ratio);
  const char* sep = " ";
  for (const auto& [code, count] : result.errors) {
    absl::StrAppend(&out, sep, code, " x", count);
    if (auto sample = result.error_samples.find(code); sample != result.error_samples.end()) {
      absl::StrAppend(&out, " (\"", sample->second, "\")");
    }
    sep = ", ";
  }
  return absl::FailedPreconditionError(out);
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const CallSpec& call) {
  LoadRun run(options, call);
  return run.Run();
}

}  // namespace smp::loadgen
