#ifndef SMP_SERVICES_COMPLIANCE_REPORTS_H_
#define SMP_SERVICES_COMPLIANCE_REPORTS_H_

// Auditors' reports, streamed part by part (GenerateReport) or as JSON / CSV chunks for their tools
// (ExportReport). What a report holds is report_builder.h's.

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/report_builder.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

class Reports {
 public:
  // `audit` must outlive the unit.
  explicit Reports(const AuditTrail* audit, ReportLimits limits = {})
      : audit_(audit), limits_(limits) {}

  // Each part through `emit` (false: the client went away, CANCELLED).
  absl::Status GenerateReport(const Call& call, const v1::GenerateReportRequest& req,
                              absl::FunctionRef<bool(const v1::ReportPart&)> emit) const;
  // The same, telling `emit` which part ends a page (BuildReport's `end_of_page`), so that a
  // stream can buffer a page's parts and send them together.
  absl::Status StreamReport(
      const Call& call, const v1::GenerateReportRequest& req,
      absl::FunctionRef<bool(const v1::ReportPart&, bool end_of_page)> emit) const;
  // The report as EXPORT_FORMAT_JSON or _CSV, in chunks of about 64 KiB through `write`.
  absl::Status ExportReport(const Call& call, const v1::ExportReportRequest& req,
                            absl::FunctionRef<bool(const v1::ExportChunk&)> write) const;

 private:
  const AuditTrail* audit_;
  const ReportLimits limits_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_REPORTS_H_
