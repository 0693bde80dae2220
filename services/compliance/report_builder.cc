#include "services/compliance/report_builder.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/page_handoff.h"

namespace smp::compliance {
namespace {

constexpr int kReportPage = 200;

// Built pages waiting to be sent: one being sent and one ready keeps both threads busy.
constexpr size_t kPagesAhead = 2;

// Findings counted by clinic and kind, for the summary.
using FindingCounts = absl::flat_hash_map<std::pair<std::string, int>, int64_t>;

// Each patient's consents and screenings as read for a report page, kept in two generations:
// a lookup finds the current or the previous one (and moves it to the current); when the
// current one is full it becomes the previous one and the oldest is dropped. So the patients of
// recent pages are read once, and memory stays bounded. A dropped generation's messages are
// kept as spares and parsed into again (Recycle, Reuse).
//
// A patient's procedures are a course of sessions a few weeks apart, so one read serves the
// course's later pages too. At most 2 x `per_generation` patients are kept (about 2 KB each in the
// heap: some 70 MB at ReportLimits' 16,384), whatever the report's size. 16,384 is sized for a
// 100-clinic year: a patient's next session (two weeks later) comes about 19,000 patients later
// there, so 8,192 a generation missed nearly every time and only cost.
class PatientRecords {
 public:
  explicit PatientRecords(size_t per_generation) : per_generation_(per_generation) {}

  struct Records {
    std::vector<v1::Consent> consents;
    std::vector<v1::Screening> screenings;
  };

  // The records of each of `patients`, reading those not kept in one query each for consents and
  // screenings. The pointers are valid until the next call.
  absl::StatusOr<std::vector<Records*>> Of(Transaction& txn, const ComplianceStore& store,
                                           const std::vector<std::string>& patients) {
    std::vector<std::string> missing;
    for (const std::string& patient : patients) {
      if (current_.contains(patient)) continue;
      auto old = previous_.find(patient);
      if (old != previous_.end()) {
        current_.emplace(patient, std::move(old->second));
        previous_.erase(old);
      } else {
        missing.push_back(patient);
      }
    }
    if (current_.size() + missing.size() > per_generation_) {
      Recycle(previous_);
      previous_ = std::move(current_);
      current_.clear();
      // This page's patients stay current.
      for (const std::string& patient : patients) {
        auto kept = previous_.find(patient);
        if (kept != previous_.end()) {
          current_.emplace(patient, std::move(kept->second));
          previous_.erase(kept);
        }
      }
    }
    if (!missing.empty()) {
      for (const std::string& patient : missing) current_.try_emplace(patient);
      RETURN_IF_ERROR(store.ConsentsOfPatients(txn, missing, [&](const std::string& patient) {
        return Reuse(current_[patient].consents, spare_consents_);
      }));
      RETURN_IF_ERROR(store.ScreeningsOfPatients(txn, missing, [&](const std::string& patient) {
        return Reuse(current_[patient].screenings, spare_screenings_);
      }));
    }
    std::vector<Records*> out;
    out.reserve(patients.size());
    for (const std::string& patient : patients) out.push_back(&current_[patient]);
    return out;
  }

 private:
  using Generation = absl::flat_hash_map<std::string, Records>;

  // Moves the messages of `generation` to the spares and empties it. Freeing a generation's
  // messages field by field, and allocating each field again as later patients were read, was
  // about a sixth of a 100-clinic report's building (perf: destroying them, and the allocator's
  // consolidation their frees set off).
  void Recycle(Generation& generation) {
    for (auto& [patient, records] : generation) {
      for (v1::Consent& c : records.consents) spare_consents_.push_back(std::move(c));
      for (v1::Screening& s : records.screenings) spare_screenings_.push_back(std::move(s));
    }
    generation.clear();
  }

  // A message appended to `to` for a record to be parsed into: a spare one when there is one
  // (parsing into it reuses its fields' buffers), else a new one.
  template <typename Message>
  static Message* Reuse(std::vector<Message>& to, std::vector<Message>& spares) {
    if (spares.empty()) return &to.emplace_back();
    to.push_back(std::move(spares.back()));
    spares.pop_back();
    return &to.back();
  }

