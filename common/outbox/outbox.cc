#include "common/outbox/outbox.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/db/store_kit.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/status_macros.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"

namespace smp {
namespace {

constexpr char kColumns[] =
    "id, destination, kind, payload, created_at, attempts, next_attempt_at, last_error";

OutboxEvent EventFromRow(const Row& row) {
  OutboxEvent e;
  e.id = row.Text(0);
  e.destination = row.Text(1);
  e.kind = row.Text(2);
  e.payload = row.Text(3);
  e.created = FromDbMicros(row.Int(4));
  e.attempts = static_cast<int>(row.Int(5));
  e.next_attempt = FromDbMicros(row.Int(6));
  e.last_error = row.Text(7);
  return e;
}

double Random01() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

absl::StatusOr<std::string> EnqueueEvent(Transaction& txn, absl::string_view destination,
                                         absl::string_view kind,
                                         const google::protobuf::Message& payload, absl::Time now) {
  const std::string id = NewIdAt(now);
  RETURN_IF_ERROR(
      txn.Exec(absl::StrCat("INSERT INTO outbox (", kColumns, ") VALUES (?, ?, ?, ?, ?, 0, ?, '')"),
               {id, std::string(destination), std::string(kind), Blob{payload.SerializeAsString()},
                ToDbMicros(now), ToDbMicros(now)}));
  return id;
}

absl::Duration BackoffAfter(int attempts, const RetryPolicy& policy, double random01) {
  const int n = std::max(attempts, 1);
  const double base =
      absl::ToDoubleSeconds(policy.initial) * std::pow(policy.multiplier, std::min(n - 1, 60));
  const double capped = std::min(base, absl::ToDoubleSeconds(policy.max));
  const double scaled = capped * (1.0 + policy.jitter * (2.0 * random01 - 1.0));
  return absl::Seconds(std::max(scaled, 0.0));
}

OutboxDispatcher::OutboxDispatcher(Database* db, const Clock& clock, RetryPolicy policy,
                                   absl::flat_hash_map<std::string, EventDeliverer*> deliverers)
    : db_(db), clock_(clock), policy_(policy), deliverers_(std::move(deliverers)) {}

OutboxDispatcher::~OutboxDispatcher() { Stop(); }

absl::StatusOr<std::vector<OutboxEvent>> OutboxDispatcher::Claim(absl::Time now, int batch) {
  std::vector<OutboxEvent> due;
  RETURN_IF_ERROR(db_->Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    due.clear();
    // PostgreSQL: skip the rows another replica's pass is claiming right now (its claim commits
    // a lease, so its events are not due any more). SQLite: writers take turns, nothing to skip.
    const char* lock = txn.dialect() == SqlDialect::kPostgresql ? " FOR UPDATE SKIP LOCKED" : "";
    ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT ", kColumns,
                                                       " FROM outbox WHERE delivered_at IS NULL "
                                                       "AND next_attempt_at <= ? "
                                                       "ORDER BY next_attempt_at, id LIMIT ?",
                                                       lock),
                                          {ToDbMicros(now), int64_t{batch}}));
    if (rows.empty()) return absl::OkStatus();
    std::vector<DbValue> params = {ToDbMicros(now + policy_.claim_lease)};
    for (const Row& row : rows) {
      due.push_back(EventFromRow(row));
      params.push_back(due.back().id);
    }
    return txn.Exec(absl::StrCat("UPDATE outbox SET next_attempt_at = ? WHERE id IN (",
                                 SqlPlaceholders(due.size()), ")"),
                    params);
  }));
  return due;
}

