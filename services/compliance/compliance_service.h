#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_

#include <functional>
#include <string>

#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/db/database.h"
#include "common/util/clock.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/compliance_store.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"

namespace smp::compliance {

struct ComplianceDeps {
  Database* db;
  Authenticator* authenticator;
  const CheckpointSigner* signer;
  const Clock* clock;
  // How long a screening counts for eligibility (valid_until = screened_time + this).
  absl::Duration screening_validity = absl::Hours(24 * 90);
};

// Shared by both gRPC services of the compliance binary: the store, the audit trail, and the frame
// every handler runs in (authorise; record refused attempts; record auditors' reads).
class ComplianceCore {
 public:
  explicit ComplianceCore(ComplianceDeps deps);

  // Runs `body` for `method` of `service`: a caller whose roles lack the permission gets
  // PERMISSION_DENIED and the attempt is appended to the audit log.
  grpc::Status Serve(const Authorizer& authorizer, grpc::ServerContext* ctx,
                     absl::string_view method,
                     const std::function<absl::Status(const Principal&)>& body);
  // A read: in one transaction with an audit entry when the caller is an auditor (every read by an
  // auditor is on the record), else a plain read transaction.
  absl::Status Read(const Principal& who, absl::string_view method, absl::string_view entity_type,
                    absl::string_view entity_id,
                    const std::function<absl::Status(Transaction&)>& fn);
  // Appends an audit entry for `who` inside `txn`.
  absl::StatusOr<v1::AuditEntry> Audit(Transaction& txn, const Principal& who,
                                       v1::AuditAction action, absl::string_view method,
                                       absl::string_view entity_type, absl::string_view entity_id,
                                       absl::string_view detail);

  // Destroys health questionnaires past their clinic's destruction rule, one audit entry each, as
  // `who` (the caller, or the daily job). Returns how many it destroyed.
  absl::StatusOr<int64_t> PurgeByRetention(const Principal& who);

  const ComplianceDeps& deps() const { return deps_; }
  const ComplianceStore& store() const { return store_; }

 private:
  ComplianceDeps deps_;
  ComplianceStore store_;
};

// smp.compliance.v1.ComplianceService.
class ComplianceServiceImpl final : public v1::ComplianceService::Service {
 public:
  explicit ComplianceServiceImpl(ComplianceCore* core);

  grpc::Status RecordCredential(grpc::ServerContext*, const v1::RecordCredentialRequest*,
                                v1::Credential*) override;
  grpc::Status ListCredentials(grpc::ServerContext*, const v1::ListCredentialsRequest*,
                               v1::ListCredentialsResponse*) override;
  grpc::Status RecordPermit(grpc::ServerContext*, const v1::RecordPermitRequest*,
                            v1::Permit*) override;
  grpc::Status ListPermits(grpc::ServerContext*, const v1::ListPermitsRequest*,
                           v1::ListPermitsResponse*) override;
  grpc::Status RecordConsent(grpc::ServerContext*, const v1::RecordConsentRequest*,
                             v1::Consent*) override;
  grpc::Status WithdrawConsent(grpc::ServerContext*, const v1::WithdrawConsentRequest*,
                               v1::Consent*) override;
  grpc::Status ListConsents(grpc::ServerContext*, const v1::ListConsentsRequest*,
                            v1::ListConsentsResponse*) override;
  grpc::Status RecordScreening(grpc::ServerContext*, const v1::RecordScreeningRequest*,
                               v1::Screening*) override;
  grpc::Status OverrideScreening(grpc::ServerContext*, const v1::OverrideScreeningRequest*,
                                 v1::Screening*) override;
  grpc::Status ListScreenings(grpc::ServerContext*, const v1::ListScreeningsRequest*,
                              v1::ListScreeningsResponse*) override;
  grpc::Status RecordProcedure(grpc::ServerContext*, const v1::RecordProcedureRequest*,
                               v1::ProcedureRecord*) override;
  grpc::Status ReportIncident(grpc::ServerContext*, const v1::ReportIncidentRequest*,
                              v1::Incident*) override;
  grpc::Status RecordIncidentFollowUp(grpc::ServerContext*,
                                      const v1::RecordIncidentFollowUpRequest*,
                                      v1::Incident*) override;
  grpc::Status RecordLotRecall(grpc::ServerContext*, const v1::RecordLotRecallRequest*,
                               v1::LotRecall*) override;
  grpc::Status ListExpiring(grpc::ServerContext*, const v1::ListExpiringRequest*,
                            v1::ListExpiringResponse*) override;
  grpc::Status GenerateReport(grpc::ServerContext*, const v1::GenerateReportRequest*,
                              grpc::ServerWriter<v1::ReportPart>*) override;
  grpc::Status ExportReport(grpc::ServerContext*, const v1::ExportReportRequest*,
                            grpc::ServerWriter<v1::ExportChunk>*) override;
  grpc::Status ExportAuditEvents(grpc::ServerContext*, const v1::ExportAuditEventsRequest*,
                                 v1::ExportAuditEventsResponse*) override;
  grpc::Status SetRetentionPolicy(grpc::ServerContext*, const v1::SetRetentionPolicyRequest*,
                                  v1::RetentionPolicy*) override;
  grpc::Status GetRetentionPolicy(grpc::ServerContext*, const v1::GetRetentionPolicyRequest*,
                                  v1::RetentionPolicy*) override;
  grpc::Status RunRetentionPurge(grpc::ServerContext*, const v1::RunRetentionPurgeRequest*,
                                 v1::RunRetentionPurgeResponse*) override;
  grpc::Status ListAuditEntries(grpc::ServerContext*, const v1::ListAuditEntriesRequest*,
                                v1::ListAuditEntriesResponse*) override;
  grpc::Status VerifyAuditLog(grpc::ServerContext*, const v1::VerifyAuditLogRequest*,
                              v1::VerifyAuditLogResponse*) override;
  grpc::Status CreateCheckpoint(grpc::ServerContext*, const v1::CreateCheckpointRequest*,
                                v1::Checkpoint*) override;
  grpc::Status VerifyCheckpoint(grpc::ServerContext*, const v1::VerifyCheckpointRequest*,
                                v1::VerifyCheckpointResponse*) override;

 private:
  ComplianceCore* core_;
  Authorizer authorizer_;
};

// smp.compliance.v1.EligibilityService: the gate scheduling asks before booking a procedure.
class EligibilityServiceImpl final : public v1::EligibilityService::Service {
 public:
  explicit EligibilityServiceImpl(ComplianceCore* core);

  grpc::Status CheckEligibility(grpc::ServerContext*, const v1::CheckEligibilityRequest*,
                                v1::CheckEligibilityResponse*) override;

 private:
  ComplianceCore* core_;
  Authorizer authorizer_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_
