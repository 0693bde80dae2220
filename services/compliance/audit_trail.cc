#include "services/compliance/audit_trail.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/server/log.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"

namespace smp::compliance {

absl::string_view CutUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that did not fit.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

absl::StatusOr<v1::AuditEntry> AuditTrail::Append(Transaction& txn, const Principal& who,
                                                  absl::Time now, v1::AuditAction action,
                                                  absl::string_view method,
                                                  absl::string_view entity_type,
                                                  absl::string_view entity_id,
                                                  absl::string_view detail) const {
  v1::AuditEntry entry;
  *entry.mutable_time() = ToProtoTimestamp(now);
  entry.set_actor_id(who.staff_id);
  for (common::v1::Role role : who.roles) entry.add_actor_roles(common::v1::Role_Name(role));
  entry.set_action(action);
  entry.set_method(std::string(method));
  entry.set_entity_type(std::string(entity_type));
  entry.set_entity_id(std::string(entity_id));
  entry.set_detail(std::string(CutUtf8(detail, 1000)));
  return store_->AppendAudit(txn, std::move(entry));
}

absl::Status AuditTrail::Read(const Call& call, absl::string_view entity_type,
                              absl::string_view entity_id,
                              absl::FunctionRef<absl::Status(Transaction&)> read) const {
  const bool health_data = entity_type == "patient";
  if (!health_data && !call.who.HasRole(common::v1::ROLE_AUDITOR)) {
    return db_->Run(TxMode::kRead, read);
  }
  return db_->Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(read(txn));
    ReadTally tally;
    tally.window_start =
        absl::UnixEpoch() + absl::Floor(call.now - absl::UnixEpoch(), kReadAuditWindow);
    tally.actor_id = call.who.staff_id;
    for (common::v1::Role role : call.who.roles) {
      tally.actor_roles.push_back(common::v1::Role_Name(role));
    }
    tally.method = call.method;
    tally.entity_type = std::string(entity_type);
    tally.entity_id = std::string(entity_id);
    ASSIGN_OR_RETURN(int64_t reads, store_->TallyRead(txn, tally, call.now));
    if (reads > 1) return absl::OkStatus();  // counted; the hour's total follows
    return Record(txn, call, v1::AUDIT_ACTION_READ, entity_type, entity_id).status();
  });
}

absl::StatusOr<int> AuditTrail::FlushReadTallies(absl::Time now) const {
  const absl::Time current_window =
      absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), kReadAuditWindow);
  int appended = 0;
  RETURN_IF_ERROR(
      db_->Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<ReadTally> tallies,
                         store_->ListReadTallies(txn, current_window, 1000));
        for (const ReadTally& t : tallies) {
          if (t.reads > 1) {
            Principal who;
            who.staff_id = t.actor_id;
            for (const std::string& name : t.actor_roles) {
              common::v1::Role role;
              if (common::v1::Role_Parse(name, &role)) who.roles.push_back(role);
            }
            const std::string detail = absl::StrCat(
                t.reads - 1, t.reads == 2 ? " more read " : " more reads ",
                absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t.first_time, absl::UTCTimeZone()), "..",
                absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t.last_time, absl::UTCTimeZone()), " (",
                t.reads, " in the hour)");
            RETURN_IF_ERROR(Append(txn, who, now, v1::AUDIT_ACTION_READ, t.method, t.entity_type,
                                   t.entity_id, detail)
                                .status());
            ++appended;
          }
          RETURN_IF_ERROR(store_->DeleteReadTally(txn, t));
        }
        return absl::OkStatus();
      }));
  return appended;
}

RpcFrame::DeniedHook AuditTrail::DeniedHook() const {
  return [this](const RefusalSummary& refused) {
    const std::string detail = absl::StrCat(
        refused.count, refused.count == 1 ? " refused attempt " : " refused attempts ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", refused.window_start, absl::UTCTimeZone()), "..",
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", refused.window_end, absl::UTCTimeZone()), " [",
        refused.reason, "]: ", refused.message);
    absl::Status logged = db_->Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) {
      return Append(txn, refused.who, refused.window_end, v1::AUDIT_ACTION_DENIED, refused.method,
                    "", "", detail)
          .status();
    });
    if (!logged.ok()) {
      LogError("could not record refused attempts in the audit log",
               {{"method", refused.method}, {"error", logged.ToString()}});
    }
  };
}

}  // namespace smp::compliance
