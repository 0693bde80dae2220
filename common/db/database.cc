#include "common/db/database.h"

#include <algorithm>
#include <random>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/util/check.h"

namespace smp {

bool Row::IsNull(int column) const {
  return std::holds_alternative<std::monostate>(values_.at(column));
}

int64_t Row::Int(int column) const {
  const DbValue& v = values_.at(column);
  if (std::holds_alternative<std::monostate>(v)) return 0;
  SMP_CHECK(std::holds_alternative<int64_t>(v), "column is not an integer");
  return std::get<int64_t>(v);
}

const std::string& Row::Text(int column) const {
  static const std::string* const kEmpty = new std::string();
  const DbValue& v = values_.at(column);
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<Blob>(v)) return std::get<Blob>(v).bytes;
  SMP_CHECK(std::holds_alternative<std::monostate>(v), "column is not text");
  return *kEmpty;
}

namespace {

constexpr char kConflictPayload[] = "type.smp-suite.dev/smp.db.SerializationConflict";

// A short random pause before running a conflicting transaction again, growing with the attempt,
// so that the transactions that collided do not collide again in lockstep.
void PauseBeforeRetry(int attempt) {
  thread_local std::mt19937 engine{std::random_device{}()};
  const int max_micros = 200 << std::min(attempt, 7);  // 0.4 ms .. 25.6 ms
  absl::SleepFor(
      absl::Microseconds(std::uniform_int_distribution<int>(max_micros / 4, max_micros)(engine)));
}

}  // namespace

absl::Status SerializationConflictError(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kConflictPayload, absl::Cord("1"));
  return status;
}

bool IsSerializationConflict(const absl::Status& status) {
  return absl::IsAborted(status) && status.GetPayload(kConflictPayload).has_value();
}

absl::Status Database::RunAttempt(TxMode mode, const WriteQueue& queue,
                                  const std::function<absl::Status(Transaction&)>& fn) {
  absl::StatusOr<std::unique_ptr<Transaction>> txn =
      queue.key.empty() ? Begin(mode) : BeginQueued(mode, queue);
  if (!txn.ok()) return txn.status();
  absl::Status status = fn(**txn);
  if (!status.ok()) return status;  // the destructor rolls back
  return (*txn)->Commit();
}

absl::Status Database::Run(TxMode mode, const std::function<absl::Status(Transaction&)>& fn) {
  return Run(mode, WriteQueue{}, fn);
}

absl::Status Database::Run(TxMode mode, const WriteQueue& queue,
                           const std::function<absl::Status(Transaction&)>& fn) {
  for (int attempt = 1;; ++attempt) {
    absl::Status status = RunAttempt(mode, queue, fn);
    if (!IsSerializationConflict(status)) return status;
    if (attempt >= kMaxTransactionAttempts) {
      // Without the marker: the edge must not pass it on as an error detail.
      return absl::AbortedError(absl::StrCat("the change conflicted with concurrent changes ",
                                             attempt, " times; try again (", status.message(),
                                             ")"));
    }
    PauseBeforeRetry(attempt);
  }
}

}  // namespace smp
