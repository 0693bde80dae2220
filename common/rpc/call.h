#ifndef SMP_COMMON_RPC_CALL_H_
#define SMP_COMMON_RPC_CALL_H_

// What an operation (the plain C++ unit behind an RPC) knows of the call it serves: who is calling,
// the time the call is judged at, and which RPC it is. RpcFrame builds one per RPC; a unit test
// builds one by hand with a fixed time. Operations take `const Call&` and the request and return
// absl::StatusOr<Response>; they never see grpc::ServerContext.

#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/db/database.h"
#include "common/db/idempotency.h"
#include "common/status/status_macros.h"

namespace smp {

struct Call {
  // The caller, as authenticated and authorised for `method`.
  Principal who;
  // "Now" for every rule of this call, read once from the service's clock.
  absl::Time now;
  // The RPC's short name, e.g. "BookAppointment"; idempotency keys are scoped by it.
  std::string method;
};

// The answer of an operation that finishes later, from another thread (one whose write is made
// durable while no thread waits: Database::RunAsync). Called once.
template <typename Response>
using Answer = absl::AnyInvocable<void(absl::StatusOr<Response>) &&>;

// Waits for an operation that answers through an Answer and returns what it answered: the plain
// form of it, for tests and callers that have a thread to spare.
template <typename Response>
absl::StatusOr<Response> AwaitAnswer(absl::FunctionRef<void(Answer<Response>)> op) {
  absl::Notification answered;
  absl::StatusOr<Response> result;
  op([&](absl::StatusOr<Response> given) {
    result = std::move(given);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

// The idempotency key of this call for `request`, whose `request_id()` the contract requires:
// scoped to the RPC (call.method), fingerprinted with the caller.
template <typename Request>
absl::StatusOr<IdempotencyKey> IdempotencyKeyOf(const Call& call, const Request& request) {
  return MakeIdempotencyKey(call.method, request.request_id(), call.who.staff_id, request);
}

// Runs `change` in one write transaction keyed by the call and the request's request_id: a retry
// with the same key and request returns the first response without running it again (see
// common/db/idempotency.h).
template <typename Response, typename Request>
absl::StatusOr<Response> RunIdempotent(
    Database& db, const Call& call, const Request& request,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change) {
  ASSIGN_OR_RETURN(IdempotencyKey key, IdempotencyKeyOf(call, request));
  return RunIdempotent<Response>(db, key, call.now, change);
}

// The same, queued behind the other writers of `queue.key` (a hot row the change advances; see
// WriteQueue in common/db/database.h).
template <typename Response, typename Request>
absl::StatusOr<Response> RunIdempotent(
    Database& db, const Call& call, const Request& request, const WriteQueue& queue,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change) {
  ASSIGN_OR_RETURN(IdempotencyKey key, IdempotencyKeyOf(call, request));
  return RunIdempotent<Response>(db, key, call.now, queue, change);
}

// The body of a Get<Resource> operation: reads one resource in a read transaction, then answers
// PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) unless the caller may see its clinic
// (`Resource::clinic_id()`).
//
//   return ReadInClinicScope<v1::Invoice>(db, call, [&](Transaction& txn) {
//     return store.GetInvoice(txn, request.id());
//   });
template <typename Resource>
absl::StatusOr<Resource> ReadInClinicScope(
    Database& db, const Call& call,
    absl::FunctionRef<absl::StatusOr<Resource>(Transaction&)> read) {
  Resource resource;
  RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(resource, read(txn));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(call.who.CheckClinic(resource.clinic_id()));
  return resource;
}

}  // namespace smp

#endif  // SMP_COMMON_RPC_CALL_H_
