#ifndef SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_
#define SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_

#include <cstddef>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/rpc/call.h"
#include "services/compliance/audit_trail.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

// What bounds a report's memory. The defaults serve a 100-clinic year; tests make them small to
// reach what happens at the bounds with little data.
struct ReportLimits {
  // Patients whose consents and screenings are kept between pages, in each of the two
  // generations kept (about 2 KB a patient in the heap).
  size_t patients_per_generation = 16384;
};

// The auditor's report for `req`, part by part through `emit` (false from `emit` stops: the client
// went away; `end_of_page` is true on the last part of each page, where a transport that buffers
// should send what it holds): first the header (carrying the audit log head that includes this
// pull, which is recorded before anything is sent), then each procedure by time followed by its
// findings, then every incident of the clinics that occurred on the period's days (in each
// clinic's time zone) followed by its findings, then the summary by clinic and kind.
//
// Procedures and incidents are read 200 at a time by keyset (each page from the last one's key,
// reading only its own rows); what a page's findings need beyond its own rows (the patients'
// consents and screenings, the other uses of its needle serials, the recalls of its lots) is
// read in one query each for the whole page, and findings are judged in one pass over the page
// (ProcedureFindings). A page's records and parts are built on one arena and dropped once it is
// sent. Pages are built on a thread of their own, the next one while the last is sent (at most
// two wait: page_handoff.h); `emit` is called on the caller's thread only. Across pages only the
// practitioners' credentials, the clinics' permits, the recall status of the lots seen and the
// consents and screenings of the patients of recent pages (at most 2 x
// limits.patients_per_generation: a course's later sessions find their patient's records read) are
// kept, so a year of a chain streams in bounded memory.
//
// Findings per procedure: ProcedureFindings (JudgeProcedure on the procedure's day and time,
// an incomplete checklist, a needle or pigment lot past its expiry date, a needle serial recorded
// in another procedure (both are flagged), a lot used at or after its recall). Per incident:
// NEEDLE_REUSE for a reuse attempt (with the appointment's procedure when it has one).
//
// The pull is recorded as call.who doing call.method. INVALID_ARGUMENT for a bad period (at most
// 366 days) or clinic id; PERMISSION_DENIED (OUTSIDE_CLINIC_SCOPE) for a clinic outside the
// caller's scope; CANCELLED when `emit` returns false.
absl::Status BuildReport(const AuditTrail& audit, const Call& call,
                         const v1::GenerateReportRequest& req,
                         absl::FunctionRef<bool(const v1::ReportPart&, bool end_of_page)> emit,
                         const ReportLimits& limits = {});

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_REPORT_BUILDER_H_
