#include "services/identity/login_audit.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"

namespace smp::identity {
namespace {

v1::LoginFailureKind KindOf(const std::string& kind) {
  if (kind == "account") return v1::LOGIN_FAILURE_KIND_ACCOUNT;
  if (kind == "unknown_account") return v1::LOGIN_FAILURE_KIND_UNKNOWN_ACCOUNT;
  if (kind == "address") return v1::LOGIN_FAILURE_KIND_ADDRESS;
  return v1::LOGIN_FAILURE_KIND_UNSPECIFIED;
}

}  // namespace

absl::Status LoginAudit::Record(absl::string_view known_username, absl::string_view address,
                                absl::Time now) const {
  return db_->Run(TxMode::kWriteRowLocks, [&](Transaction& txn) -> absl::Status {
    if (known_username.empty()) {
      RETURN_IF_ERROR(
          store_.AddLoginFailure(txn, "unknown_account", "*", kLoginFailureWindow, now));
    } else {
      RETURN_IF_ERROR(
          store_.AddLoginFailure(txn, "account", known_username, kLoginFailureWindow, now));
    }
    if (!address.empty()) {
      RETURN_IF_ERROR(store_.AddLoginFailure(txn, "address", address, kLoginFailureWindow, now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListLoginFailuresResponse> LoginAudit::ListFailures(
    const Call& call, const v1::ListLoginFailuresRequest& request) const {
  const absl::Time start =
      request.has_start_time() ? FromProtoTimestamp(request.start_time()) : absl::InfinitePast();
  const absl::Time end = request.has_end_time() ? FromProtoTimestamp(request.end_time()) : call.now;
  if (request.has_end_time() && end <= start) {
    return absl::InvalidArgumentError("end_time: must be after start_time");
  }
  // The token is bound to the period as asked (an open end stays open across pages).
  const std::string query =
      absl::StrCat("login_failures?from=", request.has_start_time() ? ToDbMicros(start) : 0,
                   "&to=", request.has_end_time() ? absl::StrCat(ToDbMicros(end)) : "");
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  v1::ListLoginFailuresResponse response;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<LoginFailureRow> rows,
                     store_.ListLoginFailurePage(txn, start, end, page));
    for (const LoginFailureRow& row : rows.items) {
      v1::LoginFailure* out = response.add_login_failures();
      *out->mutable_window_start_time() = ToProtoTimestamp(row.window_start);
      out->set_kind(KindOf(row.kind));
      out->set_subject(row.subject);
      out->set_failures(row.failures);
      *out->mutable_first_time() = ToProtoTimestamp(row.first_time);
      *out->mutable_last_time() = ToProtoTimestamp(row.last_time);
    }
    response.set_next_page_token(NextPageToken(query, rows.last_key));
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace smp::identity
