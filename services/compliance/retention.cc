#include "services/compliance/retention.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/status_macros.h"
#include "common/util/validation.h"
#include "services/compliance/compliance_rules.h"

namespace smp::compliance {

absl::StatusOr<v1::RetentionPolicy> Retention::SetRetentionPolicy(
    const Call& call, const v1::SetRetentionPolicyRequest& req) const {
  v1::RetentionPolicy p = req.policy();
  RETURN_IF_ERROR(ValidateId("policy.clinic_id", p.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(p.clinic_id()));
  RETURN_IF_ERROR(ValidateOptionalText("policy.jurisdiction", p.jurisdiction(), 100));
  if (!p.time_zone().empty()) {
    RETURN_IF_ERROR(ValidateTimeZone("policy.time_zone", p.time_zone()).status());
  }
  if (p.client_records_years() != 2 && p.client_records_years() != 3 &&
      p.client_records_years() != 5) {
    return absl::InvalidArgumentError("policy.client_records_years: must be 2, 3 or 5");
  }
  if (p.training_records_years() == 0) p.set_training_records_years(3);
  if (p.documentation_years() == 0) p.set_documentation_years(6);
  if (p.training_records_years() < 3 || p.training_records_years() > 30) {
    return absl::InvalidArgumentError("policy.training_records_years: must be 3 to 30 (OSHA: 3)");
  }
  if (p.documentation_years() < 6 || p.documentation_years() > 30) {
    return absl::InvalidArgumentError("policy.documentation_years: must be 6 to 30");
  }
  if (p.destroy_health_questionnaire_after_years() < 0 ||
      p.destroy_health_questionnaire_after_years() > 30) {
    return absl::InvalidArgumentError(
        "policy.destroy_health_questionnaire_after_years: must be 0 (never) to 30");
  }
  return RunIdempotent<v1::RetentionPolicy>(
      audit_->db(), call, req, AuditChainQueue(),
      [&](Transaction& txn) -> absl::StatusOr<v1::RetentionPolicy> {
        RETURN_IF_ERROR(audit_->store().PutRetention(txn, p));
        RETURN_IF_ERROR(audit_
                            ->Record(txn, call, v1::AUDIT_ACTION_UPDATE, "clinic", p.clinic_id(),
                                     p.jurisdiction())
                            .status());
        return p;
      });
}

absl::StatusOr<v1::RetentionPolicy> Retention::GetRetentionPolicy(
    const Call& call, const v1::GetRetentionPolicyRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::RetentionPolicy out;
  RETURN_IF_ERROR(
      audit_->Read(call, "clinic", req.clinic_id(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(auto p, audit_->store().GetRetention(txn, req.clinic_id()));
        if (p.has_value()) {
          out = *std::move(p);
        } else {  // the strictest common defaults
          out.set_clinic_id(req.clinic_id());
          out.set_client_records_years(5);
          out.set_training_records_years(3);
          out.set_documentation_years(6);
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::RunRetentionPurgeResponse> Retention::RunRetentionPurge(
    const Call& call, const v1::RunRetentionPurgeRequest& req) const {
  auto run = [&](Transaction& txn) -> absl::StatusOr<v1::RunRetentionPurgeResponse> {
    ASSIGN_OR_RETURN(int64_t destroyed, PurgeIn(txn, call));
    v1::RunRetentionPurgeResponse out;
    out.set_screenings_destroyed(destroyed);
    return out;
  };
  // Older clients send no request_id: each such call runs the purge (itself idempotent in effect).
  if (!req.request_id().empty()) {
    return RunIdempotent<v1::RunRetentionPurgeResponse>(audit_->db(), call, req, AuditChainQueue(),
                                                        run);
  }
  v1::RunRetentionPurgeResponse out;
  RETURN_IF_ERROR(
      audit_->db().Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(out, run(txn));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<int64_t> Retention::Purge(const Call& call) const {
  int64_t destroyed = 0;
  RETURN_IF_ERROR(
      audit_->db().Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(destroyed, PurgeIn(txn, call));
        return absl::OkStatus();
      }));
  return destroyed;
}

absl::StatusOr<int64_t> Retention::PurgeIn(Transaction& txn, const Call& call) const {
  const ComplianceStore& store = audit_->store();
  ASSIGN_OR_RETURN(auto rules, store.DestructionRules(txn));
  std::vector<v1::Screening> tombstones;
  for (const v1::RetentionPolicy& rule : rules) {
    // Whole civil years in the clinic's zone: one taken on 2024-03-01 09:00 local goes at
    // 2026-03-01 09:00 local.
    const absl::Time before = DestructionCutoff(
        call.now, rule.destroy_health_questionnaire_after_years(), ZoneNamed(rule.time_zone()));
    ASSIGN_OR_RETURN(auto screenings, store.ScreeningsTakenBefore(txn, rule.clinic_id(), before));
    for (const v1::Screening& s : screenings) {
      // The content goes; a tombstone stays so that reports over the past still see a screening
      // on file (and its outcome), instead of flagging every older procedure SCREENING_MISSING.
      v1::Screening tombstone = ScreeningTombstone(s, call.now);
      RETURN_IF_ERROR(store.DestroyScreening(txn, tombstone));
      RETURN_IF_ERROR(
          audit_
              ->Record(txn, call, v1::AUDIT_ACTION_DELETE, "screening", s.id(),
                       absl::StrCat("health questionnaire destroyed: ",
                                    rule.jurisdiction().empty() ? "clinic" : rule.jurisdiction(),
                                    " rule, ", rule.destroy_health_questionnaire_after_years(),
                                    " years; tombstone kept"))
              .status());
      tombstones.push_back(std::move(tombstone));
    }
  }
  // Copies of the content kept as idempotent responses go too.
  RETURN_IF_ERROR(store.RedactStoredScreenings(txn, tombstones).status());
  return static_cast<int64_t>(tombstones.size());
}

}  // namespace smp::compliance
