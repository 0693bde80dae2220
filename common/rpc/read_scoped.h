#ifndef SMP_COMMON_RPC_READ_SCOPED_H_
#define SMP_COMMON_RPC_READ_SCOPED_H_

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "common/db/database.h"
#include "common/status/status_macros.h"

namespace smp {

// The body of a Get<Resource> handler: reads one resource in a read transaction, then answers
// PERMISSION_DENIED unless the caller may see its clinic (`Resource::clinic_id()`).
//
//   ASSIGN_OR_RETURN(*out, ReadInClinicScope<v1::Invoice>(db, who, [&](Transaction& txn) {
//     return store_.GetInvoice(txn, req->id());
//   }));
template <typename Resource>
absl::StatusOr<Resource> ReadInClinicScope(
    Database& db, const Principal& who,
    absl::FunctionRef<absl::StatusOr<Resource>(Transaction&)> read) {
  Resource resource;
  RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(resource, read(txn));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(who.CheckClinic(resource.clinic_id()));
  return resource;
}

}  // namespace smp

#endif  // SMP_COMMON_RPC_READ_SCOPED_H_
