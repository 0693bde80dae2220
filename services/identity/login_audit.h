#ifndef SMP_SERVICES_IDENTITY_LOGIN_AUDIT_H_
#define SMP_SERVICES_IDENTITY_LOGIN_AUDIT_H_

// The failed logins identity records for auditors (one row per hour and subject in the
// login_failures table, kept for --login_failure_retention): Record, which Sessions'
// AuditFailedLogin calls, and ListLoginFailures, their view. Chain-wide data: the contract grants
// it to AUDIT_READ (auditors, admins) only.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/identity_store.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

// The width of a row of the login_failures table.
inline constexpr absl::Duration kLoginFailureWindow = absl::Hours(1);

class LoginAudit {
 public:
  // `db` must outlive this.
  explicit LoginAudit(Database* db) : db_(db) {}

  // Counts one failed login at `now` against the account (`known_username`; "" counts it as an
  // unknown account, whose typed name is never kept: it may be a password) and `address` (an
  // AddressBucket; "" counts none). Concurrent failures of one subject all count on either
  // backend: each count is an atomic increment, run with row locks (TxMode::kWriteRowLocks), so
  // that on PostgreSQL a flood of guesses at one account waits its turn on the row instead of
  // failing serialization and retrying until it gives up, uncounted.
  absl::Status Record(absl::string_view known_username, absl::string_view address,
                      absl::Time now) const;

  // The rows whose hour starts in [start_time, end_time) (unset: from the oldest kept, up to the
  // call's time), oldest first, a page at a time. INVALID_ARGUMENT naming end_time when it is not
  // after start_time, or page_token when it belongs to another period.
  absl::StatusOr<v1::ListLoginFailuresResponse> ListFailures(
      const Call& call, const v1::ListLoginFailuresRequest& request) const;

 private:
  Database* db_;
  IdentityStore store_;
};

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_LOGIN_AUDIT_H_
