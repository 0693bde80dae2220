#include "services/compliance/compliance_service.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/permissions.h"
#include "common/db/idempotency.h"
#include "common/rpc/handler.h"
#include "common/server/log.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "google/protobuf/descriptor.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/exports.h"
#include "services/compliance/record_validation.h"
#include "services/compliance/report_builder.h"

namespace smp::compliance {
namespace {

const google::protobuf::ServiceDescriptor* Descriptor(const std::string& name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

bool IsAuditor(const Principal& who) {
  return std::find(who.roles.begin(), who.roles.end(), common::v1::ROLE_AUDITOR) != who.roles.end();
}

constexpr int kAuditPageDefault = 500;
constexpr int kAuditPageMax = 5000;

// A page of the audit log after `since`: at most `page_size` entries (0: the default).
absl::StatusOr<int> AuditPageLimit(int64_t since, int32_t page_size) {
  if (since < 0) return absl::InvalidArgumentError("since_sequence: must not be negative");
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  return page_size == 0 ? kAuditPageDefault : std::min(page_size, kAuditPageMax);
}

}  // namespace

// ---------------------------------------------------------------- core

ComplianceCore::ComplianceCore(ComplianceDeps deps) : deps_(deps) {}

absl::StatusOr<v1::AuditEntry> ComplianceCore::Audit(
    Transaction& txn, const Principal& who, v1::AuditAction action, absl::string_view method,
    absl::string_view entity_type, absl::string_view entity_id, absl::string_view detail) {
  v1::AuditEntry entry;
  *entry.mutable_time() = ToProtoTimestamp(deps_.clock->Now());
  entry.set_actor_id(who.staff_id);
  for (common::v1::Role role : who.roles) entry.add_actor_roles(common::v1::Role_Name(role));
  entry.set_action(action);
  entry.set_method(std::string(method));
  entry.set_entity_type(std::string(entity_type));
  entry.set_entity_id(std::string(entity_id));
  entry.set_detail(std::string(detail.substr(0, 1000)));
  return store_.AppendAudit(txn, std::move(entry));
}

grpc::Status ComplianceCore::Serve(const Authorizer& authorizer, grpc::ServerContext* ctx,
                                   absl::string_view method,
                                   const std::function<absl::Status(const Principal&)>& body) {
  return ServeRpc(authorizer, *deps_.authenticator, ctx, method, body,
                  [&](const Principal& who, const absl::Status& refusal) {
                    absl::Status logged = deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) {
                      return Audit(txn, who, v1::AUDIT_ACTION_DENIED, method, "", "",
                                   refusal.message())
                          .status();
                    });
                    if (!logged.ok()) {
                      LogError("could not record a refused attempt in the audit log",
                               {{"method", std::string(method)}, {"error", logged.ToString()}});
                    }
                  });
}

absl::Status ComplianceCore::Read(const Principal& who, absl::string_view method,
                                  absl::string_view entity_type, absl::string_view entity_id,
                                  const std::function<absl::Status(Transaction&)>& fn) {
  if (!IsAuditor(who)) return deps_.db->Run(TxMode::kRead, fn);
  // An auditor's read and its audit entry commit together: no unrecorded auditor read.
  return deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(fn(txn));
    return Audit(txn, who, v1::AUDIT_ACTION_READ, method, entity_type, entity_id, "").status();
  });
}

absl::StatusOr<int64_t> ComplianceCore::PurgeByRetention(const Principal& who) {
  const absl::Time now = deps_.clock->Now();
  int64_t destroyed = 0;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rules, store_.DestructionRules(txn));
    for (const v1::RetentionPolicy& rule : rules) {
      // Whole civil years (UTC): a questionnaire taken on 2024-03-01 goes on 2026-03-01.
      const absl::CivilSecond civil_now = absl::ToCivilSecond(now, absl::UTCTimeZone());
      const absl::CivilSecond before(
          civil_now.year() - rule.destroy_health_questionnaire_after_years(), civil_now.month(),
          civil_now.day(), civil_now.hour(), civil_now.minute(), civil_now.second());
      ASSIGN_OR_RETURN(auto ids,
                       store_.ScreeningsTakenBefore(txn, rule.clinic_id(),
                                                    absl::FromCivil(before, absl::UTCTimeZone())));
      for (const std::string& id : ids) {
        RETURN_IF_ERROR(store_.DeleteScreening(txn, id));
        RETURN_IF_ERROR(
            Audit(
                txn, who, v1::AUDIT_ACTION_DELETE, "RunRetentionPurge", "screening", id,
                absl::StrCat("health questionnaire destroyed: ",
                             rule.jurisdiction().empty() ? "clinic" : rule.jurisdiction(),
                             " rule, ", rule.destroy_health_questionnaire_after_years(), " years"))
                .status());
        ++destroyed;
      }
    }
    return absl::OkStatus();
  }));
  return destroyed;
}

