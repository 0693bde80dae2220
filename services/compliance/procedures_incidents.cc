#include "services/compliance/procedures_incidents.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/db/store_kit.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/clinic_scope.h"
#include "services/compliance/compliance_reasons.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/record_validation.h"

namespace smp::compliance {

absl::StatusOr<v1::ProcedureRecord> ProceduresIncidents::RecordProcedure(
    const Call& call, const v1::RecordProcedureRequest& req) const {
  RETURN_IF_ERROR(ValidateProcedure(req.record(), call.now));
  RETURN_IF_ERROR(call.who.CheckClinic(req.record().clinic_id()));
  absl::StatusOr<v1::ProcedureRecord> out = audit_->Create<v1::ProcedureRecord>(
      call, req, "procedure",
      [&](Transaction& txn) { return audit_->store().AddProcedure(txn, req.record(), call.now); });
  if (absl::IsAlreadyExists(out.status())) {
    return WithErrorInfo(out.status(), reason::kProcedureRecorded,
                         {{"appointment_id", req.record().appointment_id()}});
  }
  return out;
}

absl::StatusOr<v1::Incident> ProceduresIncidents::ReportIncident(
    const Call& call, const v1::ReportIncidentRequest& req) const {
  RETURN_IF_ERROR(call.who.CheckClinic(req.incident().clinic_id()));
  RETURN_IF_ERROR(ValidateIncident(req.incident(), call.now));
  RETURN_IF_ERROR(CheckPatientHomeInScope(patients_, call.who, req.incident().patient_id()));
  RETURN_IF_ERROR(
      CheckAppointmentHomeInScope(patients_, call.who, req.incident().appointment_id()));
  return audit_->Create<v1::Incident>(
      call, req, "incident", [&](Transaction& txn) -> absl::StatusOr<v1::Incident> {
        if (!req.incident().appointment_id().empty()) {
          RETURN_IF_ERROR(CheckAppointmentInScope(audit_->store(), txn, call.who,
                                                  req.incident().appointment_id()));
        }
        if (!req.incident().patient_id().empty()) {
          RETURN_IF_ERROR(
              CheckPatientInScope(audit_->store(), txn, call.who, req.incident().patient_id()));
        }
        v1::Incident i = req.incident();
        i.set_reported_by(call.who.staff_id);
        return audit_->store().AddIncident(txn, std::move(i), call.now);
      });
}

absl::StatusOr<v1::ListIncidentsResponse> ProceduresIncidents::ListIncidents(
    const Call& call, const v1::ListIncidentsRequest& req) const {
  ASSIGN_OR_RETURN(const LocalPeriod period, ParseDateRange("period", req.period(), 366));
  std::vector<std::string> clinics(req.clinic_ids().begin(), req.clinic_ids().end());
  for (size_t i = 0; i < clinics.size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("clinic_ids[", i, "]"), clinics[i]));
    RETURN_IF_ERROR(call.who.CheckClinic(clinics[i]));
  }
  std::vector<int> kinds;
  for (int i = 0; i < req.kinds_size(); ++i) {
    if (req.kinds(i) == v1::INCIDENT_KIND_UNSPECIFIED || !v1::IncidentKind_IsValid(req.kinds(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: unknown incident kind ", req.kinds(i)));
    }
    kinds.push_back(req.kinds(i));
  }
  std::vector<std::string> kind_names;
  for (int kind : kinds) kind_names.push_back(absl::StrCat(kind));
  const std::string query =
      absl::StrCat("ListIncidents/", DayText(period.first), "/", DayText(period.last), "/",
                   absl::StrJoin(clinics, ","), "/", absl::StrJoin(kind_names, ","));
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListIncidentsResponse out;
  const ComplianceStore& store = audit_->store();
  RETURN_IF_ERROR(audit_->Read(call, "incident", "", [&](Transaction& txn) -> absl::Status {
    if (clinics.empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> all, store.ReportClinics(txn));
      for (std::string& clinic : all) {
        if (call.who.CanAccessClinic(clinic)) clinics.push_back(std::move(clinic));
      }
    }
    // Each clinic's local days, in its own zone.
    std::vector<ComplianceStore::ClinicSpan> spans;
    for (const std::string& clinic : clinics) {
      ASSIGN_OR_RETURN(const std::string zone_name, store.TimeZoneOf(txn, clinic));
      const absl::TimeZone zone = ZoneNamed(zone_name);
      spans.push_back(
          {clinic, absl::FromCivil(period.first, zone), absl::FromCivil(period.last + 1, zone)});
    }
    ASSIGN_OR_RETURN(auto found,
                     store.ListIncidents(txn, spans, kinds, page.after_key, page.size + 1));
    Page<v1::Incident> kept = MakePage(std::move(found), page.size, ComplianceStore::IncidentKey);
    for (v1::Incident& i : kept.items) *out.add_incidents() = std::move(i);
    out.set_next_page_token(NextPageToken(query, kept.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Incident> ProceduresIncidents::RecordIncidentFollowUp(
    const Call& call, const v1::RecordIncidentFollowUpRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  RETURN_IF_ERROR(ValidateRequiredText("follow_up", req.follow_up(), 2000));
  return RunIdempotent<v1::Incident>(
      audit_->db(), call, req, AuditChainQueue(),
      [&](Transaction& txn) -> absl::StatusOr<v1::Incident> {
        ASSIGN_OR_RETURN(v1::Incident i, audit_->store().GetIncident(txn, req.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(i.clinic_id()));
        // Follow-ups accumulate; nothing said before is overwritten. Dated by the clinic's day.
        ASSIGN_OR_RETURN(const std::string zone, audit_->store().TimeZoneOf(txn, i.clinic_id()));
        const std::string entry = absl::StrCat(DayText(LocalDayOf(call.now, ZoneNamed(zone))), " ",
                                               call.who.username, ": ", req.follow_up());
        i.set_follow_up(i.follow_up().empty() ? entry : absl::StrCat(i.follow_up(), "\n", entry));
        if (i.follow_up().size() > 20000) {
          return WithErrorInfo(absl::ResourceExhaustedError("the incident's follow-up log is full"),
                               reason::kFollowUpLogFull, {{"incident_id", i.id()}});
        }
        RETURN_IF_ERROR(audit_->store().UpdateIncident(txn, i));
        RETURN_IF_ERROR(
            audit_->Record(txn, call, v1::AUDIT_ACTION_UPDATE, "incident", i.id()).status());
        return i;
      });
}

absl::StatusOr<v1::LotRecall> ProceduresIncidents::RecordLotRecall(
    const Call& call, const v1::RecordLotRecallRequest& req) const {
  const v1::LotRecall& r = req.recall();
  RETURN_IF_ERROR(ValidateId("recall.product_id", r.product_id()));
  RETURN_IF_ERROR(ValidateRequiredText("recall.lot", r.lot(), 100));
  RETURN_IF_ERROR(ValidateRequiredText("recall.reason", r.reason(), 500));
  if (!r.has_recall_time()) return absl::InvalidArgumentError("recall.recall_time: is required");
  RETURN_IF_ERROR(ValidateOptionalId("recall.recalled_by", r.recalled_by()));
  if (!call.who.IsChainWide()) {
    return WithErrorInfo(absl::PermissionDeniedError(
                             "a recall is chain-wide: only the inventory service records it"),
                         reason::kChainWideOnly);
  }
  // The audit entry's actor is the delivering service; the detail names the person who recalled.
  const std::string detail = r.recalled_by().empty()
                                 ? r.reason()
                                 : absl::StrCat(r.reason(), " (recalled by ", r.recalled_by(), ")");
  absl::StatusOr<v1::LotRecall> out = RunIdempotent<v1::LotRecall>(
      audit_->db(), call, req, AuditChainQueue(),
      [&](Transaction& txn) -> absl::StatusOr<v1::LotRecall> {
        v1::LotRecall recorded = r;
        *recorded.mutable_record_time() = ToProtoTimestamp(call.now);
        RETURN_IF_ERROR(audit_->store().AddRecall(txn, recorded));
        RETURN_IF_ERROR(
            audit_->Record(txn, call, v1::AUDIT_ACTION_CREATE, "lot", r.lot(), detail).status());
        return recorded;
      });
  if (absl::IsAlreadyExists(out.status())) {
    return WithErrorInfo(out.status(), reason::kRecallOnFile,
                         {{"product_id", r.product_id()}, {"lot", r.lot()}});
  }
  return out;
}

}  // namespace smp::compliance
