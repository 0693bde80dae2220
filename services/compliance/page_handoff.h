#ifndef SMP_SERVICES_COMPLIANCE_PAGE_HANDOFF_H_
#define SMP_SERVICES_COMPLIANCE_PAGE_HANDOFF_H_

// Hands a report's pages from the thread that builds them to the thread that sends them, so that
// the next page is read and judged while the last one is written to the client. On one thread the
// sends (each part's serialisation and gRPC's write) were about a seventh of a 100-clinic year's
// report, added to the reads and the findings.
//
// At most `depth` built pages wait (each on its own arena, a page of 200 procedures and their
// findings), so memory stays bounded however slow the client is.

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

// A built page: its parts, in order, all on `arena`.
struct BuiltPage {
  std::unique_ptr<google::protobuf::Arena> arena;
  std::vector<v1::ReportPart*> parts;
};

class PageHandoff {
 public:
  explicit PageHandoff(size_t depth) : depth_(depth) {}
  PageHandoff(const PageHandoff&) = delete;
  PageHandoff& operator=(const PageHandoff&) = delete;

  // Builder: queues `page`, waiting while `depth` pages wait already. False (the page dropped)
  // once the sender stopped: the builder should stop too.
  bool Push(BuiltPage page);

  // Builder: no more pages come (the last was pushed, or building failed).
  void Finish();

  // Sender: the next page, oldest first; nullopt once Finish was called and every page taken.
  std::optional<BuiltPage> Pop();

  // Sender: nothing more will be sent (the client went away). Drops the waiting pages and makes
  // every later Push return false, so a builder waiting for room goes on and stops.
  void Stop();

 private:
  const size_t depth_;
  absl::Mutex mu_;
  std::deque<BuiltPage> pages_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_PAGE_HANDOFF_H_