// ---------------------------------------------------------------- ComplianceService

ComplianceServiceImpl::ComplianceServiceImpl(ComplianceCore* core)
    : core_(core),
      authorizer_(Descriptor(v1::ComplianceService::service_full_name()),
                  core->deps().authenticator) {}

namespace {

// Runs a create of `Response` idempotently, with its audit entry in the same transaction.
template <typename Response, typename Request>
absl::StatusOr<Response> RecordAudited(
    ComplianceCore* core, const Principal& who, absl::string_view method, const Request& request,
    absl::string_view entity_type,
    const std::function<absl::StatusOr<Response>(Transaction&, absl::Time)>& change) {
  ASSIGN_OR_RETURN(IdempotencyKey key,
                   MakeIdempotencyKey(method, request.request_id(), who.staff_id, request));
  const absl::Time now = core->deps().clock->Now();
  return RunIdempotent<Response>(
      *core->deps().db, key, now, [&](Transaction& txn) -> absl::StatusOr<Response> {
        ASSIGN_OR_RETURN(Response out, change(txn, now));
        RETURN_IF_ERROR(
            core->Audit(txn, who, v1::AUDIT_ACTION_CREATE, method, entity_type, out.id(), "")
                .status());
        return out;
      });
}

}  // namespace

grpc::Status ComplianceServiceImpl::RecordCredential(grpc::ServerContext* ctx,
                                                     const v1::RecordCredentialRequest* req,
                                                     v1::Credential* out) {
  return core_->Serve(
      authorizer_, ctx, "RecordCredential", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateCredential(req->credential()));
        ASSIGN_OR_RETURN(
            *out, (RecordAudited<v1::Credential>(core_, who, "RecordCredential", *req, "credential",
                                                 [&](Transaction& txn, absl::Time now) {
                                                   return core_->store().AddCredential(
                                                       txn, req->credential(), now);
                                                 })));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::ListCredentials(grpc::ServerContext* ctx,
                                                    const v1::ListCredentialsRequest* req,
                                                    v1::ListCredentialsResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "ListCredentials", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
        if (!who.IsChainWide() && who.staff_id != req->practitioner_id()) {
          return absl::PermissionDeniedError(
              "clinic-scoped staff may read only their own credentials");
        }
        return core_->Read(who, "ListCredentials", "practitioner", req->practitioner_id(),
                           [&](Transaction& txn) -> absl::Status {
                             ASSIGN_OR_RETURN(auto all, core_->store().ListCredentials(
                                                            txn, req->practitioner_id()));
                             for (auto& c : all) *out->add_credentials() = std::move(c);
                             return absl::OkStatus();
                           });
      });
}

grpc::Status ComplianceServiceImpl::RecordPermit(grpc::ServerContext* ctx,
                                                 const v1::RecordPermitRequest* req,
                                                 v1::Permit* out) {
  return core_->Serve(authorizer_, ctx, "RecordPermit", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidatePermit(req->permit()));
    RETURN_IF_ERROR(who.CheckClinic(req->permit().clinic_id()));
    ASSIGN_OR_RETURN(*out, (RecordAudited<v1::Permit>(core_, who, "RecordPermit", *req, "permit",
                                                      [&](Transaction& txn, absl::Time now) {
                                                        return core_->store().AddPermit(
                                                            txn, req->permit(), now);
                                                      })));
    return absl::OkStatus();
  });
}

grpc::Status ComplianceServiceImpl::ListPermits(grpc::ServerContext* ctx,
                                                const v1::ListPermitsRequest* req,
                                                v1::ListPermitsResponse* out) {
  return core_->Serve(authorizer_, ctx, "ListPermits", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return core_->Read(
        who, "ListPermits", "clinic", req->clinic_id(), [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(auto all, core_->store().ListPermits(txn, req->clinic_id()));
          for (auto& p : all) *out->add_permits() = std::move(p);
          return absl::OkStatus();
        });
  });
}

