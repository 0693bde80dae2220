#ifndef SMP_SERVICES_IDENTITY_LOGIN_AUDIT_H_
#define SMP_SERVICES_IDENTITY_LOGIN_AUDIT_H_

// ListLoginFailures: the auditor's view of the failed logins identity records (Sessions'
// AuditFailedLogin, one row per hour and subject in the login_failures table, kept for
// --login_failure_retention). Chain-wide data: the contract grants it to AUDIT_READ (auditors,
// admins) only.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/identity/identity_store.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::identity {

class LoginAudit {
 public:
  // `db` must outlive this.
  explicit LoginAudit(Database* db) : db_(db) {}

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
