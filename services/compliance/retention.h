#ifndef SMP_SERVICES_COMPLIANCE_RETENTION_H_
#define SMP_SERVICES_COMPLIANCE_RETENTION_H_

// Clinics' record-retention policies and the purge they require (SetRetentionPolicy,
// GetRetentionPolicy, RunRetentionPurge; the daily job in main.cc runs Purge).

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class Retention {
 public:
  // `audit` must outlive the unit.
  explicit Retention(const AuditTrail* audit) : audit_(audit) {}

  // Client records 2, 3 or 5 years; training records 3..30 (default 3, OSHA); documentation 6..30
  // (default 6); health questionnaires destroyed after 0 (never)..30 years; time_zone empty or an
  // IANA zone (the clinic's local days for every compliance rule).
  absl::StatusOr<v1::RetentionPolicy> SetRetentionPolicy(
      const Call& call, const v1::SetRetentionPolicyRequest& req) const;
  // The clinic's policy, or the strictest common defaults when it has none.
  absl::StatusOr<v1::RetentionPolicy> GetRetentionPolicy(
      const Call& call, const v1::GetRetentionPolicyRequest& req) const;
  // Purge as the caller; with a request_id a retry answers the first run's count.
  absl::StatusOr<v1::RunRetentionPurgeResponse> RunRetentionPurge(
      const Call& call, const v1::RunRetentionPurgeRequest& req) const;
  // Destroys health questionnaires past their clinic's destruction rule (whole calendar years
  // before call.now in the clinic's time zone), one audit entry each, as call.who: each screening
  // becomes its tombstone (compliance_rules.h ScreeningTombstone) and the stored idempotent
  // responses holding it are replaced by the tombstone. Returns how many it destroyed.
  absl::StatusOr<int64_t> Purge(const Call& call) const;

 private:
  absl::StatusOr<int64_t> PurgeIn(Transaction& txn, const Call& call) const;

  const AuditTrail* audit_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_RETENTION_H_
