#ifndef SMP_COMMON_STATUS_STATUS_MATCHERS_H_
#define SMP_COMMON_STATUS_STATUS_MATCHERS_H_

// gtest matchers for absl::Status and absl::StatusOr (test-only; the installed Abseil has none).
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(DoIt(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time_zone")));
//   ASSERT_OK_AND_ASSIGN(auto value, MakeIt());

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace smp::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code) + " and a matching message") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

// Matches an OK absl::StatusOr<T> whose value matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace smp::testing

#define SMP_TESTING_CONCAT_INNER_(x, y) x##y
#define SMP_TESTING_CONCAT_(x, y) SMP_TESTING_CONCAT_INNER_(x, y)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::smp::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::smp::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(lhs, expr): asserts a StatusOr is OK and moves its value into lhs.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  SMP_ASSERT_OK_AND_ASSIGN_IMPL_(SMP_TESTING_CONCAT_(smp_statusor_, __COUNTER__), lhs, expr)
#define SMP_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  ASSERT_TRUE(statusor.ok()) << statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // SMP_COMMON_STATUS_STATUS_MATCHERS_H_
