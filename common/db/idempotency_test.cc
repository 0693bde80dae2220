#include "common/db/idempotency.h"

#include <string>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "smp/common/v1/money.pb.h"

namespace smp {
namespace {

using ::smp::common::v1::Money;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

Money MakeMoney(int64_t minor, const char* currency) {
  Money m;
  m.set_amount_minor(minor);
  m.set_currency_code(currency);
  return m;
}

class IdempotencyTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, testing::OpenNewTestDatabase(GetParam()));
    ASSERT_OK(ApplyMigrations(*db_, {{1, "keys", kIdempotencyTableSql}}, kNow));
  }

  // A "create" that counts how often it really ran.
  absl::StatusOr<Money> Create(const std::string& request_id, const Money& request,
                               const std::string& caller = "staff-1") {
    ASSIGN_OR_RETURN(IdempotencyKey key, MakeIdempotencyKey("Create", request_id, caller, request));
    return RunIdempotent<Money>(*db_, key, kNow, [&](Transaction&) -> absl::StatusOr<Money> {
      ++runs_;
      if (fail_next_) {
        fail_next_ = false;
        return absl::UnavailableError("peer down");
      }
      Money out = request;
      out.set_amount_minor(request.amount_minor() + runs_);  // differs per run
      return out;
    });
  }

  std::unique_ptr<Database> db_;
  int runs_ = 0;
  bool fail_next_ = false;
};

INSTANTIATE_TEST_SUITE_P(Backends, IdempotencyTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(IdempotencyTest, ReplayReturnsFirstResultWithoutRunningAgain) {
  ASSERT_OK_AND_ASSIGN(Money first, Create("key-1", MakeMoney(100, "USD")));
  ASSERT_OK_AND_ASSIGN(Money replay, Create("key-1", MakeMoney(100, "USD")));
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(replay.SerializeAsString(), first.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(Money other, Create("key-2", MakeMoney(100, "USD")));
  EXPECT_EQ(runs_, 2);
  EXPECT_NE(other.amount_minor(), first.amount_minor());
}

TEST_P(IdempotencyTest, SameKeyDifferentRequestIsRefusedAndChangesNothing) {
  ASSERT_OK(Create("key-1", MakeMoney(100, "USD")).status());
  EXPECT_THAT(Create("key-1", MakeMoney(999, "USD")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("different request")));
  EXPECT_EQ(ErrorReason(Create("key-1", MakeMoney(999, "USD")).status()), reason::kRequestIdReused);
  EXPECT_EQ(ViolatedFields(Create("key-1", MakeMoney(999, "USD")).status()),
            std::vector<std::string>{"request_id"});
  EXPECT_EQ(runs_, 1);
}

// Issue 13: a key is the caller's own. Another caller using the same request_id first cannot
// occupy it (the owner's request still runs) nor be handed the owner's response.
TEST_P(IdempotencyTest, KeysAreScopedToTheCaller) {
  ASSERT_OK_AND_ASSIGN(Money squatter, Create("key-1", MakeMoney(999, "USD"), "staff-2"));
  ASSERT_OK_AND_ASSIGN(Money owner, Create("key-1", MakeMoney(100, "USD"), "staff-1"));
  EXPECT_EQ(runs_, 2);
  EXPECT_NE(owner.amount_minor(), squatter.amount_minor());
  ASSERT_OK_AND_ASSIGN(Money replay, Create("key-1", MakeMoney(100, "USD"), "staff-1"));
  EXPECT_EQ(replay.SerializeAsString(), owner.SerializeAsString());
  // The same request from a third caller runs anew rather than replaying staff-1's response.
  ASSERT_OK(Create("key-1", MakeMoney(100, "USD"), "staff-3").status());
  EXPECT_EQ(runs_, 3);
  // A caller id cannot be spelt to collide with another (scope, caller) pair.
  ASSERT_OK_AND_ASSIGN(IdempotencyKey a,
                       MakeIdempotencyKey("A", "k", "x|1:y", MakeMoney(1, "USD")));
  ASSERT_OK_AND_ASSIGN(IdempotencyKey b,
                       MakeIdempotencyKey("A|3:x", "k", "y", MakeMoney(1, "USD")));
  EXPECT_NE(a.scope, b.scope);
}

TEST_P(IdempotencyTest, FailureIsNotRememberedSoARetryRuns) {
  fail_next_ = true;
  EXPECT_THAT(Create("key-1", MakeMoney(5, "EUR")), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(Create("key-1", MakeMoney(5, "EUR")).status());
  EXPECT_EQ(runs_, 2);
}

TEST_P(IdempotencyTest, PurgeForgetsOldKeysSoTheyRunAgainAndKeepsNewOnes) {
  ASSERT_OK(Create("old", MakeMoney(1, "USD")).status());
  // A key made a day later than kNow: purging everything before kNow + 1h spares it.
  ASSERT_OK_AND_ASSIGN(IdempotencyKey later,
                       MakeIdempotencyKey("Create", "new", "staff-1", MakeMoney(2, "USD")));
  ASSERT_OK(RunIdempotent<Money>(*db_, later, kNow + absl::Hours(24),
                                 [](Transaction&) -> absl::StatusOr<Money> { return Money(); })
                .status());
  ASSERT_OK_AND_ASSIGN(int64_t purged, PurgeIdempotencyKeys(*db_, kNow + absl::Hours(1)));
  EXPECT_EQ(purged, 1);
  ASSERT_OK(Create("old", MakeMoney(1, "USD")).status());
  EXPECT_EQ(runs_, 2) << "a purged key runs again";
  // Left now: the re-run's key (made at kNow) and the later one.
  ASSERT_OK_AND_ASSIGN(int64_t rerun, PurgeIdempotencyKeys(*db_, kNow + absl::Hours(1)));
  EXPECT_EQ(rerun, 1);
  ASSERT_OK_AND_ASSIGN(int64_t newer, PurgeIdempotencyKeys(*db_, kNow + absl::Hours(25)));
  EXPECT_EQ(newer, 1);
}

TEST_P(IdempotencyTest, BadRequestIdIsInvalidArgument) {
  EXPECT_THAT(Create("", MakeMoney(5, "EUR")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_THAT(Create("has space", MakeMoney(5, "EUR")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_EQ(runs_, 0);
}

}  // namespace
}  // namespace smp
