#ifndef SMP_SERVICES_SCHEDULING_BILLING_EVENTS_H_
#define SMP_SERVICES_SCHEDULING_BILLING_EVENTS_H_

// What billing must hear when an appointment changes: a completed visit is charged, a late
// cancellation or a no-show may carry a fee. Pure mapping; the event travels through the outbox.

#include <optional>

#include "absl/time/time.h"
#include "smp/billing/v1/billing.pb.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// The outbox destination and event kind.
inline constexpr char kBillingDestination[] = "billing";
inline constexpr char kChargeEventKind[] = "charge_event";

// The charge event for `after` (the appointment as saved by this change), or nullopt when billing
// has nothing to charge: FULFILLED -> SESSION_COMPLETED (with what was done and, for a treatment
// session, the plan's area); NOSHOW -> NO_SHOW; CANCELLED and flagged late -> LATE_CANCELLATION;
// STOPPED and flagged charged (the patient stopped it under the clinic's rule) ->
// LATE_CANCELLATION. The event id is left empty: the outbox's event id is filled in on delivery.
std::optional<billing::v1::RecordChargeEventRequest> ChargeEventFor(const v1::Appointment& after,
                                                                    const v1::TreatmentPlan* plan,
                                                                    absl::Time now);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_BILLING_EVENTS_H_
