#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_REASONS_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_REASONS_H_

// ErrorInfo reasons only the compliance service gives (the suite's shared ones are in
// common/status/error_details.h; these are candidates to move there). Add, never rename.

namespace smp::compliance::reason {

// PERMISSION_DENIED: clinic-scoped staff may read only their own credentials; chain-wide roles
// read anyone's. Metadata: practitioner_id.
inline constexpr char kOwnRecordsOnly[] = "OWN_RECORDS_ONLY";
// PERMISSION_DENIED: a lot recall is chain-wide: only admins and the inventory service record one.
inline constexpr char kChainWideOnly[] = "CHAIN_WIDE_ONLY";
// FAILED_PRECONDITION: the consent was already withdrawn. Metadata: consent_id.
inline constexpr char kAlreadyWithdrawn[] = "ALREADY_WITHDRAWN";
// FAILED_PRECONDITION: the screening was already overridden, or its findings may not be
// overridden (active herpes, inflamed skin; a CLEAR screening). Metadata: screening_id.
inline constexpr char kNotOverridable[] = "NOT_OVERRIDABLE";
// ALREADY_EXISTS: the appointment already has a procedure record. Metadata: appointment_id.
inline constexpr char kProcedureRecorded[] = "PROCEDURE_ALREADY_RECORDED";
// ALREADY_EXISTS: the lot's recall is on file. Metadata: product_id, lot.
inline constexpr char kRecallOnFile[] = "RECALL_ON_FILE";
// RESOURCE_EXHAUSTED: the incident's follow-up log is full. Metadata: incident_id.
inline constexpr char kFollowUpLogFull[] = "FOLLOW_UP_LOG_FULL";

}  // namespace smp::compliance::reason

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_REASONS_H_
