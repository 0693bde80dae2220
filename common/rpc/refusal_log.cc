#include "common/rpc/refusal_log.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/error_details.h"

ABSL_FLAG(absl::Duration, refusal_window, absl::Minutes(1),
          "Refused attempts (missing permission, clinic outside the caller's scope) are logged "
          "and audited per caller, method and reason at most twice per window of this length: "
          "the first at once, then the count of the rest.");

namespace smp {

absl::Duration RefusalWindowFromFlags() {
  const absl::Duration window = absl::GetFlag(FLAGS_refusal_window);
  return window > absl::ZeroDuration() ? window : absl::Minutes(1);
}

RefusalLog::RefusalLog(Sink sink, const Clock* clock, absl::Duration window)
    : sink_(std::move(sink)), clock_(clock), window_(window) {
  flusher_ = std::make_unique<PeriodicTask>("refusal log",
                                            std::max(window_ / 2, absl::Milliseconds(100)), [this] {
                                              Flush();
                                              return absl::OkStatus();
                                            });
  flusher_->Start();
}

RefusalLog::~RefusalLog() {
  flusher_->Stop();
  FlushAt(absl::InfiniteFuture());
}

void RefusalLog::Record(const Principal& who, absl::string_view method,
                        const absl::Status& refusal) {
  const absl::Time now = clock_->Now();
  std::string reason = ErrorReason(refusal);
  if (reason.empty()) reason = absl::StatusCodeToString(refusal.code());
  Metrics().IncrementCounter("smp_rpc_refusals_total",
                             "Calls refused for a missing permission or a clinic outside the "
                             "caller's scope, by method and reason.",
                             {{"method", std::string(method)}, {"reason", reason}});
  const std::string caller = who.staff_id.empty() ? "anonymous" : who.staff_id;
  const std::string key =
      absl::StrCat(caller, std::string(1, '\0'), method, std::string(1, '\0'), reason);
  std::vector<RefusalSummary> emit;
  {
    absl::MutexLock lock(&mu_);
    auto it = windows_.find(key);
    if (it != windows_.end() && now - it->second.first.window_start >= window_) {
      // The window ended and the flusher has not closed it yet: close it here.
      if (it->second.more > 0) {
        RefusalSummary rest = it->second.first;
        rest.window_end = it->second.last;
        rest.count = it->second.more;
        emit.push_back(std::move(rest));
      }
      windows_.erase(it);
      it = windows_.end();
    }
    if (it == windows_.end()) {
      Window w;
      w.first.who = who;
      w.first.method = std::string(method);
      w.first.reason = reason;
      w.first.message = std::string(refusal.message());
      w.first.window_start = now;
      w.first.window_end = now;
      w.first.count = 1;
      w.last = now;
      emit.push_back(w.first);
      windows_.emplace(key, std::move(w));
    } else {
      ++it->second.more;
      it->second.last = now;
    }
  }
  for (const RefusalSummary& s : emit) Emit(s);
}

int RefusalLog::Flush() { return FlushAt(clock_->Now()); }

int RefusalLog::FlushAt(absl::Time now) {
  std::vector<RefusalSummary> emit;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (now - it->second.first.window_start < window_) {
        ++it;
        continue;
      }
      if (it->second.more > 0) {
        RefusalSummary rest = it->second.first;
        rest.window_end = it->second.last;
        rest.count = it->second.more;
        emit.push_back(std::move(rest));
      }
      windows_.erase(it++);
    }
  }
  for (const RefusalSummary& s : emit) Emit(s);
  return static_cast<int>(emit.size());
}

void RefusalLog::Emit(const RefusalSummary& s) const {
  LogWarning("refused attempts", {{"caller", s.who.staff_id.empty() ? "anonymous" : s.who.staff_id},
                                  {"username", s.who.username},
                                  {"method", s.method},
                                  {"reason", s.reason},
                                  {"count", absl::StrCat(s.count)},
                                  {"first", absl::FormatTime(s.window_start)},
                                  {"last", absl::FormatTime(s.window_end)},
                                  {"message", s.message}});
  if (sink_) sink_(s);
}

}  // namespace smp