grpc::Status ComplianceServiceImpl::RecordConsent(grpc::ServerContext* ctx,
                                                  const v1::RecordConsentRequest* req,
                                                  v1::Consent* out) {
  return core_->Serve(authorizer_, ctx, "RecordConsent", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateConsent(req->consent(), core_->deps().clock->Now()));
    RETURN_IF_ERROR(who.CheckClinic(req->consent().clinic_id()));
    ASSIGN_OR_RETURN(*out, (RecordAudited<v1::Consent>(core_, who, "RecordConsent", *req, "consent",
                                                       [&](Transaction& txn, absl::Time now) {
                                                         v1::Consent c = req->consent();
                                                         c.clear_withdrawn_time();
                                                         return core_->store().AddConsent(txn, c,
                                                                                          now);
                                                       })));
    return absl::OkStatus();
  });
}

grpc::Status ComplianceServiceImpl::WithdrawConsent(grpc::ServerContext* ctx,
                                                    const v1::WithdrawConsentRequest* req,
                                                    v1::Consent* out) {
  return core_->Serve(
      authorizer_, ctx, "WithdrawConsent", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("WithdrawConsent", req->request_id(), who.staff_id, *req));
        const absl::Time now = core_->deps().clock->Now();
        const absl::Time when =
            req->has_withdrawn_time() ? FromProtoTimestamp(req->withdrawn_time()) : now;
        if (when > now + absl::Minutes(1)) {
          return absl::InvalidArgumentError("withdrawn_time: is in the future");
        }
        ASSIGN_OR_RETURN(
            *out,
            RunIdempotent<v1::Consent>(
                *core_->deps().db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Consent> {
                  ASSIGN_OR_RETURN(v1::Consent c, core_->store().GetConsent(txn, req->id()));
                  RETURN_IF_ERROR(who.CheckClinic(c.clinic_id()));
                  if (c.has_withdrawn_time()) {
                    return absl::FailedPreconditionError(
                        absl::StrCat("consent ", c.id(), " was already withdrawn"));
                  }
                  if (when < FromProtoTimestamp(c.signed_time())) {
                    return absl::InvalidArgumentError(
                        "withdrawn_time: is before the consent was signed");
                  }
                  *c.mutable_withdrawn_time() = ToProtoTimestamp(when);
                  RETURN_IF_ERROR(core_->store().UpdateConsent(txn, c));
                  RETURN_IF_ERROR(core_
                                      ->Audit(txn, who, v1::AUDIT_ACTION_UPDATE, "WithdrawConsent",
                                              "consent", c.id(), "withdrawn")
                                      .status());
                  return c;
                }));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::ListConsents(grpc::ServerContext* ctx,
                                                 const v1::ListConsentsRequest* req,
                                                 v1::ListConsentsResponse* out) {
  return core_->Serve(authorizer_, ctx, "ListConsents", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
    return core_->Read(
        who, "ListConsents", "patient", req->patient_id(), [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(auto all, core_->store().ListConsents(txn, req->patient_id()));
          for (auto& c : all) {
            if (who.CanAccessClinic(c.clinic_id())) *out->add_consents() = std::move(c);
          }
          return absl::OkStatus();
        });
  });
}

