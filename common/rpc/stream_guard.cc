#include "common/rpc/stream_guard.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/auth_flags.h"

ABSL_FLAG(int, max_streams_per_session, 8,
          "Watch streams (WatchChanges, WatchLowStock) one login session may hold open at once; "
          "one more is refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_streams, 256,
          "Watch streams the service holds open at once, over all callers; one more is refused "
          "with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, stream_threads, 2,
          "Threads that run every watch stream's work (database reads, session re-checks); "
          "streams wait without holding a thread.");

namespace smp {

StreamLimits StreamLimitsFromFlags() {
  StreamLimits limits;
  limits.max_per_session = absl::GetFlag(FLAGS_max_streams_per_session);
  limits.max_per_service = absl::GetFlag(FLAGS_max_streams);
  limits.threads = absl::GetFlag(FLAGS_stream_threads);
  limits.recheck_interval = AuthCacheOptionsFromFlags().ttl;
  for (auto [name, value] :
       {std::pair<const char*, int>{"max_streams_per_session", limits.max_per_session},
        {"max_streams", limits.max_per_service},
        {"stream_threads", limits.threads}}) {
    if (value < 1) {
      std::fprintf(stderr, "--%s must be at least 1 (got %d)\n", name, value);
      std::exit(2);
    }
  }
  return limits;
}

std::string AuthorizationOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// ---------------------------------------------------------------- WatchStreams

WatchStreams::WatchStreams(const RpcFrame* frame, StreamLimits limits)
    : frame_(frame),
      guard_(limits,
             [frame](absl::string_view authorization, absl::string_view method) {
               return frame->CallFor(authorization, method);
             }),
      executor_(limits.threads) {}

// ---------------------------------------------------------------- StreamGuard

StreamGuard::StreamGuard(StreamLimits limits, Recheck recheck)
    : limits_(limits), recheck_(std::move(recheck)) {}

absl::StatusOr<std::unique_ptr<StreamGuard::Lease>> StreamGuard::Open(Call admitted,
                                                                      std::string authorization) {
  std::string session =
      admitted.who.session_id.empty() ? admitted.who.staff_id : admitted.who.session_id;
  {
    absl::MutexLock lock(&mu_);
    if (open_ >= limits_.max_per_service) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "this service already serves ", open_,
          " watch streams, its cap (--max_streams=", limits_.max_per_service, "); retry later"));
    }
    int& mine = per_session_[session];
    if (mine >= limits_.max_per_session) {
      return absl::ResourceExhaustedError(absl::StrCat("this session already holds ", mine,
                                                       " open watch streams, the cap per session "
                                                       "(--max_streams_per_session=",
                                                       limits_.max_per_session,
                                                       "); close one or log in again"));
    }
    ++mine;
    ++open_;
  }
  return std::unique_ptr<Lease>(
      new Lease(this, std::move(admitted), std::move(authorization), std::move(session)));
}

int StreamGuard::open_streams() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

void StreamGuard::Release(const std::string& session) {
  absl::MutexLock lock(&mu_);
  --open_;
  auto it = per_session_.find(session);
  if (it != per_session_.end() && --it->second <= 0) per_session_.erase(it);
}

StreamGuard::Lease::Lease(StreamGuard* guard, Call call, std::string authorization,
                          std::string session)
    : guard_(guard),
      call_(std::move(call)),
      authorization_(std::move(authorization)),
      session_(std::move(session)),
      checked_(call_.now) {}

StreamGuard::Lease::~Lease() { guard_->Release(session_); }

absl::Status StreamGuard::Lease::Recheck(absl::Time now) {
  call_.now = now;
  if (now < next_check()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Call fresh, guard_->recheck_(authorization_, call_.method));
  call_.who = std::move(fresh.who);
  checked_ = now;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- StreamExecutor

StreamExecutor::StreamExecutor(int threads) {
  threads_.reserve(std::max(threads, 1));
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Work(); });
}

StreamExecutor::~StreamExecutor() {
  Stop();
  {
    absl::MutexLock lock(&mu_);
    exit_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void StreamExecutor::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  ready_.push_back(std::move(task));
}

void StreamExecutor::PostAt(absl::Time when, std::string key, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    ready_.push_back(std::move(task));
    return;
  }
  auto it = waiting_.emplace(when, Delayed{std::move(key), std::move(task)});
  if (it == waiting_.begin()) ++earliest_changed_;  // a sleeping worker must wake sooner
}

void StreamExecutor::Wake(absl::string_view key) {
  if (key.empty()) return;
  absl::MutexLock lock(&mu_);
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.key == key) {
      ready_.push_back(std::move(it->second.task));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

void StreamExecutor::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (auto& [when, delayed] : waiting_) ready_.push_back(std::move(delayed.task));
  waiting_.clear();
}

bool StreamExecutor::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void StreamExecutor::Work() {
  absl::MutexLock lock(&mu_);
  while (true) {
    const absl::Time now = absl::Now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      ready_.push_back(std::move(waiting_.begin()->second.task));
      waiting_.erase(waiting_.begin());
    }
    if (!ready_.empty()) {
      std::function<void()> task = std::move(ready_.front());
      ready_.pop_front();
      mu_.Unlock();
      task();
      mu_.Lock();
      continue;
    }
    if (exit_ && waiting_.empty()) return;
    const uint64_t seen = earliest_changed_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !ready_.empty() || exit_ || earliest_changed_ != seen;
    };
    if (waiting_.empty()) {
      mu_.Await(absl::Condition(&woken));
    } else {
      mu_.AwaitWithDeadline(absl::Condition(&woken), waiting_.begin()->first);
    }
  }
}

}  // namespace smp
