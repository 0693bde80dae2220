#ifndef SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_
#define SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_

#include <functional>

#include "absl/status/status.h"
#include "services/compliance/compliance_service.h"

namespace smp::compliance {

// The auditor's report for `req`, part by part through `emit` (false from `emit` stops: the client
// went away): first the header (carrying the audit log head that includes this pull, which is
// recorded before anything is sent), then each procedure by time followed by its findings, then the
// summary by clinic and kind. Procedures are read 200 at a time, so a year of a chain streams in
// bounded memory.
//
// Findings per procedure: the eligibility rules on the procedure's day (credentials, permit,
// consent, screening), an incomplete checklist, a needle or pigment lot past its expiry date, a
// needle serial recorded in another procedure (both are flagged), and reuse-attempt incidents on
// the appointment.
absl::Status BuildReport(ComplianceCore* core, const Principal& who, absl::string_view method,
                         const v1::GenerateReportRequest* req,
                         const std::function<bool(const v1::ReportPart&)>& emit);

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_
