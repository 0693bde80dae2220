#include "services/identity/revocations.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/status_macros.h"

namespace smp::identity {
namespace {

// Rows read per account or per background run; an account has a handful at most.
constexpr int kBatch = 500;

void CountPending(Database& db, const IdentityStore& store) {
  // The backlog, for alerting: non-zero for long means Redis has been unreachable that long.
  int64_t pending = 0;
  absl::Status counted = db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(pending, store.CountPendingRevocations(txn));
    return absl::OkStatus();
  });
  if (!counted.ok()) return;
  Metrics().SetGauge("smp_identity_pending_revocations",
                     "Accounts' session revocations saved but not yet done in Redis.", {},
                     static_cast<double>(pending));
}

// The session every row spares ("" if any row spares none, or they spare different ones).
std::string CommonSpare(const std::vector<PendingRevocation>& rows) {
  if (rows.empty()) return "";
  for (const PendingRevocation& row : rows) {
    if (row.spare_session_id != rows.front().spare_session_id) return "";
  }
  return rows.front().spare_session_id;
}

}  // namespace

absl::Status Revocations::Record(Transaction& txn, absl::string_view staff_id,
                                 absl::string_view action, absl::Time now,
                                 absl::string_view spare_session_id) const {
  return store_.AddPendingRevocation(txn, staff_id, action, now, spare_session_id);
}

absl::Status Revocations::FinishRows(absl::string_view staff_id,
                                     const std::vector<PendingRevocation>& rows,
                                     absl::Time spare_created_after,
                                     absl::string_view spare_session_id) const {
  std::vector<std::string> ids;
  for (const PendingRevocation& row : rows) ids.push_back(row.id);
  RETURN_IF_ERROR(sessions_->RevokeAllForStaff(staff_id, spare_session_id, spare_created_after));
  authenticator_->ForgetStaff(staff_id);
  return db_->Run(TxMode::kWrite,
                  [&](Transaction& txn) { return store_.DeletePendingRevocations(txn, ids); });
}

absl::StatusOr<bool> Revocations::Finish(absl::string_view staff_id,
                                         absl::string_view spare_session_id) const {
  std::vector<PendingRevocation> rows;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(rows, store_.ListPendingRevocations(txn, staff_id, kBatch));
    return absl::OkStatus();
  }));
  // Revokes even with no row pending (a replay of the change): the answer promises that the
  // account's sessions are gone.
  const std::string spare = rows.empty() ? std::string(spare_session_id) : CommonSpare(rows);
  absl::Status finished = FinishRows(staff_id, rows, absl::InfiniteFuture(), spare);
  if (finished.ok()) return false;
  if (rows.empty()) return false;  // an earlier attempt finished what this change called for
  authenticator_->ForgetStaff(staff_id);
  LogWarning("sessions not revoked yet; the revocation is saved and will be retried",
             {{"staff_id", std::string(staff_id)}, {"error", finished.ToString()}});
  // From now on the change is committed, so a later session was made knowing it: the late
  // revocation ends only sessions made before this moment.
  const absl::Time failed_at = clock_.Now();
  std::vector<std::string> ids;
  for (const PendingRevocation& row : rows) ids.push_back(row.id);
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.SetPendingRevocationsTime(txn, ids, failed_at);
  }));
  CountPending(*db_, store_);
  return true;
}

absl::Status Revocations::FinishAll() const {
  std::vector<PendingRevocation> rows;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(rows, store_.ListPendingRevocations(txn, "", kBatch));
    return absl::OkStatus();
  }));
  if (rows.empty()) return absl::OkStatus();
  std::map<std::string, std::vector<PendingRevocation>> by_staff;
  for (PendingRevocation& row : rows) by_staff[row.staff_id].push_back(std::move(row));
  absl::Status first_error;
  int done = 0;
  for (const auto& [staff_id, staff_rows] : by_staff) {
    absl::Time latest = absl::InfinitePast();
    for (const PendingRevocation& row : staff_rows) latest = std::max(latest, row.change_time);
    absl::Status finished = FinishRows(staff_id, staff_rows, latest, CommonSpare(staff_rows));
    if (finished.ok()) {
      ++done;
      LogInfo("pending session revocation done", {{"staff_id", staff_id}});
    } else if (first_error.ok()) {
      first_error = finished;
    }
  }
  CountPending(*db_, store_);
  if (!first_error.ok()) {
    return absl::Status(
        first_error.code(),
        absl::StrCat(by_staff.size() - done,
                     " accounts' session revocations still pending: ", first_error.message()));
  }
  return absl::OkStatus();
}

}  // namespace smp::identity
