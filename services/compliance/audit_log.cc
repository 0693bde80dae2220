#include "services/compliance/audit_log.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "services/compliance/exports.h"

namespace smp::compliance {
namespace {

constexpr int kAuditPageDefault = 500;
constexpr int kAuditPageMax = 5000;

// A page of the audit log after `since`: at most `page_size` entries (0: the default).
absl::StatusOr<int> AuditPageLimit(int64_t since, int32_t page_size) {
  if (since < 0) return absl::InvalidArgumentError("since_sequence: must not be negative");
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  return page_size == 0 ? kAuditPageDefault : std::min(page_size, kAuditPageMax);
}

}  // namespace

absl::StatusOr<v1::ListAuditEntriesResponse> AuditLog::ListAuditEntries(
    const Call& call, const v1::ListAuditEntriesRequest& req) const {
  ASSIGN_OR_RETURN(const int limit, AuditPageLimit(req.since_sequence(), req.page_size()));
  v1::ListAuditEntriesResponse out;
  RETURN_IF_ERROR(audit_->Read(call, "audit_log", "", [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto entries, audit_->store().ListAudit(txn, req.since_sequence(), limit));
    for (auto& e : entries) *out.add_entries() = std::move(e);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ExportAuditEventsResponse> AuditLog::ExportAuditEvents(
    const Call& call, const v1::ExportAuditEventsRequest& req) const {
  ASSIGN_OR_RETURN(const int limit, AuditPageLimit(req.since_sequence(), req.page_size()));
  v1::ExportAuditEventsResponse out;
  RETURN_IF_ERROR(audit_->Read(call, "audit_log", "", [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto entries, audit_->store().ListAudit(txn, req.since_sequence(), limit));
    for (const v1::AuditEntry& e : entries) {
      out.add_fhir_json(ToFhirAuditEvent(e));
      out.set_last_sequence(e.sequence());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::VerifyAuditLogResponse> AuditLog::VerifyAuditLog(
    const Call& call, const v1::VerifyAuditLogRequest&) const {
  ChainVerifier verifier;
  RETURN_IF_ERROR(audit_->db().Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    int64_t since = 0;
    while (true) {
      ASSIGN_OR_RETURN(auto page, audit_->store().ListAudit(txn, since, kAuditPageMax));
      for (const v1::AuditEntry& e : page) {
        if (!verifier.Add(e)) return absl::OkStatus();
        since = e.sequence();
      }
      if (static_cast<int>(page.size()) < kAuditPageMax) return absl::OkStatus();
    }
  }));
  const ChainVerdict& verdict = verifier.verdict();
  v1::VerifyAuditLogResponse out;
  out.set_intact(verdict.intact);
  out.set_entries_checked(verdict.entries_checked);
  out.set_first_bad_sequence(verdict.first_bad_sequence);
  out.set_problem(verdict.problem);
  // Recorded after the check, so the check covers the log as it was asked about.
  RETURN_IF_ERROR(audit_->db().Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) {
    return audit_
        ->Record(txn, call, v1::AUDIT_ACTION_READ, "audit_log", "",
                 verdict.intact ? "intact" : absl::StrCat("broken at ", verdict.first_bad_sequence))
        .status();
  }));
  return out;
}

absl::StatusOr<v1::Checkpoint> AuditLog::CreateCheckpoint(
    const Call& call, const v1::CreateCheckpointRequest& req) const {
  auto sign = [&](Transaction& txn) -> absl::StatusOr<v1::Checkpoint> {
    ASSIGN_OR_RETURN(v1::AuditEntry entry, audit_->Record(txn, call, v1::AUDIT_ACTION_READ,
                                                          "audit_log", "", "checkpoint signed"));
    v1::Checkpoint checkpoint = signer_->Sign(entry.sequence(), entry.hash(), call.now);
    RETURN_IF_ERROR(audit_->store().AddCheckpoint(txn, checkpoint, call.who.staff_id));
    return checkpoint;
  };
  // Older clients send no request_id: each such call signs a new checkpoint.
  if (!req.request_id().empty()) {
    return RunIdempotent<v1::Checkpoint>(audit_->db(), call, req, AuditChainQueue(), sign);
  }
  v1::Checkpoint out;
  RETURN_IF_ERROR(
      audit_->db().Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(out, sign(txn));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::VerifyCheckpointResponse> AuditLog::VerifyCheckpoint(
    const Call& call, const v1::VerifyCheckpointRequest& req) const {
  const v1::Checkpoint& c = req.checkpoint();
  if (c.count() < 1) return absl::InvalidArgumentError("checkpoint.count: must be positive");
  v1::VerifyCheckpointResponse out;
  RETURN_IF_ERROR(audit_->Read(call, "audit_log", "", [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::string problem, CheckpointProblem(txn, c));
    out.set_valid(problem.empty());
    out.set_problem(problem);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListCheckpointsResponse> AuditLog::ListCheckpoints(
    const Call& call, const v1::ListCheckpointsRequest& req) const {
  constexpr absl::string_view kQuery = "ListCheckpoints";
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), kQuery));
  v1::ListCheckpointsResponse out;
  RETURN_IF_ERROR(audit_->Read(call, "audit_log", "", [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto found, audit_->store().ListCheckpoints(txn, page));
    for (v1::CheckpointStatus& status : found.items) {
      ASSIGN_OR_RETURN(std::string problem, CheckpointProblem(txn, status.checkpoint()));
      status.set_valid(problem.empty());
      status.set_problem(problem);
      *out.add_checkpoints() = std::move(status);
    }
    out.set_next_page_token(NextPageToken(kQuery, found.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::string> AuditLog::CheckpointProblem(Transaction& txn,
                                                        const v1::Checkpoint& c) const {
  if (!signer_->VerifySignature(c)) {
    return std::string("the signature is not this service's (or the checkpoint was altered)");
  }
  ASSIGN_OR_RETURN(std::optional<v1::AuditEntry> entry, audit_->store().GetAudit(txn, c.count()));
  if (!entry.has_value()) {
    return absl::StrCat("the log no longer has entry ", c.count(), ": history was truncated");
  }
  if (entry->hash() != c.head_hash()) {
    return absl::StrCat("entry ", c.count(),
                        " differs from the signed checkpoint: history was rewritten");
  }
  return std::string();
}

}  // namespace smp::compliance
