#include "services/scheduling/billing_events.h"

#include "common/util/proto_time.h"

namespace smp::scheduling {
namespace {

billing::v1::ChargeKind KindOf(v1::AppointmentType type) {
  switch (type) {
    case v1::TREATMENT_SESSION:
      return billing::v1::CHARGE_KIND_TREATMENT_SESSION;
    case v1::SAMPLE_PATCH:
      return billing::v1::CHARGE_KIND_SAMPLE_PATCH;
    case v1::TOUCH_UP:
      return billing::v1::CHARGE_KIND_TOUCH_UP;
    default:  // consultation, correction consult
      return billing::v1::CHARGE_KIND_CONSULTATION;
  }
}

// Billing prices areas it knows; a density course is priced by the plan's accepted quote.
billing::v1::TreatmentArea AreaOf(v1::TreatmentArea area) {
  switch (area) {
    case v1::HAIRLINE:
      return billing::v1::TREATMENT_AREA_HAIRLINE;
    case v1::CROWN:
      return billing::v1::TREATMENT_AREA_CROWN;
    case v1::FULL_SCALP:
      return billing::v1::TREATMENT_AREA_FULL_SCALP;
    case v1::SCAR_CAMOUFLAGE:
      return billing::v1::TREATMENT_AREA_SCAR_CAMOUFLAGE;
    default:
      return billing::v1::TREATMENT_AREA_UNSPECIFIED;
  }
}

}  // namespace

std::optional<billing::v1::RecordChargeEventRequest> ChargeEventFor(const v1::Appointment& after,
                                                                    const v1::TreatmentPlan* plan,
                                                                    absl::Time now) {
  billing::v1::RecordChargeEventRequest event;
  switch (after.status()) {
    case v1::FULFILLED:
      event.set_type(billing::v1::CHARGE_EVENT_SESSION_COMPLETED);
      event.set_completed_kind(KindOf(after.type()));
      if (plan != nullptr) event.set_area(AreaOf(plan->area()));
      break;
    case v1::NOSHOW:
      event.set_type(billing::v1::CHARGE_EVENT_NO_SHOW);
      break;
    case v1::CANCELLED:
      if (!after.cancellation().late()) return std::nullopt;
      event.set_type(billing::v1::CHARGE_EVENT_LATE_CANCELLATION);
      break;
    case v1::APPOINTMENT_STATUS_STOPPED:
      // Billing knows no stop fee: a charged stop costs what a late cancellation does.
      if (!after.stop().charged()) return std::nullopt;
      event.set_type(billing::v1::CHARGE_EVENT_LATE_CANCELLATION);
      break;
    default:
      return std::nullopt;
  }
  event.set_clinic_id(after.clinic_id());
  event.set_patient_id(after.patient_id());
  event.set_appointment_id(after.id());
  event.set_plan_id(after.plan_id());
  *event.mutable_occur_time() = ToProtoTimestamp(now);
  return event;
}

}  // namespace smp::scheduling
