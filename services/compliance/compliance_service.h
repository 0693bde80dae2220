#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_

// The two gRPC services of the compliance binary. Each override is one RpcFrame call into an
// operation unit; refused attempts (a missing permission) go on the audit log through the frame's
// DeniedHook.

#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/db/database.h"
#include "common/rpc/frame.h"
#include "common/util/clock.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/audit_log.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/compliance_store.h"
#include "services/compliance/consents_screenings.h"
#include "services/compliance/credentials_permits.h"
#include "services/compliance/eligibility.h"
#include "services/compliance/patient_directory.h"
#include "services/compliance/procedures_incidents.h"
#include "services/compliance/reports.h"
#include "services/compliance/retention.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"

namespace smp::compliance {

struct ComplianceDeps {
  Database* db;
  const CheckpointSigner* signer;
  // Which clinic a patient belongs to (scheduling); clinic-scoped writers are checked against it.
  // Null: not configured (only compliance's own records bind a patient).
  PatientDirectory* patients = nullptr;
  // How long a screening counts for eligibility (valid_until = screened_time + this).
  absl::Duration screening_validity = kScreeningValidity;
};

// Every operation unit of the service, over one store and one audit trail. Not copyable (the units
// point into it).
struct ComplianceUnits {
  explicit ComplianceUnits(ComplianceDeps deps)
      : audit(deps.db, &store),
        credentials_permits(&audit),
        consents_screenings(&audit, deps.patients, deps.screening_validity),
        procedures_incidents(&audit, deps.patients),
        reports(&audit),
        audit_log(&audit, deps.signer),
        retention(&audit),
        eligibility(&audit) {}
  ComplianceUnits(const ComplianceUnits&) = delete;
  ComplianceUnits& operator=(const ComplianceUnits&) = delete;

  ComplianceStore store;
  AuditTrail audit;
  CredentialsPermits credentials_permits;
  ConsentsScreenings consents_screenings;
  ProceduresIncidents procedures_incidents;
  Reports reports;
  AuditLog audit_log;
  Retention retention;
  Eligibility eligibility;
};

// smp.compliance.v1.ComplianceService.
class ComplianceServiceImpl final : public v1::ComplianceService::Service {
 public:
  // All must outlive the service.
  ComplianceServiceImpl(const ComplianceUnits* units, Authenticator* authenticator,
                        const Clock* clock);

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
  grpc::Status ListIncidents(grpc::ServerContext*, const v1::ListIncidentsRequest*,
                             v1::ListIncidentsResponse*) override;
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
  grpc::Status ListCheckpoints(grpc::ServerContext*, const v1::ListCheckpointsRequest*,
                               v1::ListCheckpointsResponse*) override;

 private:
  const ComplianceUnits& units_;
  RpcFrame frame_;
};

// smp.compliance.v1.EligibilityService: the gate scheduling asks before booking a procedure.
class EligibilityServiceImpl final : public v1::EligibilityService::Service {
 public:
  // All must outlive the service.
  EligibilityServiceImpl(const ComplianceUnits* units, Authenticator* authenticator,
                         const Clock* clock);

  grpc::Status CheckEligibility(grpc::ServerContext*, const v1::CheckEligibilityRequest*,
                                v1::CheckEligibilityResponse*) override;

 private:
  const ComplianceUnits& units_;
  RpcFrame frame_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_SERVICE_H_