  const size_t per_generation_;
  Generation current_, previous_;
  // Messages of dropped generations, to parse later patients' records into. They are used up
  // as the current generation fills, so memory stays about two generations' worth.
  std::vector<v1::Consent> spare_consents_;
  std::vector<v1::Screening> spare_screenings_;
};

// Builds the report's procedure pages (each procedure by time, followed by its findings) and hands
// each to `out` once built, adding to `summary` and `counts`; stops when `out` does.
absl::Status BuildProcedurePages(const ComplianceStore& store, Database& db,
                                 const std::vector<std::string>& clinics, absl::CivilDay first,
                                 absl::CivilDay last, v1::ReportSummary& summary,
                                 FindingCounts& counts, const ReportLimits& limits,
                                 PageHandoff& out) {
  // Kept across pages, only what findings need and a chain has few of: each practitioner's
  // credentials with each clinic's permits (the inputs a procedure's consents and screenings are
  // added to), and the recall on file (or none) of each lot seen.
  absl::flat_hash_map<std::pair<std::string, std::string>, EligibilityInputs> base_inputs;
  absl::flat_hash_map<std::pair<std::string, std::string>, std::optional<v1::LotRecall>> recalls;
  PatientRecords patient_records(limits.patients_per_generation);
  std::string after;
  while (!clinics.empty()) {
    // The page's records and parts live on one arena, dropped with the page once it is sent.
    auto arena = std::make_unique<google::protobuf::Arena>();
    std::vector<v1::ReportPart*> parts;
    bool more = false;
    RETURN_IF_ERROR(db.Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(
          std::vector<v1::ProcedureRecord*> page,
          store.ListProcedures(txn, clinics, first, last, after, kReportPage, arena.get()));
      more = static_cast<int>(page.size()) == kReportPage;
      // What the page's procedures refer to, each read once for the whole page.
      std::vector<std::string> patients, serials;
      std::vector<std::pair<std::string, std::string>> new_lots;
      absl::flat_hash_set<std::string> seen_patients, seen_serials;
      auto note_lot = [&](const std::string& product, const std::string& lot) {
        auto [it, inserted] = recalls.try_emplace({product, lot});
        if (inserted) new_lots.push_back(it->first);
      };
      for (const v1::ProcedureRecord* record : page) {
        const v1::ProcedureRecord& r = *record;
        auto [base, inserted] = base_inputs.try_emplace({r.practitioner_id(), r.clinic_id()});
        if (inserted) {
          ASSIGN_OR_RETURN(base->second.credentials, store.CredentialsOf(txn, r.practitioner_id()));
          ASSIGN_OR_RETURN(base->second.permits, store.PermitsOf(txn, r.clinic_id()));
        }
        if (seen_patients.insert(r.patient_id()).second) patients.push_back(r.patient_id());
        for (const v1::NeedleUse& n : r.needles()) {
          if (!n.serial().empty() && seen_serials.insert(n.serial()).second) {
            serials.push_back(n.serial());
          }
          note_lot(n.product_id(), n.lot());
        }
        for (const v1::PigmentUse& p : r.pigments()) note_lot(p.product_id(), p.lot());
      }
      ASSIGN_OR_RETURN(std::vector<PatientRecords::Records*> records,
                       patient_records.Of(txn, store, patients));
      absl::flat_hash_map<absl::string_view, PatientRecords::Records*> records_of;
      for (size_t i = 0; i < patients.size(); ++i) records_of[patients[i]] = records[i];
      ASSIGN_OR_RETURN(auto uses, store.ReusesOfSerials(txn, serials));
      ASSIGN_OR_RETURN(std::vector<v1::LotRecall> recalled, store.RecallsOf(txn, new_lots));
      for (v1::LotRecall& recall : recalled) {
        recalls[{recall.product_id(), recall.lot()}] = std::move(recall);
      }

      parts.reserve(page.size() + page.size() / 8);
      if (!page.empty()) after = ComplianceStore::ProcedureKey(*page.back());
      for (v1::ProcedureRecord* record : page) {
        const v1::ProcedureRecord& r = *record;
        EligibilityInputs& in = base_inputs[{r.practitioner_id(), r.clinic_id()}];
        in.day = FromLocalDate(r.performed_date());
        in.at = FromProtoTimestamp(r.performed_time());
        // The patient's records are lent to the inputs for this procedure and handed back.
        PatientRecords::Records& patient = *records_of.at(r.patient_id());
        std::vector<v1::Consent>& patient_consents = patient.consents;
        std::vector<v1::Screening>& patient_screenings = patient.screenings;
        in.consents.swap(patient_consents);
        in.screenings.swap(patient_screenings);
        std::vector<v1::Finding> findings = ProcedureFindings(
            r, in,
            [&](const std::string& serial) -> std::string {
              auto it = uses.find(serial);
              if (it == uses.end()) return "";
              for (const std::string& id : it->second) {
                if (id != r.id()) return id;
              }
              return "";
            },
            [&](const std::string& product, const std::string& lot) -> const v1::LotRecall* {
              auto it = recalls.find(std::make_pair(product, lot));
              return it == recalls.end() || !it->second.has_value() ? nullptr : &*it->second;
            });
        in.consents.swap(patient_consents);
        in.screenings.swap(patient_screenings);
        summary.set_procedures(summary.procedures() + 1);
        // The record becomes the part as it is (both on the page's arena: no copy).
        v1::ReportPart* part = google::protobuf::Arena::CreateMessage<v1::ReportPart>(arena.get());
        part->unsafe_arena_set_allocated_procedure(record);
        parts.push_back(part);
        for (v1::Finding& f : findings) {
          ++counts[{f.clinic_id(), f.kind()}];
          summary.set_findings(summary.findings() + 1);
          part = google::protobuf::Arena::CreateMessage<v1::ReportPart>(arena.get());
          *part->mutable_finding() = std::move(f);
          parts.push_back(part);
        }
      }
      return absl::OkStatus();
    }));
    if (!out.Push(BuiltPage{std::move(arena), std::move(parts)})) {
      return absl::CancelledError("the client went away");
    }
    if (!more) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BuildReport(const AuditTrail& audit, const Call& call,
                         const v1::GenerateReportRequest& req,
                         absl::FunctionRef<bool(const v1::ReportPart&, bool end_of_page)> emit,
                         const ReportLimits& limits) {
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
  RETURN_IF_ERROR(db.Run(TxMode::kWrite, AuditChainQueue(), [&](Transaction& txn) -> absl::Status {
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
  if (!emit(header, true)) return absl::CancelledError("the client went away");

  v1::ReportSummary summary;
  FindingCounts counts;
  {
    // The pages are built on a thread of their own and sent from this one, so that the next
    // page is read and judged while the last is written (PageHandoff).
    PageHandoff handoff(kPagesAhead);
    absl::Status built;
    std::thread builder([&] {
      built =
          BuildProcedurePages(store, db, clinics, first, last, summary, counts, limits, handoff);
      handoff.Finish();
    });
    bool gone = false;
    while (std::optional<BuiltPage> page = handoff.Pop()) {
      for (size_t i = 0; i < page->parts.size() && !gone; ++i) {
        gone = !emit(*page->parts[i], i + 1 == page->parts.size());
      }
      if (gone) {
        handoff.Stop();
        break;
      }
    }
    builder.join();
    if (gone) return absl::CancelledError("the client went away");
    RETURN_IF_ERROR(built);
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
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!emit(parts[i], i + 1 == parts.size())) {
        return absl::CancelledError("the client went away");
      }
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
  if (!emit(last_part, true)) return absl::CancelledError("the client went away");
  return absl::OkStatus();
}

}  // namespace smp::compliance
