#include "common/rpc/refusal_log.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/testing/calls.h"
#include "common/server/metrics.h"
#include "common/status/error_details.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StaffOf;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

absl::Status ScopeRefusal() {
  return WithErrorInfo(absl::PermissionDeniedError("clinic c2 is outside your clinics"),
                       reason::kOutsideClinicScope);
}

class RefusalLogTest : public ::testing::Test {
 protected:
  RefusalLog MakeLog() {
    return RefusalLog([this](const RefusalSummary& s) { summaries_.push_back(s); }, &clock_,
                      absl::Minutes(1));
  }

  FakeClock clock_{kNow};
  std::vector<RefusalSummary> summaries_;
};

TEST_F(RefusalLogTest, ABurstBecomesTheFirstAtOnceAndOneCountAtTheWindowsEnd) {
  RefusalLog log = MakeLog();
  const Principal desk = StaffOf({common::v1::ROLE_FRONT_DESK}, {"c1"}, "desk-1");
  for (int i = 0; i < 100; ++i) {
    log.Record(desk, "RefusalBurstMethod", ScopeRefusal());
    clock_.Advance(absl::Milliseconds(10));
  }
  ASSERT_EQ(summaries_.size(), 1u);  // the first, at once
  EXPECT_EQ(summaries_[0].count, 1);
  EXPECT_EQ(summaries_[0].who.staff_id, "desk-1");
  EXPECT_EQ(summaries_[0].reason, reason::kOutsideClinicScope);
  EXPECT_EQ(summaries_[0].message, "clinic c2 is outside your clinics");
  EXPECT_EQ(log.Flush(), 0);  // the window is still open
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(log.Flush(), 1);
  ASSERT_EQ(summaries_.size(), 2u);
  EXPECT_EQ(summaries_[1].count, 99);
  EXPECT_EQ(summaries_[1].window_start, kNow);
  EXPECT_EQ(summaries_[1].window_end, kNow + absl::Milliseconds(990));
  EXPECT_EQ(log.Flush(), 0);
  // Every refusal is counted in the metrics.
  EXPECT_THAT(Metrics().RenderPrometheus(),
              HasSubstr("smp_rpc_refusals_total{method=\"RefusalBurstMethod\",reason=\"" +
                        std::string(reason::kOutsideClinicScope) + "\"} 100"));
}

TEST_F(RefusalLogTest, CallersMethodsAndReasonsAreCountedApart) {
  RefusalLog log = MakeLog();
  const Principal a = StaffOf({common::v1::ROLE_FRONT_DESK}, {"c1"}, "a");
  const Principal b = StaffOf({common::v1::ROLE_FRONT_DESK}, {"c1"}, "b");
  log.Record(a, "M1", ScopeRefusal());
  log.Record(a, "M1", ScopeRefusal());
  log.Record(b, "M1", ScopeRefusal());
  log.Record(a, "M2", ScopeRefusal());
  log.Record(a, "M1", absl::PermissionDeniedError("no reason given"));
  log.Record(Principal(), "M1", ScopeRefusal());
  EXPECT_EQ(summaries_.size(), 5u);  // one first per key
  EXPECT_EQ(summaries_[3].reason, "PERMISSION_DENIED");
  clock_.Advance(absl::Minutes(2));
  // A refusal after the window ended closes it (the rest: 1) and opens a new one (the first).
  log.Record(a, "M1", ScopeRefusal());
  ASSERT_EQ(summaries_.size(), 7u);
  EXPECT_EQ(summaries_[5].count, 1);
  EXPECT_EQ(summaries_[6].count, 1);
  EXPECT_EQ(summaries_[6].window_start, kNow + absl::Minutes(2));
}

TEST_F(RefusalLogTest, PendingCountsAreEmittedWhenTheLogCloses) {
  {
    RefusalLog log = MakeLog();
    const Principal a = StaffOf({common::v1::ROLE_AUDITOR}, {}, "a");
    for (int i = 0; i < 5; ++i) log.Record(a, "M", ScopeRefusal());
  }
  ASSERT_EQ(summaries_.size(), 2u);
  EXPECT_EQ(summaries_[1].count, 4);
}

}  // namespace
}  // namespace smp
