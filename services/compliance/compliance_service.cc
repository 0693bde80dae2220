#include "services/compliance/compliance_service.h"

namespace smp::compliance {

// ---------------------------------------------------------------- ComplianceService

ComplianceServiceImpl::ComplianceServiceImpl(const ComplianceUnits* units,
                                             Authenticator* authenticator, const Clock* clock)
    : units_(*units),
      frame_(v1::ComplianceService::service_full_name(), authenticator, clock,
             units->audit.DeniedHook()) {}

grpc::Status ComplianceServiceImpl::RecordCredential(grpc::ServerContext* ctx,
                                                     const v1::RecordCredentialRequest* req,
                                                     v1::Credential* out) {
  return frame_.Serve(ctx, "RecordCredential", *req, out, [&](const Call& call) {
    return units_.credentials_permits.RecordCredential(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListCredentials(grpc::ServerContext* ctx,
                                                    const v1::ListCredentialsRequest* req,
                                                    v1::ListCredentialsResponse* out) {
  return frame_.Serve(ctx, "ListCredentials", *req, out, [&](const Call& call) {
    return units_.credentials_permits.ListCredentials(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordPermit(grpc::ServerContext* ctx,
                                                 const v1::RecordPermitRequest* req,
                                                 v1::Permit* out) {
  return frame_.Serve(ctx, "RecordPermit", *req, out, [&](const Call& call) {
    return units_.credentials_permits.RecordPermit(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListPermits(grpc::ServerContext* ctx,
                                                const v1::ListPermitsRequest* req,
                                                v1::ListPermitsResponse* out) {
  return frame_.Serve(ctx, "ListPermits", *req, out, [&](const Call& call) {
    return units_.credentials_permits.ListPermits(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordConsent(grpc::ServerContext* ctx,
                                                  const v1::RecordConsentRequest* req,
                                                  v1::Consent* out) {
  return frame_.Serve(ctx, "RecordConsent", *req, out, [&](const Call& call) {
    return units_.consents_screenings.RecordConsent(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::WithdrawConsent(grpc::ServerContext* ctx,
                                                    const v1::WithdrawConsentRequest* req,
                                                    v1::Consent* out) {
  return frame_.Serve(ctx, "WithdrawConsent", *req, out, [&](const Call& call) {
    return units_.consents_screenings.WithdrawConsent(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListConsents(grpc::ServerContext* ctx,
                                                 const v1::ListConsentsRequest* req,
                                                 v1::ListConsentsResponse* out) {
  return frame_.Serve(ctx, "ListConsents", *req, out, [&](const Call& call) {
    return units_.consents_screenings.ListConsents(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordScreening(grpc::ServerContext* ctx,
                                                    const v1::RecordScreeningRequest* req,
                                                    v1::Screening* out) {
  return frame_.Serve(ctx, "RecordScreening", *req, out, [&](const Call& call) {
    return units_.consents_screenings.RecordScreening(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::OverrideScreening(grpc::ServerContext* ctx,
                                                      const v1::OverrideScreeningRequest* req,
                                                      v1::Screening* out) {
  return frame_.Serve(ctx, "OverrideScreening", *req, out, [&](const Call& call) {
    return units_.consents_screenings.OverrideScreening(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListScreenings(grpc::ServerContext* ctx,
                                                   const v1::ListScreeningsRequest* req,
                                                   v1::ListScreeningsResponse* out) {
  return frame_.Serve(ctx, "ListScreenings", *req, out, [&](const Call& call) {
    return units_.consents_screenings.ListScreenings(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordProcedure(grpc::ServerContext* ctx,
                                                    const v1::RecordProcedureRequest* req,
                                                    v1::ProcedureRecord* out) {
  return frame_.Serve(ctx, "RecordProcedure", *req, out, [&](const Call& call) {
    return units_.procedures_incidents.RecordProcedure(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ReportIncident(grpc::ServerContext* ctx,
                                                   const v1::ReportIncidentRequest* req,
                                                   v1::Incident* out) {
  return frame_.Serve(ctx, "ReportIncident", *req, out, [&](const Call& call) {
    return units_.procedures_incidents.ReportIncident(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListIncidents(grpc::ServerContext* ctx,
                                                  const v1::ListIncidentsRequest* req,
                                                  v1::ListIncidentsResponse* out) {
  return frame_.Serve(ctx, "ListIncidents", *req, out, [&](const Call& call) {
    return units_.procedures_incidents.ListIncidents(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordIncidentFollowUp(
    grpc::ServerContext* ctx, const v1::RecordIncidentFollowUpRequest* req, v1::Incident* out) {
  return frame_.Serve(ctx, "RecordIncidentFollowUp", *req, out, [&](const Call& call) {
    return units_.procedures_incidents.RecordIncidentFollowUp(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RecordLotRecall(grpc::ServerContext* ctx,
                                                    const v1::RecordLotRecallRequest* req,
                                                    v1::LotRecall* out) {
  return frame_.Serve(ctx, "RecordLotRecall", *req, out, [&](const Call& call) {
    return units_.procedures_incidents.RecordLotRecall(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListExpiring(grpc::ServerContext* ctx,
                                                 const v1::ListExpiringRequest* req,
                                                 v1::ListExpiringResponse* out) {
  return frame_.Serve(ctx, "ListExpiring", *req, out, [&](const Call& call) {
    return units_.credentials_permits.ListExpiring(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ExportAuditEvents(grpc::ServerContext* ctx,
                                                      const v1::ExportAuditEventsRequest* req,
                                                      v1::ExportAuditEventsResponse* out) {
  return frame_.Serve(ctx, "ExportAuditEvents", *req, out, [&](const Call& call) {
    return units_.audit_log.ExportAuditEvents(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::SetRetentionPolicy(grpc::ServerContext* ctx,
                                                       const v1::SetRetentionPolicyRequest* req,
                                                       v1::RetentionPolicy* out) {
  return frame_.Serve(ctx, "SetRetentionPolicy", *req, out, [&](const Call& call) {
    return units_.retention.SetRetentionPolicy(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::GetRetentionPolicy(grpc::ServerContext* ctx,
                                                       const v1::GetRetentionPolicyRequest* req,
                                                       v1::RetentionPolicy* out) {
  return frame_.Serve(ctx, "GetRetentionPolicy", *req, out, [&](const Call& call) {
    return units_.retention.GetRetentionPolicy(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::RunRetentionPurge(grpc::ServerContext* ctx,
                                                      const v1::RunRetentionPurgeRequest* req,
                                                      v1::RunRetentionPurgeResponse* out) {
  return frame_.Serve(ctx, "RunRetentionPurge", *req, out, [&](const Call& call) {
    return units_.retention.RunRetentionPurge(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListAuditEntries(grpc::ServerContext* ctx,
                                                     const v1::ListAuditEntriesRequest* req,
                                                     v1::ListAuditEntriesResponse* out) {
  return frame_.Serve(ctx, "ListAuditEntries", *req, out, [&](const Call& call) {
    return units_.audit_log.ListAuditEntries(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::VerifyAuditLog(grpc::ServerContext* ctx,
                                                   const v1::VerifyAuditLogRequest* req,
                                                   v1::VerifyAuditLogResponse* out) {
  return frame_.Serve(ctx, "VerifyAuditLog", *req, out, [&](const Call& call) {
    return units_.audit_log.VerifyAuditLog(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::CreateCheckpoint(grpc::ServerContext* ctx,
                                                     const v1::CreateCheckpointRequest* req,
                                                     v1::Checkpoint* out) {
  return frame_.Serve(ctx, "CreateCheckpoint", *req, out, [&](const Call& call) {
    return units_.audit_log.CreateCheckpoint(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::VerifyCheckpoint(grpc::ServerContext* ctx,
                                                     const v1::VerifyCheckpointRequest* req,
                                                     v1::VerifyCheckpointResponse* out) {
  return frame_.Serve(ctx, "VerifyCheckpoint", *req, out, [&](const Call& call) {
    return units_.audit_log.VerifyCheckpoint(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::ListCheckpoints(grpc::ServerContext* ctx,
                                                    const v1::ListCheckpointsRequest* req,
                                                    v1::ListCheckpointsResponse* out) {
  return frame_.Serve(ctx, "ListCheckpoints", *req, out, [&](const Call& call) {
    return units_.audit_log.ListCheckpoints(call, *req);
  });
}

grpc::Status ComplianceServiceImpl::GenerateReport(grpc::ServerContext* ctx,
                                                   const v1::GenerateReportRequest* req,
                                                   grpc::ServerWriter<v1::ReportPart>* writer) {
  // A page's parts are buffered (buffer_hint) and go out together with its last one, rather than
  // one send per part.
  return frame_.Run(ctx, "GenerateReport", *req, [&](const Call& call) {
    return units_.reports.StreamReport(call, *req, [&](const v1::ReportPart& part, bool end) {
      return writer->Write(part,
                           end ? grpc::WriteOptions() : grpc::WriteOptions().set_buffer_hint());
    });
  });
}

grpc::Status ComplianceServiceImpl::ExportReport(grpc::ServerContext* ctx,
                                                 const v1::ExportReportRequest* req,
                                                 grpc::ServerWriter<v1::ExportChunk>* writer) {
  return frame_.Run(ctx, "ExportReport", *req, [&](const Call& call) {
    return units_.reports.ExportReport(
        call, *req, [&](const v1::ExportChunk& chunk) { return writer->Write(chunk); });
  });
}

// ---------------------------------------------------------------- EligibilityService

EligibilityServiceImpl::EligibilityServiceImpl(const ComplianceUnits* units,
                                               Authenticator* authenticator, const Clock* clock)
    : units_(*units),
      frame_(v1::EligibilityService::service_full_name(), authenticator, clock,
             units->audit.DeniedHook()) {}

grpc::Status EligibilityServiceImpl::CheckEligibility(grpc::ServerContext* ctx,
                                                      const v1::CheckEligibilityRequest* req,
                                                      v1::CheckEligibilityResponse* out) {
  return frame_.Serve(ctx, "CheckEligibility", *req, out, [&](const Call& call) {
    return units_.eligibility.CheckEligibility(call, *req);
  });
}

}  // namespace smp::compliance
