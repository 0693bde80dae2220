#ifndef SMP_SERVICES_COMPLIANCE_AUDIT_TRAIL_H_
#define SMP_SERVICES_COMPLIANCE_AUDIT_TRAIL_H_

// What every compliance operation puts on the record: an audit entry for each change (in the
// change's own transaction), each read of a patient's health data (by anyone, admins included) and
// each other read by an auditor, and refused attempts aggregated per caller, method and reason
// (RpcFrame's DeniedHook, fed by its RefusalLog: at most two entries per window, with the count).

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "common/rpc/frame.h"
#include "services/compliance/compliance_store.h"

namespace smp::compliance {

// The write queue of the audit chain's head (common/db/database.h, WriteQueue): every write
// transaction that appends to the log names it, so that on PostgreSQL the service's writers (of
// every replica) take turns at the head instead of colliding there and running out of retries.
// One key: the chain is one for the whole service.
inline WriteQueue AuditChainQueue() { return WriteQueue{"compliance.audit_chain"}; }

// The window of aggregated reads (see AuditTrail::Read).
inline constexpr absl::Duration kReadAuditWindow = absl::Hours(1);
// The longest prefix of `text` of at most `max_bytes` bytes that does not split a UTF-8 character
// (a cut inside a multi-byte sequence backs up to its first byte), so a cut detail stays valid
// UTF-8 for JSON and FHIR exports.
absl::string_view CutUtf8(absl::string_view text, size_t max_bytes);

class AuditTrail {
 public:
  // `db` and `store` must outlive the trail.
  AuditTrail(Database* db, const ComplianceStore* store) : db_(db), store_(store) {}

  // Appends an entry for `who` doing `method` at `now` inside `txn` (detail cut to at most 1000
  // bytes at a character boundary, CutUtf8).
  absl::StatusOr<v1::AuditEntry> Append(Transaction& txn, const Principal& who, absl::Time now,
                                        v1::AuditAction action, absl::string_view method,
                                        absl::string_view entity_type, absl::string_view entity_id,
                                        absl::string_view detail) const;
  // Append for the call's caller, method and time.
  absl::StatusOr<v1::AuditEntry> Record(Transaction& txn, const Call& call, v1::AuditAction action,
                                        absl::string_view entity_type, absl::string_view entity_id,
                                        absl::string_view detail = "") const {
    return Append(txn, call.who, call.now, action, call.method, entity_type, entity_id, detail);
  }

  // A read: audited when it reads a patient's health data (`entity_type` "patient": consents,
  // screenings, eligibility), whoever the caller, or when the caller is an auditor (no unaudited
  // auditor read); else a plain read transaction. Audited reads are aggregated so that a reader
  // cannot flood the log: the first read of an entity by a caller through a method in an hour
  // (kReadAuditWindow) is an AUDIT_ACTION_READ entry, written in the read's transaction; the later
  // ones of that hour are counted in the same transaction (read_tallies) and FlushReadTallies puts
  // the count in the log once the hour is over.
  absl::Status Read(const Call& call, absl::string_view entity_type, absl::string_view entity_id,
                    absl::FunctionRef<absl::Status(Transaction&)> read) const;

  // For every hour that ended before `now`: one AUDIT_ACTION_READ entry per (caller, method,
  // entity) read more than once in it ("<n> more reads <first>..<last>", at `now`), and the tally
  // goes. Returns the entries appended. Runs on a PeriodicTask (main.cc).
  absl::StatusOr<int> FlushReadTallies(absl::Time now) const;

  // Runs a create idempotently (keyed by the call and the request's request_id) with its
  // AUDIT_ACTION_CREATE entry (entity id: the created resource's id) in the same transaction, in
  // the AuditChainQueue.
  template <typename Response, typename Request>
  absl::StatusOr<Response> Create(
      const Call& call, const Request& request, absl::string_view entity_type,
      absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> create) const {
    return RunIdempotent<Response>(
        *db_, call, request, AuditChainQueue(), [&](Transaction& txn) -> absl::StatusOr<Response> {
          ASSIGN_OR_RETURN(Response out, create(txn));
          RETURN_IF_ERROR(
              Record(txn, call, v1::AUDIT_ACTION_CREATE, entity_type, out.id()).status());
          return out;
        });
  }

  // RpcFrame's DeniedHook: appends one AUDIT_ACTION_DENIED entry for a summary of refused attempts
  // (detail: "<count> refused attempt(s) <first>..<last> [<reason>]: <first message>"), at the
  // summary's last refusal time (a failure to record is logged; the caller is refused either way).
  RpcFrame::DeniedHook DeniedHook() const;

  Database& db() const { return *db_; }
  const ComplianceStore& store() const { return *store_; }

 private:
  Database* db_;
  const ComplianceStore* store_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_AUDIT_TRAIL_H_
