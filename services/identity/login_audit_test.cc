#include "services/identity/login_audit.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc/testing/calls.h"
#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/identity/identity_test_env.h"

namespace smp::identity {
namespace {

using ::smp::identity::testing::IdentityTestEnv;
using ::smp::identity::testing::kTestNow;
using ::smp::testing::CallAs;
using ::smp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LoginAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_.Start());
    // Three hours of failures: 08:00 (two subjects), 09:00 (one), 10:00 (one).
    Fail("account", "desk.austin", kTestNow - absl::Minutes(50));
    Fail("account", "desk.austin", kTestNow - absl::Minutes(40));
    Fail("address", "10.0.0.7", kTestNow - absl::Minutes(40));
    Fail("unknown_account", "*", kTestNow + absl::Minutes(5));
    Fail("address", "10.0.0.8", kTestNow + absl::Minutes(65));
  }

  void Fail(const std::string& kind, const std::string& subject, absl::Time when) {
    env_.Write<bool>([&](Transaction& txn) -> absl::StatusOr<bool> {
      RETURN_IF_ERROR(env_.store.AddLoginFailure(txn, kind, subject, kLoginFailureWindow, when));
      return true;
    });
  }

  Call Auditor() const {
    Principal who = ::smp::testing::StaffOf({common::v1::ROLE_AUDITOR}, {});
    return CallAs(who, kTestNow + absl::Hours(2), "ListLoginFailures");
  }

  static std::vector<std::string> Rows(const v1::ListLoginFailuresResponse& response) {
    std::vector<std::string> out;
    for (const v1::LoginFailure& f : response.login_failures()) {
      out.push_back(absl::StrCat(
          absl::FormatTime("%H:%M", FromProtoTimestamp(f.window_start_time()), absl::UTCTimeZone()),
          " ", v1::LoginFailureKind_Name(f.kind()), " ", f.subject(), " ", f.failures()));
    }
    return out;
  }

  IdentityTestEnv env_;
};

TEST_F(LoginAuditTest, ListsThePeriodOldestFirstAPageAtATime) {
  LoginAudit audit(env_.db.get());
  v1::ListLoginFailuresRequest req;
  req.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListLoginFailuresResponse first, audit.ListFailures(Auditor(), req));
  EXPECT_THAT(Rows(first), ElementsAre("08:00 LOGIN_FAILURE_KIND_ACCOUNT desk.austin 2",
                                       "08:00 LOGIN_FAILURE_KIND_ADDRESS 10.0.0.7 1"));
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListLoginFailuresResponse second, audit.ListFailures(Auditor(), req));
  EXPECT_THAT(Rows(second), ElementsAre("09:00 LOGIN_FAILURE_KIND_UNKNOWN_ACCOUNT * 1",
                                        "10:00 LOGIN_FAILURE_KIND_ADDRESS 10.0.0.8 1"));
  EXPECT_TRUE(second.next_page_token().empty());

  // A period: the hours starting in [09:00, 10:00).
  v1::ListLoginFailuresRequest period;
  *period.mutable_start_time() = ToProtoTimestamp(kTestNow);
  *period.mutable_end_time() = ToProtoTimestamp(kTestNow + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(v1::ListLoginFailuresResponse hour, audit.ListFailures(Auditor(), period));
  EXPECT_THAT(Rows(hour), ElementsAre("09:00 LOGIN_FAILURE_KIND_UNKNOWN_ACCOUNT * 1"));
  EXPECT_EQ(hour.login_failures(0).first_time().seconds(),
            absl::ToUnixSeconds(kTestNow + absl::Minutes(5)));
}

TEST_F(LoginAuditTest, RefusesAnEmptyPeriodAndAnotherPeriodsToken) {
  LoginAudit audit(env_.db.get());
  v1::ListLoginFailuresRequest req;
  *req.mutable_start_time() = ToProtoTimestamp(kTestNow);
  *req.mutable_end_time() = ToProtoTimestamp(kTestNow);
  EXPECT_THAT(audit.ListFailures(Auditor(), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("end_time")));

  v1::ListLoginFailuresRequest all;
  all.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListLoginFailuresResponse first, audit.ListFailures(Auditor(), all));
  req.set_page_token(first.next_page_token());
  *req.mutable_end_time() = ToProtoTimestamp(kTestNow + absl::Hours(1));
  EXPECT_THAT(audit.ListFailures(Auditor(), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

// A flood of wrong guesses at one account from one address: every failure is counted, on
// PostgreSQL too, where concurrent increments of one row under SERIALIZABLE failed serialization
// and gave up after kMaxTransactionAttempts, leaving failures uncounted.
TEST_F(LoginAuditTest, ConcurrentFailuresOfOneAccountAreAllCounted) {
  LoginAudit audit(env_.db.get());
  const absl::Time at = kTestNow + absl::Hours(3);  // an hour of its own
  constexpr int kThreads = 32;
  constexpr int kEach = 60;
  std::atomic<int> refused{0};
  std::string first_error;
  absl::Mutex mu;
  std::vector<std::thread> guessers;
  for (int t = 0; t < kThreads; ++t) {
    guessers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status status = audit.Record("desk.flood", "10.9.9.9", at);
        if (!status.ok()) {
          ++refused;
          absl::MutexLock lock(&mu);
          if (first_error.empty()) first_error = status.ToString();
        }
      }
    });
  }
  for (std::thread& t : guessers) t.join();
  EXPECT_EQ(refused.load(), 0) << first_error;

  v1::ListLoginFailuresRequest req;
  *req.mutable_start_time() = ToProtoTimestamp(at);
  *req.mutable_end_time() = ToProtoTimestamp(at + kLoginFailureWindow);
  ASSERT_OK_AND_ASSIGN(v1::ListLoginFailuresResponse response, audit.ListFailures(Auditor(), req));
  EXPECT_THAT(
      Rows(response),
      ElementsAre(absl::StrCat("12:00 LOGIN_FAILURE_KIND_ACCOUNT desk.flood ", kThreads * kEach),
                  absl::StrCat("12:00 LOGIN_FAILURE_KIND_ADDRESS 10.9.9.9 ", kThreads * kEach)));
}

}  // namespace
}  // namespace smp::identity