grpc::Status ComplianceServiceImpl::RecordScreening(grpc::ServerContext* ctx,
                                                    const v1::RecordScreeningRequest* req,
                                                    v1::Screening* out) {
  return core_->Serve(
      authorizer_, ctx, "RecordScreening", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateScreening(req->screening(), core_->deps().clock->Now()));
        RETURN_IF_ERROR(who.CheckClinic(req->screening().clinic_id()));
        ASSIGN_OR_RETURN(*out, (RecordAudited<v1::Screening>(
                                   core_, who, "RecordScreening", *req, "screening",
                                   [&](Transaction& txn, absl::Time now) {
                                     v1::Screening s = req->screening();
                                     s.clear_override();
                                     std::vector<v1::Contraindication> findings;
                                     for (int f : s.findings()) {
                                       findings.push_back(static_cast<v1::Contraindication>(f));
                                     }
                                     s.set_outcome(OutcomeOf(findings));
                                     *s.mutable_valid_until() =
                                         ToProtoTimestamp(FromProtoTimestamp(s.screened_time()) +
                                                          core_->deps().screening_validity);
                                     return core_->store().AddScreening(txn, s, now);
                                   })));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::OverrideScreening(grpc::ServerContext* ctx,
                                                      const v1::OverrideScreeningRequest* req,
                                                      v1::Screening* out) {
  return core_->Serve(
      authorizer_, ctx, "OverrideScreening", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 1000));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("OverrideScreening", req->request_id(), who.staff_id, *req));
        const absl::Time now = core_->deps().clock->Now();
        ASSIGN_OR_RETURN(
            *out,
            RunIdempotent<v1::Screening>(
                *core_->deps().db, key, now,
                [&](Transaction& txn) -> absl::StatusOr<v1::Screening> {
                  ASSIGN_OR_RETURN(v1::Screening s, core_->store().GetScreening(txn, req->id()));
                  RETURN_IF_ERROR(who.CheckClinic(s.clinic_id()));
                  if (s.has_override()) {
                    return absl::FailedPreconditionError("the screening is already overridden");
                  }
                  RETURN_IF_ERROR(CheckOverridable(s));
                  v1::ScreeningOverride* o = s.mutable_override();
                  o->set_clinician_id(who.staff_id);
                  o->set_reason(req->reason());
                  *o->mutable_decided_time() = ToProtoTimestamp(now);
                  RETURN_IF_ERROR(core_->store().UpdateScreening(txn, s));
                  RETURN_IF_ERROR(core_
                                      ->Audit(txn, who, v1::AUDIT_ACTION_UPDATE,
                                              "OverrideScreening", "screening", s.id(),
                                              req->reason())
                                      .status());
                  return s;
                }));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::ListScreenings(grpc::ServerContext* ctx,
                                                   const v1::ListScreeningsRequest* req,
                                                   v1::ListScreeningsResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "ListScreenings", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
        return core_->Read(who, "ListScreenings", "patient", req->patient_id(),
                           [&](Transaction& txn) -> absl::Status {
                             ASSIGN_OR_RETURN(
                                 auto all, core_->store().ListScreenings(txn, req->patient_id()));
                             for (auto& s : all) {
                               if (who.CanAccessClinic(s.clinic_id()))
                                 *out->add_screenings() = std::move(s);
                             }
                             return absl::OkStatus();
                           });
      });
}

