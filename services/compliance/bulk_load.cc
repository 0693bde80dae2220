#include "services/compliance/bulk_load.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"
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

// When the record was recorded: its own record time when set (not after `now`), else `now`.
absl::StatusOr<absl::Time> RecordedAt(absl::string_view field, bool has_time,
                                      const google::protobuf::Timestamp& time, absl::Time now) {
  if (!has_time) return now;
  const absl::Time at = FromProtoTimestamp(time);
  if (at > now) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is after the load's time"));
  }
  return at;
}

// The record times of `records` (each record's RecordedAt), in BulkRecords' order; the first
// record that is invalid at its time, named, when one is.
absl::StatusOr<std::vector<absl::Time>> ValidatedTimes(const BulkRecords& records, absl::Time now) {
  std::vector<absl::Time> times;
  times.reserve(records.size());
  for (size_t i = 0; i < records.credentials.size(); ++i) {
    const v1::Credential& c = records.credentials[i];
    absl::StatusOr<absl::Time> at =
        RecordedAt("create_time", c.has_create_time(), c.create_time(), now);
    RETURN_IF_ERROR(Named("credentials", i, at.status()));
    RETURN_IF_ERROR(Named("credentials", i, ValidateCredential(c)));
    times.push_back(*at);
  }
  for (size_t i = 0; i < records.permits.size(); ++i) {
    const v1::Permit& p = records.permits[i];
    absl::StatusOr<absl::Time> at =
        RecordedAt("create_time", p.has_create_time(), p.create_time(), now);
    RETURN_IF_ERROR(Named("permits", i, at.status()));
    RETURN_IF_ERROR(Named("permits", i, ValidatePermit(p)));
    times.push_back(*at);
  }
  for (size_t i = 0; i < records.consents.size(); ++i) {
    const v1::Consent& c = records.consents[i];
    absl::StatusOr<absl::Time> at =
        RecordedAt("record_time", c.has_record_time(), c.record_time(), now);
    RETURN_IF_ERROR(Named("consents", i, at.status()));
    RETURN_IF_ERROR(Named("consents", i, ValidateConsent(c, *at)));
    times.push_back(*at);
  }
  for (size_t i = 0; i < records.screenings.size(); ++i) {
    const v1::Screening& s = records.screenings[i];
    absl::StatusOr<absl::Time> at =
        RecordedAt("record_time", s.has_record_time(), s.record_time(), now);
    RETURN_IF_ERROR(Named("screenings", i, at.status()));
    RETURN_IF_ERROR(Named("screenings", i, ValidateScreening(s, *at)));
    times.push_back(*at);
  }
  for (size_t i = 0; i < records.procedures.size(); ++i) {
    const v1::ProcedureRecord& r = records.procedures[i];
    absl::StatusOr<absl::Time> at =
        RecordedAt("create_time", r.has_create_time(), r.create_time(), now);
    RETURN_IF_ERROR(Named("procedures", i, at.status()));
    RETURN_IF_ERROR(Named("procedures", i, ValidateProcedure(r, *at)));
    times.push_back(*at);
  }
  return times;
}

}  // namespace

absl::StatusOr<int> BulkLoad(const AuditTrail& audit, const BulkRecords& records, absl::Time now,
                             absl::Duration screening_validity, absl::string_view actor,
                             int per_transaction) {
  ASSIGN_OR_RETURN(const std::vector<absl::Time> times, ValidatedTimes(records, now));

  const ComplianceStore& store = audit.store();
  Principal who;
  who.staff_id = std::string(actor);
  const size_t total = records.size();
  const size_t batch = static_cast<size_t>(std::max(per_transaction, 1));
  int retried = 0;
  // Record `n` of the load, in the order credentials, permits, consents, screenings, procedures,
  // entered as recorded at times[n].
  auto add = [&](Transaction& txn, size_t n) -> absl::Status {
    const absl::Time at = times[n];
    if (n < records.credentials.size()) {
      return store.AddCredential(txn, records.credentials[n], at).status();
    }
    n -= records.credentials.size();
    if (n < records.permits.size()) return store.AddPermit(txn, records.permits[n], at).status();
    n -= records.permits.size();
    if (n < records.consents.size()) {
      v1::Consent c = records.consents[n];
      c.clear_withdrawn_time();
      return store.AddConsent(txn, std::move(c), at).status();
    }
    n -= records.consents.size();
    if (n < records.screenings.size()) {
      return store
          .AddScreening(txn, ScreeningAsRecorded(records.screenings[n], screening_validity), at)
          .status();
    }
    n -= records.screenings.size();
    return store.AddProcedure(txn, records.procedures[n], at).status();
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
    // UNAVAILABLE (busy): the transaction changed nothing; a few more tries, a moment apart.
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
