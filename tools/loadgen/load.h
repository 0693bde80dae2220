#ifndef SMP_TOOLS_LOADGEN_LOAD_H_
#define SMP_TOOLS_LOADGEN_LOAD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/loadgen/histogram.h"

namespace smp::loadgen {

// The one unary call a load run repeats: a method path and a pre-serialised request, sent
// through grpc::GenericStub so that the hot loop knows no message types.
struct CallSpec {
  std::string method;   // full path, e.g. "/smp.bench.v1.EchoService/Echo"
  std::string request;  // the serialised request message, sent unchanged every time
  // Sent with every call, e.g. {"authorization", "Bearer ..."}.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Non-empty: call n (in the order calls are started, warm-up included) sends requests[n]
  // instead of `request`, and no more than requests.size() calls are started (as if
  // max_requests were that); for calls that must differ, e.g. one booking per free slot.
  std::vector<std::string> requests;
  // Status code names ("FAILED_PRECONDITION") that are an expected answer, e.g. the losers of a
  // race for one slot: counted in LoadResult::expected, in the latency histogram and in qps,
  // not as errors.
  std::vector<std::string> expected_errors;
  // Optional: checks the target's state after the load (e.g. that exactly one booking won);
  // smp_loadgen fails the run when it returns an error.
  std::function<absl::Status()> verify;
};

struct LoadOptions {
  std::string target;  // host:port, plaintext
  // Closed loop: this many calls are kept outstanding at all times. Open loop: a cap on
  // outstanding calls; a send that finds none free waits, and its latency still counts from its
  // intended time.
  int concurrency = 1;
  // Calls are spread round-robin over this many channels, each with distinct channel arguments
  // and a local subchannel pool, hence its own TCP connection.
  int channels = 1;
  // Calls started in [warmup, warmup + duration) from the start are measured; earlier ones warm
  // up connections, caches and thread pools and are discarded.
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  // Hard cap on calls started, warm-up included: no run, open or closed, sends more. Reaching it
  // ends the measured window early (LoadResult::capped).
  int64_t max_requests = 10'000'000;
  // > 0: open loop, sends scheduled at fixed intervals of 1/rate s from the start; a call's
  // latency is measured from its intended send time, so a server that falls behind is charged
  // for the queueing it causes (no coordinated omission). 0: closed loop.
  double rate = 0;
  // Deadline of every call (a call past it ends DEADLINE_EXCEEDED and counts as an error).
  absl::Duration timeout = absl::Seconds(5);
  // gRPC load-balancing policy of each channel: "" or "pick_first" (gRPC's default: a channel's
  // calls all go to the first address of the target that connects), or "round_robin" (a
  // channel's calls take the addresses of a multi-address target, e.g.
  // "ipv4:127.0.0.1:7002,127.0.0.1:7012", in turn: several replicas of a service behind one
  // name). Anything else is INVALID_ARGUMENT.
  std::string lb_policy;
  // How long to wait for every channel to connect before the run.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Called by the driving thread when the measured window opens and when it closes (for CPU
  // sampling of the processes under test). Optional.
  std::function<void()> on_measure_start, on_measure_end;
};

struct LoadResult {
  Histogram latency_us;  // OK and expected-error calls started in the measured window, us
  int64_t ok = 0;        // OK calls started in the measured window
  // Failed calls started in the measured window, by status code name ("RESOURCE_EXHAUSTED").
  std::map<std::string, int64_t> errors;
  // One message per code (the first seen), to tell e.g. "Server Threadpool Exhausted" apart.
  std::map<std::string, std::string> error_samples;
  // Calls started in the measured window that ended with one of CallSpec::expected_errors.
  std::map<std::string, int64_t> expected;
  double measured_seconds = 0;  // the window's length (shorter than duration when capped)
  bool capped = false;          // max_requests was reached
  int64_t started = 0;          // calls started in all, warm-up included
  // Open loop: the largest delay between a call's intended and actual send, microseconds (the
  // generator's own lag; large values mean the client, not the server, fell behind).
  int64_t max_send_lag_us = 0;

  int64_t error_count() const;
  int64_t expected_count() const;
  // Calls started in the measured window: OK, expected errors and failures.
  int64_t calls() const { return ok + expected_count() + error_count(); }
  // Answered calls (OK and expected errors) per second of the measured window.
  double qps() const {
    return measured_seconds > 0 ? static_cast<double>(ok + expected_count()) / measured_seconds : 0;
  }
};

// The share of a run's calls that may fail before its figures stop meaning anything (a row
// whose calls mostly fail measures refusals, not work): 0.1%.
inline constexpr double kDefaultMaxErrorRatio = 0.001;

// OK when at most `max_error_ratio` of the measured calls failed (expected errors are answers,
// not failures); else FAILED_PRECONDITION naming `scenario`, the share, and each status code with
// its count and first message, e.g. "scheduling.book: 812 of 20000 calls failed (4.06%, more than
// 0.10%): FAILED_PRECONDITION x812 (\"patient ... is booked then\")".
absl::Status CheckErrorBudget(absl::string_view scenario, const LoadResult& result,
                              double max_error_ratio = kDefaultMaxErrorRatio);

// Runs one load against `options.target`. Returns INVALID_ARGUMENT for bad options and
// UNAVAILABLE when a channel does not connect in time; RPC failures during the run are counted
// in the result, not returned. Blocks until every call it started has finished.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const CallSpec& call);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_LOAD_H_
