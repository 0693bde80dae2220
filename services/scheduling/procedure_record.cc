#include "services/scheduling/procedure_record.h"

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/scheduling/appointment_rules.h"

namespace smp::scheduling {

absl::Status ValidateSupplies(
    v1::AppointmentType type,
    const google::protobuf::RepeatedPtrField<inventory::v1::IssueLine>& supplies) {
  if (!IsProcedure(type)) {
    if (supplies.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("supplies: a ", v1::AppointmentType_Name(type), " uses no supplies"));
  }
  if (supplies.empty()) {
    return absl::InvalidArgumentError(
        "supplies: a procedure starts with its needle units issued (at least one line)");
  }
  if (supplies.size() > kMaxSupplyLines) {
    return absl::InvalidArgumentError(
        absl::StrCat("supplies: at most ", kMaxSupplyLines, " lines, got ", supplies.size()));
  }
  return absl::OkStatus();
}

absl::Status ValidateCompletion(const v1::CompleteAppointmentRequest& request) {
  RETURN_IF_ERROR(ValidateOptionalText("pigment_blend", request.pigment_blend(), 500));
  RETURN_IF_ERROR(ValidateOptionalText("anaesthetic", request.anaesthetic(), 200));
  return ValidateOptionalText("notes", request.notes(), 2000);
}

compliance::v1::ProcedureType ComplianceProcedureType(v1::AppointmentType type) {
  switch (type) {
    case v1::SAMPLE_PATCH:
      return compliance::v1::PROCEDURE_TYPE_SAMPLE_PATCH;
    case v1::TREATMENT_SESSION:
      return compliance::v1::PROCEDURE_TYPE_TREATMENT_SESSION;
    case v1::TOUCH_UP:
      return compliance::v1::PROCEDURE_TYPE_TOUCH_UP;
    default:
      return compliance::v1::PROCEDURE_TYPE_CORRECTION;
  }
}

compliance::v1::RecordProcedureRequest ProcedureRecordFor(
    const v1::Appointment& done, const v1::CompleteAppointmentRequest& report,
    absl::TimeZone zone) {
  compliance::v1::RecordProcedureRequest request;
  compliance::v1::ProcedureRecord& r = *request.mutable_record();
  r.set_appointment_id(done.id());
  r.set_clinic_id(done.clinic_id());
  r.set_patient_id(done.patient_id());
  r.set_practitioner_id(done.practitioner_id());
  r.set_procedure_type(ComplianceProcedureType(done.type()));
  const google::protobuf::Timestamp& performed =
      done.has_procedure_start_time() ? done.procedure_start_time() : done.start_time();
  *r.mutable_performed_time() = performed;
  *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(FromProtoTimestamp(performed), zone));
  for (const inventory::v1::IssuedItem& item : done.supplies()) {
    switch (item.product_kind()) {
      case inventory::v1::PRODUCT_KIND_NEEDLE_CARTRIDGE: {
        compliance::v1::NeedleUse& n = *r.add_needles();
        n.set_product_id(item.product_id());
        n.set_lot(item.lot_number());
        n.set_serial(item.serial());
        *n.mutable_expiry_date() = item.expiry_date();
        break;
      }
      case inventory::v1::PRODUCT_KIND_PIGMENT: {
        compliance::v1::PigmentUse& p = *r.add_pigments();
        p.set_product_id(item.product_id());
        p.set_shade(item.product_name());
        p.set_lot(item.lot_number());
        *p.mutable_expiry_date() = item.expiry_date();
        break;
      }
      default:
        break;  // consumables (gloves, numbing cream) are in inventory's ledger, not the record
    }
  }
  *r.mutable_checklist() = report.checklist();
  r.set_pigment_blend(report.pigment_blend());
  r.set_anaesthetic(report.anaesthetic());
  r.set_notes(report.notes());
  return request;
}

}  // namespace smp::scheduling
