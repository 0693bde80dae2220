#ifndef SMP_SERVICES_COMPLIANCE_AUDIT_LOG_H_
#define SMP_SERVICES_COMPLIANCE_AUDIT_LOG_H_

// Operations on the hash-chained audit log itself: reading it (ListAuditEntries, ExportAuditEvents
// as FHIR AuditEvents), checking it (VerifyAuditLog) and signed checkpoints (CreateCheckpoint,
// VerifyCheckpoint, ListCheckpoints).

#include <string>

#include "absl/status/statusor.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class AuditLog {
 public:
  // `audit` and `signer` must outlive the unit.
  AuditLog(const AuditTrail* audit, const CheckpointSigner* signer)
      : audit_(audit), signer_(signer) {}

  // Entries after since_sequence, in order, page_size of them (0: 500; at most 5000).
  absl::StatusOr<v1::ListAuditEntriesResponse> ListAuditEntries(
      const Call& call, const v1::ListAuditEntriesRequest& req) const;
  // As ListAuditEntries, each entry a FHIR R4 AuditEvent (JSON).
  absl::StatusOr<v1::ExportAuditEventsResponse> ExportAuditEvents(
      const Call& call, const v1::ExportAuditEventsRequest& req) const;
  // Recomputes the chain; the check itself is then recorded (after, so it covers the log as asked).
  absl::StatusOr<v1::VerifyAuditLogResponse> VerifyAuditLog(
      const Call& call, const v1::VerifyAuditLogRequest& req) const;
  // Records the pull and signs the head that includes it; with a request_id a retry answers the
  // same checkpoint.
  absl::StatusOr<v1::Checkpoint> CreateCheckpoint(const Call& call,
                                                  const v1::CreateCheckpointRequest& req) const;
  // valid=false with the problem when the signature is not ours or the log no longer holds the
  // signed entry unchanged.
  absl::StatusOr<v1::VerifyCheckpointResponse> VerifyCheckpoint(
      const Call& call, const v1::VerifyCheckpointRequest& req) const;
  // The checkpoints CreateCheckpoint kept, newest first (paged), each verified as VerifyCheckpoint
  // would. Checkpoints signed before the service kept them are only with whoever holds them.
  absl::StatusOr<v1::ListCheckpointsResponse> ListCheckpoints(
      const Call& call, const v1::ListCheckpointsRequest& req) const;

 private:
  // "" when `checkpoint`'s signature is ours and the log still holds the entry it signed; else
  // why not.
  absl::StatusOr<std::string> CheckpointProblem(Transaction& txn,
                                                const v1::Checkpoint& checkpoint) const;

  const AuditTrail* audit_;
  const CheckpointSigner* signer_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_AUDIT_LOG_H_