absl::Status OutboxDispatcher::Unclaim(const std::vector<OutboxEvent>& events, absl::Time now) {
  if (events.empty()) return absl::OkStatus();
  return db_->Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    for (const OutboxEvent& event : events) {
      RETURN_IF_ERROR(txn.Exec(
          "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND next_attempt_at = ? "
          "AND delivered_at IS NULL",
          {ToDbMicros(event.next_attempt), event.id, ToDbMicros(now + policy_.claim_lease)}));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<DispatchStats> OutboxDispatcher::RunOnce(int batch) {
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<OutboxEvent> due, Claim(now, batch));

  DispatchStats stats;
  std::vector<Outcome> outcomes;
  size_t tried = 0;
  for (; tried < due.size(); ++tried) {
    const OutboxEvent& event = due[tried];
    // Slow deliveries: the rest go back (below) before the lease could pass and another replica
    // send them a second time.
    if (clock_.Now() - now >= policy_.claim_lease / 2) break;
    // Delivery is a network call: outside any database transaction.
    auto it = deliverers_.find(event.destination);
    absl::Status delivered = it == deliverers_.end()
                                 ? absl::FailedPreconditionError(absl::StrCat(
                                       "no deliverer for destination \"", event.destination, "\""))
                                 : it->second->Deliver(event);
    const absl::Time after = clock_.Now();
    const MetricLabels labels = {{"destination", event.destination}};
    if (delivered.ok()) {
      ++stats.delivered;
      Metrics().IncrementCounter("smp_outbox_delivered_total", "Outbox events delivered.", labels);
      outcomes.push_back(Outcome{event.id, true, {}, {}});
      continue;
    }
    ++stats.failed;
    Metrics().IncrementCounter("smp_outbox_failed_attempts_total",
                               "Outbox delivery attempts that failed (they are retried).", labels);
    const int attempts = event.attempts + 1;
    const absl::Time next = after + BackoffAfter(attempts, policy_, Random01());
    if (attempts == 5 || attempts % 50 == 0) {
      LogWarning("outbox event keeps failing", {{"event_id", event.id},
                                                {"destination", event.destination},
                                                {"attempts", std::to_string(attempts)},
                                                {"error", delivered.ToString()}});
    }
    outcomes.push_back(
        Outcome{event.id, false, next, std::string(delivered.ToString()).substr(0, 500)});
  }
  // One transaction for the pass's outcomes (one commit and log sync, not one per event). Should
  // the process die first, the delivered events go out again once the lease ends; receivers
  // deduplicate by event id.
  RETURN_IF_ERROR(Record(outcomes, clock_.Now()));
  RETURN_IF_ERROR(Unclaim(std::vector<OutboxEvent>(due.begin() + tried, due.end()), now));
  const absl::Time after = clock_.Now();
  const int64_t last = last_report_micros_.load(std::memory_order_relaxed);
  if (last == std::numeric_limits<int64_t>::min() ||
      after - absl::FromUnixMicros(last) >= kReportEvery || after < absl::FromUnixMicros(last)) {
    last_report_micros_.store(absl::ToUnixMicros(after), std::memory_order_relaxed);
    RETURN_IF_ERROR(ReportBacklog(after));
  }
  return stats;
}

absl::Status OutboxDispatcher::Record(const std::vector<Outcome>& outcomes, absl::Time now) {
  if (outcomes.empty()) return absl::OkStatus();
  // Single-row updates that read nothing first: READ COMMITTED is enough on PostgreSQL.
  return db_->Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    std::vector<DbValue> delivered = {ToDbMicros(now)};
    for (const Outcome& o : outcomes) {
      if (o.delivered) {
        delivered.push_back(o.id);
        continue;
      }
      RETURN_IF_ERROR(
          txn.Exec("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                   "WHERE id = ?",
                   {ToDbMicros(o.next_attempt), o.error, o.id}));
    }
    if (delivered.size() == 1) return absl::OkStatus();
    return txn.Exec(absl::StrCat("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, "
                                 "last_error = '' WHERE id IN (",
                                 SqlPlaceholders(delivered.size() - 1), ")"),
                    delivered);
  });
}

absl::Status OutboxDispatcher::ReportBacklog(absl::Time now) {
  // READ COMMITTED on PostgreSQL: replicas purge the same old rows without conflicting.
  return db_->Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    // Delivered events are kept a week for inspection, then dropped: the receivers have them.
    RETURN_IF_ERROR(
        txn.Exec("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?",
                 {ToDbMicros(now - kKeepDelivered)}));
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT destination, COUNT(*), MIN(created_at) "
                                          "FROM outbox WHERE delivered_at IS NULL "
                                          "GROUP BY destination"));
    absl::flat_hash_map<std::string, std::pair<int64_t, absl::Duration>> backlog;
    for (const auto& [destination, deliverer] : deliverers_) backlog[destination] = {0, {}};
    for (const Row& row : rows) {
      backlog[row.Text(0)] = {row.Int(1), now - FromDbMicros(row.Int(2))};
    }
    for (const auto& [destination, pending] : backlog) {
      const MetricLabels labels = {{"destination", destination}};
      Metrics().SetGauge("smp_outbox_pending_events",
                         "Outbox events not yet delivered (retried until they are).", labels,
                         static_cast<double>(pending.first));
      Metrics().SetGauge("smp_outbox_oldest_pending_seconds",
                         "Age of the oldest undelivered outbox event; 0 when none.", labels,
                         absl::ToDoubleSeconds(pending.second));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<OutboxEvent>> OutboxDispatcher::Pending(int min_attempts, int limit) {
  std::vector<OutboxEvent> pending;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT ", kColumns,
                                                       " FROM outbox WHERE delivered_at IS NULL "
                                                       "AND attempts >= ? ORDER BY created_at, id "
                                                       "LIMIT ?"),
                                          {int64_t{min_attempts}, int64_t{limit}}));
    for (const Row& row : rows) pending.push_back(EventFromRow(row));
    return absl::OkStatus();
  }));
  return pending;
}

void OutboxDispatcher::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
        mu_.AwaitWithTimeout(absl::Condition(&woken), interval);
        if (stop_) return;
        wake_ = false;
      }
      absl::StatusOr<DispatchStats> stats = RunOnce();
      if (!stats.ok()) LogWarning("outbox pass failed", {{"error", stats.status().ToString()}});
    }
  });
}

void OutboxDispatcher::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void OutboxDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace smp
