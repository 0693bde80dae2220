#ifndef SMP_SERVICES_SCHEDULING_PROCEDURE_RECORD_H_
#define SMP_SERVICES_SCHEDULING_PROCEDURE_RECORD_H_

// What a procedure needs at its start and leaves behind at its end: the supplies it may ask
// inventory for, and the record compliance keeps of it (who, when, which needle units and pigment
// lots, checklist, blend). Plain functions; the record travels to compliance through the outbox.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_field.h"
#include "smp/compliance/v1/compliance.pb.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// At most this many supply lines per start (compliance keeps at most 50 needles per record).
inline constexpr int kMaxSupplyLines = 50;

// A procedure needs 1..kMaxSupplyLines supply lines (its needles at least); a consultation none.
// INVALID_ARGUMENT naming `supplies` otherwise.
absl::Status ValidateSupplies(
    v1::AppointmentType type,
    const google::protobuf::RepeatedPtrField<inventory::v1::IssueLine>& supplies);

// The free text of a completion within compliance's limits, so that the record it becomes is never
// refused later: INVALID_ARGUMENT naming the field.
absl::Status ValidateCompletion(const v1::CompleteAppointmentRequest& request);

// Compliance's name for a procedure appointment's type.
compliance::v1::ProcedureType ComplianceProcedureType(v1::AppointmentType type);

// The record of a completed procedure `done` (as saved, with its supplies and the time it started),
// with what the technician reported at completion. `zone` is the clinic's, for the local day. The
// request_id is left empty: the outbox event id is filled in on delivery.
compliance::v1::RecordProcedureRequest ProcedureRecordFor(
    const v1::Appointment& done, const v1::CompleteAppointmentRequest& report, absl::TimeZone zone);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_PROCEDURE_RECORD_H_
