#include "services/compliance/bulk_load.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/record_validation.h"

namespace smp::compliance {
namespace {

constexpr int kRetries = 5;

// `status` with its message prefixed by "<what>[<i>].".
absl::Status Named(absl::string_view what, size_t i, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, "[", i, "].", status.message()));
}

}  // namespace

absl::StatusOr<int> BulkLoad(const AuditTrail& audit, const BulkRecords& records, absl::Time now,
                             absl::Duration screening_validity, absl::string_view actor,
                             int per_transaction) {
  for (size_t i = 0; i < records.credentials.size(); ++i) {
    RETURN_IF_ERROR(Named("credentials", i, ValidateCredential(records.credentials[i])));
  }
  for (size_t i = 0; i < records.permits.size(); ++i) {
    RETURN_IF_ERROR(Named("permits", i, ValidatePermit(records.permits[i])));
  }
  for (size_t i = 0; i < records.consents.size(); ++i) {
    RETURN_IF_ERROR(Named("consents", i, ValidateConsent(records.consents[i], now)));
  }
  for (size_t i = 0; i < records.screenings.size(); ++i) {
    RETURN_IF_ERROR(Named("screenings", i, ValidateScreening(records.screenings[i], now)));
  }
  for (size_t i = 0; i < records.procedures.size(); ++i) {
    RETURN_IF_ERROR(Named("procedures", i, ValidateProcedure(records.procedures[i], now)));
  }

  const ComplianceStore& store = audit.store();
  Principal who;
  who.staff_id = std::string(actor);
  const size_t total = records.size();
  const size_t batch = static_cast<size_t>(std::max(per_transaction, 1));
  int retried = 0;
  // Record `n` of the load, in the order credentials, permits, consents, screenings, procedures.
  auto add = [&](Transaction& txn, size_t n) -> absl::Status {
    if (n < records.credentials.size()) {
      return store.AddCredential(txn, records.credentials[n], now).status();
    }
    n -= records.credentials.size();
    if (n < records.permits.size()) return store.AddPermit(txn, records.permits[n], now).status();
    n -= records.permits.size();
    if (n < records.consents.size()) {
      v1::Consent c = records.consents[n];
      c.clear_withdrawn_time();
      return store.AddConsent(txn, std::move(c), now).status();
    }
    n -= records.consents.size();
    if (n < records.screenings.size()) {
      return store
          .AddScreening(txn, ScreeningAsRecorded(records.screenings[n], screening_validity), now)
          .status();
    }
    n -= records.screenings.size();
    return store.AddProcedure(txn, records.procedures[n], now).status();
  };
  for (size_t start = 0; start < total; start += batch) {
    const size_t end = std::min(total, start + batch);
    auto write = [&](Transaction& txn) -> absl::Status {
      for (size_t n = start; n < end; ++n) RETURN_IF_ERROR(add(txn, n));
      return audit
          .Append(txn, who, now, v1::AUDIT_ACTION_CREATE, "BulkLoad", "bulk_load", "",
                  absl::StrCat("records ", start + 1, "..", end, " of ", total, " (",
                               records.credentials.size(), " credentials, ", records.permits.size(),
                               " permits, ", records.consents.size(), " consents, ",
                               records.screenings.size(), " screenings, ",
                               records.procedures.size(), " procedures)"))
          .status();
    };
    absl::Status written = audit.db().Run(TxMode::kWrite, write);
    // UNAVAILABLE (busy, or the SQLITE_FULL of bulk_load.h): the transaction changed nothing; a
    // few more tries, a moment apart.
    for (int attempt = 1; attempt <= kRetries && absl::IsUnavailable(written); ++attempt) {
      ++retried;
      absl::SleepFor(absl::Milliseconds(200) * attempt);
      written = audit.db().Run(TxMode::kWrite, write);
    }
    if (!written.ok()) {
      return absl::Status(written.code(), absl::StrCat("records ", start + 1, "..", end, " of ",
                                                       total, ": ", written.message()));
    }
  }
  return retried;
}

}  // namespace smp::compliance
