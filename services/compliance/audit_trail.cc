#include "services/compliance/audit_trail.h"

#include <utility>

#include "common/server/log.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"

namespace smp::compliance {

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
  entry.set_detail(std::string(detail.substr(0, 1000)));
  return store_->AppendAudit(txn, std::move(entry));
}

absl::Status AuditTrail::Read(const Call& call, absl::string_view entity_type,
                              absl::string_view entity_id,
                              absl::FunctionRef<absl::Status(Transaction&)> read) const {
  if (!call.who.HasRole(common::v1::ROLE_AUDITOR)) return db_->Run(TxMode::kRead, read);
  return db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(read(txn));
    return Record(txn, call, v1::AUDIT_ACTION_READ, entity_type, entity_id).status();
  });
}

RpcFrame::DeniedHook AuditTrail::DeniedHook(const Clock* clock) const {
  return [this, clock](const Principal& who, absl::string_view method_name,
                       const absl::Status& refusal) {
    const std::string method(method_name);
    absl::Status logged = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
      return Append(txn, who, clock->Now(), v1::AUDIT_ACTION_DENIED, method, "", "",
                    refusal.message())
          .status();
    });
    if (!logged.ok()) {
      LogError("could not record a refused attempt in the audit log",
               {{"method", method}, {"error", logged.ToString()}});
    }
  };
}

}  // namespace smp::compliance
