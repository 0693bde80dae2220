#include "services/compliance/report_builder.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/compliance_rules.h"

namespace smp::compliance {
namespace {

constexpr int kReportPage = 200;

}  // namespace

absl::Status BuildReport(const AuditTrail& audit, const Call& call,
                         const v1::GenerateReportRequest& req,
                         absl::FunctionRef<bool(const v1::ReportPart&)> emit) {
  ASSIGN_OR_RETURN(const LocalPeriod period, ParseDateRange("period", req.period(), 366));
  const absl::CivilDay first = period.first;
  const absl::CivilDay last = period.last;
  const Principal& who = call.who;
  std::vector<std::string> clinics(req.clinic_ids().begin(), req.clinic_ids().end());
  for (size_t i = 0; i < clinics.size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("clinic_ids[", i, "]"), clinics[i]));
    RETURN_IF_ERROR(who.CheckClinic(clinics[i]));
  }
  const ComplianceStore& store = audit.store();
  Database& db = audit.db();

  // The pull is on the record before anything is sent; the header carries the head that
  // includes it.
  v1::ReportPart header;
  RETURN_IF_ERROR(db.Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    if (clinics.empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> all, store.ReportClinics(txn));
      for (std::string& clinic : all) {
        if (who.CanAccessClinic(clinic)) clinics.push_back(std::move(clinic));
      }
    }
    ASSIGN_OR_RETURN(v1::AuditEntry pulled,
                     audit.Record(txn, call, v1::AUDIT_ACTION_READ, "report", "",
                                  absl::StrCat(DayText(first), "..", DayText(last), " ",
                                               clinics.size(), " clinic(s)")));
    v1::ReportHeader* h = header.mutable_header();
    *h->mutable_generated_time() = pulled.time();
    for (const std::string& c : clinics) h->add_clinic_ids(c);
    *h->mutable_period() = req.period();
    h->set_audit_log_count(pulled.sequence());
    h->set_audit_log_head_hash(pulled.hash());
    return absl::OkStatus();
  }));
  if (!emit(header)) return absl::CancelledError("the client went away");

  v1::ReportSummary summary;
  absl::flat_hash_map<std::pair<std::string, int>, int64_t> counts;
  absl::flat_hash_map<std::string, std::vector<v1::Credential>> credentials;
  absl::flat_hash_map<std::string, std::vector<v1::Permit>> permits;
  std::string after;
  if (clinics.empty()) after = "";  // nothing to cover: header and an empty summary
  while (!clinics.empty()) {
    std::vector<v1::ReportPart> parts;
    bool more = false;
    RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto page,
                       store.ListProcedures(txn, clinics, first, last, after, kReportPage));
      more = static_cast<int>(page.size()) == kReportPage;
      for (v1::ProcedureRecord& r : page) {
        after = ComplianceStore::ProcedureKey(r);
        if (!credentials.contains(r.practitioner_id())) {
          ASSIGN_OR_RETURN(credentials[r.practitioner_id()],
                           store.CredentialsOf(txn, r.practitioner_id()));
        }
        if (!permits.contains(r.clinic_id())) {
          ASSIGN_OR_RETURN(permits[r.clinic_id()], store.PermitsOf(txn, r.clinic_id()));
        }
        EligibilityInputs in;
        in.day = FromLocalDate(r.performed_date());
        in.at = FromProtoTimestamp(r.performed_time());
        in.credentials = credentials[r.practitioner_id()];
        in.permits = permits[r.clinic_id()];
        ASSIGN_OR_RETURN(in.consents, store.ConsentsOf(txn, r.patient_id()));
        ASSIGN_OR_RETURN(in.screenings, store.ScreeningsOf(txn, r.patient_id()));
        std::vector<v1::Finding> findings;
        auto add = [&](v1::FindingKind kind, std::string detail) {
          v1::Finding f;
          f.set_kind(kind);
          f.set_clinic_id(r.clinic_id());
          f.set_procedure_id(r.id());
          f.set_appointment_id(r.appointment_id());
          f.set_detail(std::move(detail));
          findings.push_back(std::move(f));
        };
        for (ProcedureFinding& f : JudgeProcedure(in)) add(f.kind, std::move(f.detail));
        const v1::ProcedureChecklist& c = r.checklist();
        if (!(c.sealed_needles_opened_before_client() && c.gloves_worn() && c.mask_worn() &&
              c.sterile_field() && c.sharps_disposed())) {
          add(v1::FINDING_KIND_CHECKLIST_INCOMPLETE,
              "the sterile-procedure checklist is incomplete");
        }
        for (const v1::NeedleUse& n : r.needles()) {
          if (FromLocalDate(n.expiry_date()) < in.day) {
            add(v1::FINDING_KIND_EXPIRED_LOT,
                absl::StrCat("needle lot ", n.lot(), " expired ",
                             DayText(FromLocalDate(n.expiry_date()))));
          }
          if (n.serial().empty()) continue;
          ASSIGN_OR_RETURN(auto others, store.OtherUsesOfSerial(txn, n.serial(), r.id()));
          if (!others.empty()) {
            add(v1::FINDING_KIND_NEEDLE_REUSE,
                absl::StrCat("needle ", n.serial(), " is also recorded in procedure ", others[0]));
          }
        }
        // A lot used at or after its recall.
        auto check_recall = [&](const std::string& product, const std::string& lot,
                                absl::string_view what) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<v1::LotRecall> recall, store.RecallOf(txn, product, lot));
          if (recall.has_value() &&
              FromProtoTimestamp(recall->recall_time()) <= FromProtoTimestamp(r.performed_time())) {
            add(v1::FINDING_KIND_RECALLED_LOT,
                absl::StrCat(what, " lot ", lot, " was recalled: ", recall->reason()));
          }
          return absl::OkStatus();
        };
        for (const v1::NeedleUse& n : r.needles()) {
          RETURN_IF_ERROR(check_recall(n.product_id(), n.lot(), "needle"));
        }
        for (const v1::PigmentUse& p : r.pigments()) {
          RETURN_IF_ERROR(check_recall(p.product_id(), p.lot(), "pigment"));
        }
        for (const v1::PigmentUse& p : r.pigments()) {
          if (FromLocalDate(p.expiry_date()) < in.day) {
            add(v1::FINDING_KIND_EXPIRED_LOT,
                absl::StrCat("pigment lot ", p.lot(), " expired ",
                             DayText(FromLocalDate(p.expiry_date()))));
          }
        }
        summary.set_procedures(summary.procedures() + 1);
        v1::ReportPart row;
        *row.mutable_procedure() = std::move(r);
        parts.push_back(std::move(row));
        for (v1::Finding& f : findings) {
          ++counts[{f.clinic_id(), f.kind()}];
          summary.set_findings(summary.findings() + 1);
          v1::ReportPart part;
          *part.mutable_finding() = std::move(f);
          parts.push_back(std::move(part));
        }
      }
      return absl::OkStatus();
    }));
    for (const v1::ReportPart& part : parts) {
      if (!emit(part)) return absl::CancelledError("the client went away");
    }
    if (!more) break;
  }

  // Every incident of the clinics that occurred on the period's local days (each clinic's own
  // zone), whether or not its appointment ever completed.
  std::vector<ComplianceStore::ClinicSpan> spans;
  if (!clinics.empty()) {
    RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      for (const std::string& clinic : clinics) {
        ASSIGN_OR_RETURN(const std::string zone_name, store.TimeZoneOf(txn, clinic));
        const absl::TimeZone zone = ZoneNamed(zone_name);
        spans.push_back({clinic, absl::FromCivil(first, zone), absl::FromCivil(last + 1, zone)});
      }
      return absl::OkStatus();
    }));
  }
  std::string after_incident;
  while (!spans.empty()) {
    std::vector<v1::ReportPart> parts;
    bool more = false;
    RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto page, store.ListIncidents(txn, spans, {}, after_incident, kReportPage));
      more = static_cast<int>(page.size()) == kReportPage;
      for (v1::Incident& i : page) {
        after_incident = ComplianceStore::IncidentKey(i);
        summary.set_incidents(summary.incidents() + 1);
        std::vector<v1::Finding> findings;
        if (i.kind() == v1::INCIDENT_KIND_NEEDLE_REUSE_ATTEMPT) {
          v1::Finding f;
          f.set_kind(v1::FINDING_KIND_NEEDLE_REUSE);
          f.set_clinic_id(i.clinic_id());
          f.set_appointment_id(i.appointment_id());
          if (!i.appointment_id().empty()) {
            ASSIGN_OR_RETURN(*f.mutable_procedure_id(),
                             store.ProcedureOfAppointment(txn, i.appointment_id()));
          }
          f.set_detail(absl::StrCat("reuse attempt (incident ", i.id(), "): ", i.description()));
          findings.push_back(std::move(f));
        }
        v1::ReportPart row;
        *row.mutable_incident() = std::move(i);
        parts.push_back(std::move(row));
        for (v1::Finding& f : findings) {
          ++counts[{f.clinic_id(), f.kind()}];
          summary.set_findings(summary.findings() + 1);
          v1::ReportPart part;
          *part.mutable_finding() = std::move(f);
          parts.push_back(std::move(part));
        }
      }
      return absl::OkStatus();
    }));
    for (const v1::ReportPart& part : parts) {
      if (!emit(part)) return absl::CancelledError("the client went away");
    }
    if (!more) break;
  }
  std::vector<std::pair<std::pair<std::string, int>, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, count] : sorted) {
    v1::FindingCount* fc = summary.add_counts();
    fc->set_clinic_id(key.first);
    fc->set_kind(static_cast<v1::FindingKind>(key.second));
    fc->set_count(count);
  }
  v1::ReportPart last_part;
  *last_part.mutable_summary() = std::move(summary);
  if (!emit(last_part)) return absl::CancelledError("the client went away");
  return absl::OkStatus();
}

}  // namespace smp::compliance
