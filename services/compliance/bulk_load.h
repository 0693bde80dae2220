#ifndef SMP_SERVICES_COMPLIANCE_BULK_LOAD_H_
#define SMP_SERVICES_COMPLIANCE_BULK_LOAD_H_

// A chain's records entered in bulk, straight through the store in large transactions: how the
// benchmark seeds a 100-clinic year (500,000 procedures) in about a minute instead of half a
// million Record* calls.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

struct BulkRecords {
  std::vector<v1::Credential> credentials;
  std::vector<v1::Permit> permits;
  std::vector<v1::Consent> consents;
  std::vector<v1::Screening> screenings;
  std::vector<v1::ProcedureRecord> procedures;

  size_t size() const {
    return credentials.size() + permits.size() + consents.size() + screenings.size() +
           procedures.size();
  }
};

// Enters `records` as the Record* operations would: the same validation (record_validation.h)
// and what the operations set (a consent is not withdrawn; a screening's outcome comes from its
// findings, no override, valid `screening_validity` from when it was taken) and the same store
// calls (ids, record times, needle uses), in that order (credentials, permits, consents,
// screenings, procedures), `per_transaction` records a transaction. Each record is entered as
// recorded at its own record time when it carries one (a consent's or screening's record_time, a
// credential's, permit's or procedure's create_time: a history entered as it was recorded, so a
// report judges it as it would have judged the live records; validated as the operation would
// have validated it then, and not after `now`), else at `now`. Each transaction appends one audit
// entry at `now` (CREATE by `actor`, method "BulkLoad", entity "bulk_load", the counts in its
// detail) instead of one per record; no idempotency keys are kept (a bulk load is not retried
// record by record). Every record is validated before the first write: INVALID_ARGUMENT naming the
// record ("procedures[3].record.needles[0]...", "consents[2].record_time: ...") and nothing
// written. A transaction that fails UNAVAILABLE (busy) is tried up to 5 more times, a moment
// apart. Another store error (ALREADY_EXISTS for a second record of an appointment) ends the load;
// the transactions committed before it stay. Returns how many transactions were retried.
absl::StatusOr<int> BulkLoad(const AuditTrail& audit, const BulkRecords& records, absl::Time now,
                             absl::Duration screening_validity, absl::string_view actor,
                             int per_transaction = 1000);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_BULK_LOAD_H_
