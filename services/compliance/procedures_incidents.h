#ifndef SMP_SERVICES_COMPLIANCE_PROCEDURES_INCIDENTS_H_
#define SMP_SERVICES_COMPLIANCE_PROCEDURES_INCIDENTS_H_

// Operations on what happened in the chair: procedure records, incidents and their follow-ups, and
// lot recalls (RecordProcedure, ReportIncident, ListIncidents, RecordIncidentFollowUp,
// RecordLotRecall).

#include "absl/status/statusor.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/patient_directory.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class ProceduresIncidents {
 public:
  // `audit` and `patients` must outlive the unit (`patients`: see clinic_scope.h).
  ProceduresIncidents(const AuditTrail* audit, PatientDirectory* patients)
      : audit_(audit), patients_(patients) {}

  // ALREADY_EXISTS (PROCEDURE_ALREADY_RECORDED) when the appointment has a record.
  absl::StatusOr<v1::ProcedureRecord> RecordProcedure(const Call& call,
                                                      const v1::RecordProcedureRequest& req) const;
  // reported_by is the caller.
  absl::StatusOr<v1::Incident> ReportIncident(const Call& call,
                                              const v1::ReportIncidentRequest& req) const;
  // Incidents of the asked clinics (empty: every clinic in the caller's scope) that occurred on
  // the period's days in each clinic's time zone, of the asked kinds, by (occurred_time, id), one
  // page at a time. INVALID_ARGUMENT for a bad period (at most 366 days), clinic id or kind;
  // PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) for a clinic outside the caller's scope. An auditor's
  // read is on the audit log.
  absl::StatusOr<v1::ListIncidentsResponse> ListIncidents(
      const Call& call, const v1::ListIncidentsRequest& req) const;
  // Appends "<clinic-local day> <username>: <text>" to the follow-up log; RESOURCE_EXHAUSTED
  // (FOLLOW_UP_LOG_FULL) past 20000 bytes.
  absl::StatusOr<v1::Incident> RecordIncidentFollowUp(
      const Call& call, const v1::RecordIncidentFollowUpRequest& req) const;
  // Chain-wide callers only (PERMISSION_DENIED, CHAIN_WIDE_ONLY); ALREADY_EXISTS (RECALL_ON_FILE)
  // for a lot recalled before.
  absl::StatusOr<v1::LotRecall> RecordLotRecall(const Call& call,
                                                const v1::RecordLotRecallRequest& req) const;

 private:
  const AuditTrail* audit_;
  PatientDirectory* patients_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_PROCEDURES_INCIDENTS_H_
