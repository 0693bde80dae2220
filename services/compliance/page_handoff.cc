#include "services/compliance/page_handoff.h"

namespace smp::compliance {

bool PageHandoff::Push(BuiltPage page) {
  absl::MutexLock lock(&mu_);
  auto room = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopped_ || pages_.size() < depth_; };
  mu_.Await(absl::Condition(&room));
  if (stopped_) return false;
  pages_.push_back(std::move(page));
  return true;
}

void PageHandoff::Finish() {
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

std::optional<BuiltPage> PageHandoff::Pop() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !pages_.empty() || finished_; };
  mu_.Await(absl::Condition(&ready));
  if (pages_.empty()) return std::nullopt;
  BuiltPage page = std::move(pages_.front());
  pages_.pop_front();
  return page;
}

void PageHandoff::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  pages_.clear();
}

}  // namespace smp::compliance
