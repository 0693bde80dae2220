#include "services/inventory/compliance_events.h"

#include "absl/strings/str_cat.h"
#include "common/util/proto_time.h"

namespace smp::inventory {

compliance::v1::RecordLotRecallRequest LotRecallEvent(const v1::Lot& lot,
                                                      const std::string& recalled_by,
                                                      absl::Time now) {
  compliance::v1::RecordLotRecallRequest request;
  compliance::v1::LotRecall& r = *request.mutable_recall();
  r.set_product_id(lot.product_id());
  r.set_lot(lot.lot_number());
  *r.mutable_recall_time() = ToProtoTimestamp(now);
  r.set_reason(lot.recall_reason());
  r.set_recalled_by(recalled_by);
  return request;
}

compliance::v1::ReportIncidentRequest RefusedUnitIncident(RefusalKind kind,
                                                          const std::string& clinic_id,
                                                          const std::string& appointment_id,
                                                          const std::string& patient_id,
                                                          absl::string_view why, absl::Time now) {
  compliance::v1::ReportIncidentRequest request;
  compliance::v1::Incident& i = *request.mutable_incident();
  i.set_kind(kind == RefusalKind::kReuse ? compliance::v1::INCIDENT_KIND_NEEDLE_REUSE_ATTEMPT
                                         : compliance::v1::INCIDENT_KIND_OTHER);
  i.set_clinic_id(clinic_id);
  i.set_appointment_id(appointment_id);
  i.set_patient_id(patient_id);
  *i.mutable_occurred_time() = ToProtoTimestamp(now);
  const char* what = kind == RefusalKind::kReuse     ? "a used needle unit"
                     : kind == RefusalKind::kExpired ? "expired stock"
                                                     : "recalled stock";
  i.set_description(absl::StrCat("Inventory refused ", what,
                                 " presented for a procedure: ", why.substr(0, 1800)));
  return request;
}

}  // namespace smp::inventory
