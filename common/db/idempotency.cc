#include "common/db/idempotency.h"

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/util/crypto.h"
#include "common/util/validation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace smp {
namespace {

// Deterministic serialisation: map fields in key order, so the same request always hashes alike.
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

}  // namespace

absl::StatusOr<IdempotencyKey> MakeIdempotencyKey(absl::string_view scope,
                                                  absl::string_view request_id,
                                                  absl::string_view caller_id,
                                                  const google::protobuf::Message& request) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", request_id));
  std::string material =
      absl::StrCat(caller_id.size(), ":", caller_id, ":", scope, ":", DeterministicBytes(request));
  // The caller is part of the stored scope: one caller's key never occupies another's (issue 13).
  // Length-prefixed, so no (scope, caller) pair can be spelt as another.
  std::string keyed_scope = absl::StrCat(scope, "|", caller_id.size(), ":", caller_id);
  return IdempotencyKey{std::move(keyed_scope), std::string(request_id), Sha256Hex(material)};
}

absl::StatusOr<std::optional<std::string>> FindIdempotentResponse(Transaction& txn,
                                                                  const IdempotencyKey& key) {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT fingerprint, response FROM idempotency_keys "
                                        "WHERE scope = ? AND request_id = ?",
                                        {key.scope, key.request_id}));
  if (rows.empty()) return std::nullopt;
  if (rows[0].Text(0) != key.fingerprint) {
    return WithFieldViolation(
        WithErrorInfo(absl::InvalidArgumentError(absl::StrCat(
                          "request_id \"", key.request_id,
                          "\" was already used for a different request; use a new request_id")),
                      reason::kRequestIdReused),
        "request_id", "already used for a different request");
  }
  return rows[0].Text(1);
}

absl::StatusOr<int64_t> PurgeIdempotencyKeys(Database& db, absl::Time created_before) {
  int64_t purged = 0;
  RETURN_IF_ERROR(db.Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(purged, txn.ExecCount("DELETE FROM idempotency_keys WHERE created_at < ?",
                                           {absl::ToUnixMicros(created_before)}));
    return absl::OkStatus();
  }));
  return purged;
}

absl::Status SaveIdempotentResponse(Transaction& txn, const IdempotencyKey& key,
                                    const google::protobuf::Message& response, absl::Time now) {
  return txn.Exec(
      "INSERT INTO idempotency_keys (scope, request_id, fingerprint, response, created_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {key.scope, key.request_id, key.fingerprint, Blob{DeterministicBytes(response)},
       absl::ToUnixMicros(now)});
}

}  // namespace smp