grpc::Status ComplianceServiceImpl::RecordProcedure(grpc::ServerContext* ctx,
                                                    const v1::RecordProcedureRequest* req,
                                                    v1::ProcedureRecord* out) {
  return core_->Serve(
      authorizer_, ctx, "RecordProcedure", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateProcedure(req->record(), core_->deps().clock->Now()));
        RETURN_IF_ERROR(who.CheckClinic(req->record().clinic_id()));
        ASSIGN_OR_RETURN(*out, (RecordAudited<v1::ProcedureRecord>(
                                   core_, who, "RecordProcedure", *req, "procedure",
                                   [&](Transaction& txn, absl::Time now) {
                                     return core_->store().AddProcedure(txn, req->record(), now);
                                   })));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::ReportIncident(grpc::ServerContext* ctx,
                                                   const v1::ReportIncidentRequest* req,
                                                   v1::Incident* out) {
  return core_->Serve(
      authorizer_, ctx, "ReportIncident", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateIncident(req->incident(), core_->deps().clock->Now()));
        RETURN_IF_ERROR(who.CheckClinic(req->incident().clinic_id()));
        ASSIGN_OR_RETURN(
            *out, (RecordAudited<v1::Incident>(core_, who, "ReportIncident", *req, "incident",
                                               [&](Transaction& txn, absl::Time now) {
                                                 v1::Incident i = req->incident();
                                                 i.set_reported_by(who.staff_id);
                                                 return core_->store().AddIncident(txn, i, now);
                                               })));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::RecordIncidentFollowUp(
    grpc::ServerContext* ctx, const v1::RecordIncidentFollowUpRequest* req, v1::Incident* out) {
  return core_->Serve(
      authorizer_, ctx, "RecordIncidentFollowUp", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        RETURN_IF_ERROR(ValidateRequiredText("follow_up", req->follow_up(), 2000));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("RecordIncidentFollowUp", req->request_id(), who.staff_id, *req));
        const absl::Time now = core_->deps().clock->Now();
        ASSIGN_OR_RETURN(
            *out,
            RunIdempotent<v1::Incident>(
                *core_->deps().db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Incident> {
                  ASSIGN_OR_RETURN(v1::Incident i, core_->store().GetIncident(txn, req->id()));
                  RETURN_IF_ERROR(who.CheckClinic(i.clinic_id()));
                  // Follow-ups accumulate; nothing said before is overwritten.
                  const std::string entry =
                      absl::StrCat(absl::FormatTime("%Y-%m-%d", now, absl::UTCTimeZone()), " ",
                                   who.username, ": ", req->follow_up());
                  i.set_follow_up(i.follow_up().empty() ? entry
                                                        : absl::StrCat(i.follow_up(), "\n", entry));
                  if (i.follow_up().size() > 20000) {
                    return absl::ResourceExhaustedError("the incident's follow-up log is full");
                  }
                  RETURN_IF_ERROR(core_->store().UpdateIncident(txn, i));
                  RETURN_IF_ERROR(core_
                                      ->Audit(txn, who, v1::AUDIT_ACTION_UPDATE,
                                              "RecordIncidentFollowUp", "incident", i.id(), "")
                                      .status());
                  return i;
                }));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::RecordLotRecall(grpc::ServerContext* ctx,
                                                    const v1::RecordLotRecallRequest* req,
                                                    v1::LotRecall* out) {
  return core_->Serve(
      authorizer_, ctx, "RecordLotRecall", [&](const Principal& who) -> absl::Status {
        const v1::LotRecall& r = req->recall();
        RETURN_IF_ERROR(ValidateId("recall.product_id", r.product_id()));
        RETURN_IF_ERROR(ValidateRequiredText("recall.lot", r.lot(), 100));
        RETURN_IF_ERROR(ValidateRequiredText("recall.reason", r.reason(), 500));
        if (!r.has_recall_time())
          return absl::InvalidArgumentError("recall.recall_time: is required");
        if (!who.IsChainWide()) {
          return absl::PermissionDeniedError(
              "a recall is chain-wide: admins and the inventory service");
        }
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("RecordLotRecall", req->request_id(), who.staff_id, *req));
        ASSIGN_OR_RETURN(
            *out, RunIdempotent<v1::LotRecall>(
                      *core_->deps().db, key, core_->deps().clock->Now(),
                      [&](Transaction& txn) -> absl::StatusOr<v1::LotRecall> {
                        RETURN_IF_ERROR(core_->store().AddRecall(txn, r));
                        RETURN_IF_ERROR(core_
                                            ->Audit(txn, who, v1::AUDIT_ACTION_CREATE,
                                                    "RecordLotRecall", "lot", r.lot(), r.reason())
                                            .status());
                        return r;
                      }));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::ListExpiring(grpc::ServerContext* ctx,
                                                 const v1::ListExpiringRequest* req,
                                                 v1::ListExpiringResponse* out) {
  return core_->Serve(authorizer_, ctx, "ListExpiring", [&](const Principal& who) -> absl::Status {
    if (req->within_days() < 1 || req->within_days() > 365) {
      return absl::InvalidArgumentError("within_days: must be 1 to 365");
    }
    for (int i = 0; i < req->clinic_ids_size(); ++i) {
      RETURN_IF_ERROR(ValidateId(absl::StrCat("clinic_ids[", i, "]"), req->clinic_ids(i)));
      RETURN_IF_ERROR(who.CheckClinic(req->clinic_ids(i)));
    }
    const absl::CivilDay until =
        absl::ToCivilDay(core_->deps().clock->Now(), absl::UTCTimeZone()) + req->within_days();
    return core_->Read(who, "ListExpiring", "", "", [&](Transaction& txn) -> absl::Status {
      auto wanted = [&](const std::string& clinic) {
        if (req->clinic_ids_size() == 0) return who.CanAccessClinic(clinic);
        return std::find(req->clinic_ids().begin(), req->clinic_ids().end(), clinic) !=
               req->clinic_ids().end();
      };
      ASSIGN_OR_RETURN(auto permits, core_->store().PermitsEndingBy(txn, until));
      for (auto& p : permits) {
        if (wanted(p.clinic_id())) *out->add_permits() = std::move(p);
      }
      // Credentials belong to people, not clinics: chain-wide callers see all; others their own.
      ASSIGN_OR_RETURN(auto credentials, core_->store().CredentialsEndingBy(txn, until));
      for (auto& c : credentials) {
        if (who.IsChainWide() || c.practitioner_id() == who.staff_id) {
          *out->add_credentials() = std::move(c);
        }
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status ComplianceServiceImpl::GenerateReport(grpc::ServerContext* ctx,
                                                   const v1::GenerateReportRequest* req,
                                                   grpc::ServerWriter<v1::ReportPart>* writer) {
  return core_->Serve(authorizer_, ctx, "GenerateReport", [&](const Principal& who) {
    return BuildReport(core_, who, "GenerateReport", req,
                       [&](const v1::ReportPart& part) { return writer->Write(part); });
  });
}

grpc::Status ComplianceServiceImpl::ExportReport(grpc::ServerContext* ctx,
                                                 const v1::ExportReportRequest* req,
                                                 grpc::ServerWriter<v1::ExportChunk>* writer) {
  return core_->Serve(authorizer_, ctx, "ExportReport", [&](const Principal& who) -> absl::Status {
    if (req->format() != v1::EXPORT_FORMAT_JSON && req->format() != v1::EXPORT_FORMAT_CSV) {
      return absl::InvalidArgumentError("format: choose EXPORT_FORMAT_JSON or EXPORT_FORMAT_CSV");
    }
    const bool csv = req->format() == v1::EXPORT_FORMAT_CSV;
    CsvReportWriter csv_writer;
    JsonReportWriter json_writer;
    v1::ExportChunk chunk;
    // Parts are batched into chunks of about 64 KiB.
    auto flush = [&](bool force) {
      if (chunk.data().empty() || (!force && chunk.data().size() < (64u << 10))) return true;
      const bool ok = writer->Write(chunk);
      chunk.clear_data();
      return ok;
    };
    chunk.set_data(csv ? CsvReportWriter::ColumnLine() : json_writer.Open());
    RETURN_IF_ERROR(
        BuildReport(core_, who, "ExportReport", &req->report(), [&](const v1::ReportPart& part) {
          if (part.has_procedure()) {
            chunk.set_procedures_done(chunk.procedures_done() + 1);
          }
          chunk.mutable_data()->append(csv ? csv_writer.Line(part) : json_writer.Part(part));
          return flush(false);
        }));
    if (!csv) chunk.mutable_data()->append(json_writer.Close());
    if (!flush(true)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  });
}

grpc::Status ComplianceServiceImpl::ExportAuditEvents(grpc::ServerContext* ctx,
                                                      const v1::ExportAuditEventsRequest* req,
                                                      v1::ExportAuditEventsResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "ExportAuditEvents", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(const int limit, AuditPageLimit(req->since_sequence(), req->page_size()));
        return core_->Read(
            who, "ExportAuditEvents", "audit_log", "", [&](Transaction& txn) -> absl::Status {
              ASSIGN_OR_RETURN(auto entries,
                               core_->store().ListAudit(txn, req->since_sequence(), limit));
              for (const v1::AuditEntry& e : entries) {
                out->add_fhir_json(ToFhirAuditEvent(e));
                out->set_last_sequence(e.sequence());
              }
              return absl::OkStatus();
            });
      });
}

grpc::Status ComplianceServiceImpl::SetRetentionPolicy(grpc::ServerContext* ctx,
                                                       const v1::SetRetentionPolicyRequest* req,
                                                       v1::RetentionPolicy* out) {
  return core_->Serve(
      authorizer_, ctx, "SetRetentionPolicy", [&](const Principal& who) -> absl::Status {
        v1::RetentionPolicy p = req->policy();
        RETURN_IF_ERROR(ValidateId("policy.clinic_id", p.clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(p.clinic_id()));
        RETURN_IF_ERROR(ValidateOptionalText("policy.jurisdiction", p.jurisdiction(), 100));
        if (p.client_records_years() != 2 && p.client_records_years() != 3 &&
            p.client_records_years() != 5) {
          return absl::InvalidArgumentError("policy.client_records_years: must be 2, 3 or 5");
        }
        if (p.training_records_years() == 0) p.set_training_records_years(3);
        if (p.documentation_years() == 0) p.set_documentation_years(6);
        if (p.training_records_years() < 3 || p.training_records_years() > 30) {
          return absl::InvalidArgumentError(
              "policy.training_records_years: must be 3 to 30 (OSHA: 3)");
        }
        if (p.documentation_years() < 6 || p.documentation_years() > 30) {
          return absl::InvalidArgumentError("policy.documentation_years: must be 6 to 30");
        }
        if (p.destroy_health_questionnaire_after_years() < 0 ||
            p.destroy_health_questionnaire_after_years() > 30) {
          return absl::InvalidArgumentError(
              "policy.destroy_health_questionnaire_after_years: must be 0 (never) to 30");
        }
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("SetRetentionPolicy", req->request_id(), who.staff_id, *req));
        ASSIGN_OR_RETURN(*out, RunIdempotent<v1::RetentionPolicy>(
                                   *core_->deps().db, key, core_->deps().clock->Now(),
                                   [&](Transaction& txn) -> absl::StatusOr<v1::RetentionPolicy> {
                                     RETURN_IF_ERROR(core_->store().PutRetention(txn, p));
                                     RETURN_IF_ERROR(core_
                                                         ->Audit(txn, who, v1::AUDIT_ACTION_UPDATE,
                                                                 "SetRetentionPolicy", "clinic",
                                                                 p.clinic_id(), p.jurisdiction())
                                                         .status());
                                     return p;
                                   }));
        return absl::OkStatus();
      });
}

grpc::Status ComplianceServiceImpl::GetRetentionPolicy(grpc::ServerContext* ctx,
                                                       const v1::GetRetentionPolicyRequest* req,
                                                       v1::RetentionPolicy* out) {
  return core_->Serve(
      authorizer_, ctx, "GetRetentionPolicy", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        return core_->Read(who, "GetRetentionPolicy", "clinic", req->clinic_id(),
                           [&](Transaction& txn) -> absl::Status {
                             ASSIGN_OR_RETURN(auto p,
                                              core_->store().GetRetention(txn, req->clinic_id()));
                             if (p.has_value()) {
                               *out = std::move(*p);
                             } else {  // the strictest common defaults
                               out->set_clinic_id(req->clinic_id());
                               out->set_client_records_years(5);
                               out->set_training_records_years(3);
                               out->set_documentation_years(6);
                             }
                             return absl::OkStatus();
                           });
      });
}

grpc::Status ComplianceServiceImpl::RunRetentionPurge(grpc::ServerContext* ctx,
                                                      const v1::RunRetentionPurgeRequest*,
                                                      v1::RunRetentionPurgeResponse* out) {
  return core_->Serve(authorizer_, ctx, "RunRetentionPurge",
                      [&](const Principal& who) -> absl::Status {
                        ASSIGN_OR_RETURN(int64_t destroyed, core_->PurgeByRetention(who));
                        out->set_screenings_destroyed(destroyed);
                        return absl::OkStatus();
                      });
}

grpc::Status ComplianceServiceImpl::ListAuditEntries(grpc::ServerContext* ctx,
                                                     const v1::ListAuditEntriesRequest* req,
                                                     v1::ListAuditEntriesResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "ListAuditEntries", [&](const Principal& who) -> absl::Status {
        ASSIGN_OR_RETURN(const int limit, AuditPageLimit(req->since_sequence(), req->page_size()));
        return core_->Read(
            who, "ListAuditEntries", "audit_log", "", [&](Transaction& txn) -> absl::Status {
              ASSIGN_OR_RETURN(auto entries,
                               core_->store().ListAudit(txn, req->since_sequence(), limit));
              for (auto& e : entries) *out->add_entries() = std::move(e);
              return absl::OkStatus();
            });
      });
}

grpc::Status ComplianceServiceImpl::VerifyAuditLog(grpc::ServerContext* ctx,
                                                   const v1::VerifyAuditLogRequest*,
                                                   v1::VerifyAuditLogResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "VerifyAuditLog", [&](const Principal& who) -> absl::Status {
        ChainVerifier verifier;
        RETURN_IF_ERROR(core_->deps().db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          int64_t since = 0;
          while (true) {
            ASSIGN_OR_RETURN(auto page, core_->store().ListAudit(txn, since, kAuditPageMax));
            for (const v1::AuditEntry& e : page) {
              if (!verifier.Add(e)) return absl::OkStatus();
              since = e.sequence();
            }
            if (static_cast<int>(page.size()) < kAuditPageMax) return absl::OkStatus();
          }
        }));
        const ChainVerdict& verdict = verifier.verdict();
        out->set_intact(verdict.intact);
        out->set_entries_checked(verdict.entries_checked);
        out->set_first_bad_sequence(verdict.first_bad_sequence);
        out->set_problem(verdict.problem);
        // Recorded after the check, so the check covers the log as it was asked about.
        return core_->deps().db->Run(TxMode::kWrite, [&](Transaction& txn) {
          return core_
              ->Audit(txn, who, v1::AUDIT_ACTION_READ, "VerifyAuditLog", "audit_log", "",
                      verdict.intact ? "intact"
                                     : absl::StrCat("broken at ", verdict.first_bad_sequence))
              .status();
        });
      });
}

grpc::Status ComplianceServiceImpl::CreateCheckpoint(grpc::ServerContext* ctx,
                                                     const v1::CreateCheckpointRequest*,
                                                     v1::Checkpoint* out) {
  return core_->Serve(
      authorizer_, ctx, "CreateCheckpoint", [&](const Principal& who) -> absl::Status {
        return core_->deps().db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::AuditEntry entry,
                           core_->Audit(txn, who, v1::AUDIT_ACTION_READ, "CreateCheckpoint",
                                        "audit_log", "", "checkpoint signed"));
          *out = core_->deps().signer->Sign(entry.sequence(), entry.hash(),
                                            core_->deps().clock->Now());
          return absl::OkStatus();
        });
      });
}

grpc::Status ComplianceServiceImpl::VerifyCheckpoint(grpc::ServerContext* ctx,
                                                     const v1::VerifyCheckpointRequest* req,
                                                     v1::VerifyCheckpointResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "VerifyCheckpoint", [&](const Principal& who) -> absl::Status {
        const v1::Checkpoint& c = req->checkpoint();
        if (c.count() < 1) return absl::InvalidArgumentError("checkpoint.count: must be positive");
        return core_->Read(
            who, "VerifyCheckpoint", "audit_log", "", [&](Transaction& txn) -> absl::Status {
              if (!core_->deps().signer->VerifySignature(c)) {
                out->set_valid(false);
                out->set_problem(
                    "the signature is not this service's (or the checkpoint was altered)");
                return absl::OkStatus();
              }
              ASSIGN_OR_RETURN(std::optional<v1::AuditEntry> entry,
                               core_->store().GetAudit(txn, c.count()));
              if (!entry.has_value()) {
                out->set_valid(false);
                out->set_problem(absl::StrCat("the log no longer has entry ", c.count(),
                                              ": history was truncated"));
              } else if (entry->hash() != c.head_hash()) {
                out->set_valid(false);
                out->set_problem(
                    absl::StrCat("entry ", c.count(),
                                 " differs from the signed checkpoint: history was rewritten"));
              } else {
                out->set_valid(true);
              }
              return absl::OkStatus();
            });
      });
}

// ---------------------------------------------------------------- EligibilityService

EligibilityServiceImpl::EligibilityServiceImpl(ComplianceCore* core)
    : core_(core),
      authorizer_(Descriptor(v1::EligibilityService::service_full_name()),
                  core->deps().authenticator) {}

grpc::Status EligibilityServiceImpl::CheckEligibility(grpc::ServerContext* ctx,
                                                      const v1::CheckEligibilityRequest* req,
                                                      v1::CheckEligibilityResponse* out) {
  return core_->Serve(
      authorizer_, ctx, "CheckEligibility", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
        RETURN_IF_ERROR(ValidateId("practitioner_id", req->practitioner_id()));
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(ValidateDate("date", req->date()));
        if (req->procedure_type() == v1::PROCEDURE_TYPE_UNSPECIFIED ||
            !v1::ProcedureType_IsValid(req->procedure_type())) {
          return absl::InvalidArgumentError("procedure_type: choose a procedure type");
        }
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        return core_->Read(
            who, "CheckEligibility", "patient", req->patient_id(),
            [&](Transaction& txn) -> absl::Status {
              EligibilityInputs in;
              in.day = DayOf(req->date());
              // Consent and screening as they stand now, when the booking is made.
              in.at = core_->deps().clock->Now();
              const ComplianceStore& store = core_->store();
              ASSIGN_OR_RETURN(in.credentials, store.ListCredentials(txn, req->practitioner_id()));
              ASSIGN_OR_RETURN(in.permits, store.ListPermits(txn, req->clinic_id()));
              ASSIGN_OR_RETURN(in.consents, store.ListConsents(txn, req->patient_id()));
              ASSIGN_OR_RETURN(in.screenings, store.ListScreenings(txn, req->patient_id()));
              for (v1::IneligibilityReason& r : Decide(in)) {
                *out->add_reasons() = std::move(r);
              }
              out->set_allowed(out->reasons_size() == 0);
              return absl::OkStatus();
            });
      });
}

}  // namespace smp::compliance
