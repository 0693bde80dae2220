#include "common/db/database.h"

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

absl::Status Database::Run(TxMode mode, const std::function<absl::Status(Transaction&)>& fn) {
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Begin(mode);
  if (!txn.ok()) return txn.status();
  absl::Status status = fn(**txn);
  if (!status.ok()) return status;  // the destructor rolls back
  return (*txn)->Commit();
}

}  // namespace smp
