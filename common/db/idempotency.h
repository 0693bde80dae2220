#ifndef SMP_COMMON_DB_IDEMPOTENCY_H_
#define SMP_COMMON_DB_IDEMPOTENCY_H_

// Durable request_id idempotency (see protos/smp/common/v1/conventions.proto).
//
// The key, a fingerprint of the request and the response are stored in the service's own database
// in the same transaction as the change itself, so "the change happened" and "the key is
// remembered" commit or roll back together. A failed request stores nothing: retrying it runs it
// again.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/status/status_macros.h"
#include "google/protobuf/message.h"

namespace smp {

// Every service adds this table in one of its migrations.
inline constexpr char kIdempotencyTableSql[] =
    "CREATE TABLE idempotency_keys ("
    "  scope TEXT NOT NULL,"          // the RPC and the caller, e.g. "CreateClinic|5:staff"
    "  request_id TEXT NOT NULL,"     // the client's key
    "  fingerprint TEXT NOT NULL,"    // SHA-256 of caller and request
    "  response BLOB NOT NULL,"       // the serialised first response
    "  created_at INTEGER NOT NULL,"  // unix microseconds
    "  PRIMARY KEY (scope, request_id));";

struct IdempotencyKey {
  // The scope as given to MakeIdempotencyKey and the caller: keys are unique per (RPC, caller,
  // request_id), so one caller can neither occupy nor replay another caller's key.
  std::string scope;
  std::string request_id;
  std::string fingerprint;
};

// Validates request_id (1..128 characters of [A-Za-z0-9._:-]; INVALID_ARGUMENT naming the field)
// and scopes the key to `scope` and `caller_id`: the same request_id from another caller is another
// key (it runs, and neither caller sees the other's response), so no caller can squat on, or
// replay, a key another caller will use. The fingerprint covers the caller and the request.
absl::StatusOr<IdempotencyKey> MakeIdempotencyKey(absl::string_view scope,
                                                  absl::string_view request_id,
                                                  absl::string_view caller_id,
                                                  const google::protobuf::Message& request);

// Inside `txn`: the stored response if this key was seen with the same fingerprint; nullopt if the
// key is new; INVALID_ARGUMENT if the key was used for a different request.
absl::StatusOr<std::optional<std::string>> FindIdempotentResponse(Transaction& txn,
                                                                  const IdempotencyKey& key);

// Inside `txn`: remembers `response` for `key`.
absl::Status SaveIdempotentResponse(Transaction& txn, const IdempotencyKey& key,
                                    const google::protobuf::Message& response, absl::Time now);

// How long a request_id is remembered by default: far longer than any client retries, short enough
// that stored responses (which may hold health data) do not pile up for ever.
inline constexpr absl::Duration kDefaultIdempotencyRetention = absl::Hours(24 * 30);

// Forgets keys (and their stored responses) created before `created_before`; returns how many.
// Services run it periodically (--idempotency_retention). A retry after that runs the request anew.
absl::StatusOr<int64_t> PurgeIdempotencyKeys(Database& db, absl::Time created_before);

// One attempt of RunIdempotent inside `txn`: the stored response, or `change`'s (then saved).
// Database::Run runs it again after a serialization conflict (PostgreSQL), so each attempt starts
// from a clean response.
template <typename Response>
absl::Status RunIdempotentAttempt(Transaction& txn, const IdempotencyKey& key, absl::Time now,
                                  absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change,
                                  Response& response) {
  response.Clear();
  ASSIGN_OR_RETURN(std::optional<std::string> saved, FindIdempotentResponse(txn, key));
  if (saved.has_value()) {
    if (!response.ParseFromString(*saved)) {
      return absl::InternalError("stored idempotent response does not parse");
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(response, change(txn));
  return SaveIdempotentResponse(txn, key, response, now);
}

// Runs `change` in a write transaction unless `key` was seen before, in which case it returns the
// first response without running anything. Like Database::Run, a serialization conflict runs the
// whole transaction (the lookup and `change`) again. Typical use in a handler:
//   ASSIGN_OR_RETURN(auto key, MakeIdempotencyKey("CreateClinic", req.request_id(), who, req));
//   return RunIdempotent<Clinic>(db, key, now, [&](Transaction& txn) { return store.Create(txn, c);
//   });
// With `queue`, each attempt is queued behind the other writers of its key (see WriteQueue): for a
// change that advances a hot row (a clinic's counter or feed head).
template <typename Response>
absl::StatusOr<Response> RunIdempotent(
    Database& db, const IdempotencyKey& key, absl::Time now, const WriteQueue& queue,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change) {
  Response response;
  RETURN_IF_ERROR(db.Run(TxMode::kWrite, queue, [&](Transaction& txn) {
    return RunIdempotentAttempt<Response>(txn, key, now, change, response);
  }));
  return response;
}

// RunIdempotent answering in `done` (Database::RunAsync): no thread of the caller's waits while
// the write is made durable. `change` is kept, and runs, until then, on the database's thread.
template <typename Response>
void RunIdempotentAsync(Database& db, IdempotencyKey key, absl::Time now, const WriteQueue& queue,
                        std::function<absl::StatusOr<Response>(Transaction&)> change,
                        absl::AnyInvocable<void(absl::StatusOr<Response>) &&> done) {
  auto response = std::make_shared<Response>();
  db.RunAsync(
      TxMode::kWrite, queue,
      [key = std::move(key), now, change = std::move(change), response](Transaction& txn) {
        return RunIdempotentAttempt<Response>(txn, key, now, change, *response);
      },
      [response, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) return std::move(done)(std::move(status));
        std::move(done)(std::move(*response));
      });
}

template <typename Response>
absl::StatusOr<Response> RunIdempotent(
    Database& db, const IdempotencyKey& key, absl::Time now,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> change) {
  return RunIdempotent<Response>(db, key, now, WriteQueue{}, change);
}

}  // namespace smp

#endif  // SMP_COMMON_DB_IDEMPOTENCY_H_
