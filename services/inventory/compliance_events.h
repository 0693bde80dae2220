#ifndef SMP_SERVICES_INVENTORY_COMPLIANCE_EVENTS_H_
#define SMP_SERVICES_INVENTORY_COMPLIANCE_EVENTS_H_

// What compliance must hear from inventory, built as compliance's own requests and sent through
// the outbox (services/inventory/compliance_deliverer.h): a recall, and a unit refused at a
// procedure because it was already used, expired or recalled. Pure functions.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smp/compliance/v1/compliance.pb.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

// The recall of `lot` (as recalled, with its reason) at `now` by the staff member `recalled_by`
// (compliance's audit log names them; the event itself is delivered by the inventory service).
compliance::v1::RecordLotRecallRequest LotRecallEvent(const v1::Lot& lot,
                                                      const std::string& recalled_by,
                                                      absl::Time now);

// Why a unit was refused at a procedure, when compliance must know of it.
enum class RefusalKind { kReuse, kExpired, kRecalled };

// The incident of a refused unit: a reuse attempt for a spent needle unit, otherwise an incident
// of kind OTHER naming the expired or recalled stock. `why` is the refusal the technician saw.
compliance::v1::ReportIncidentRequest RefusedUnitIncident(RefusalKind kind,
                                                          const std::string& clinic_id,
                                                          const std::string& appointment_id,
                                                          const std::string& patient_id,
                                                          absl::string_view why, absl::Time now);

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_COMPLIANCE_EVENTS_H_
