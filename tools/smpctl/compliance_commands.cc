// Compliance: credentials, permits, consents, screenings, incidents, expiring records, the
// auditor's report (summary and file export), the audit log, checkpoints and retention.

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/util/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tools/smpctl/atomic_file.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/commands.h"

namespace smp::smpctl {
namespace {

namespace cv1 = ::smp::compliance::v1;
using Stub = cv1::ComplianceService::Stub;

#define RPC(method, req) \
  inv.client().Call(Service::kCompliance, inv.client().compliance(), &Stub::method, #method, req)

// --at: an instant (RFC 3339, or clinic-local with --clinic), default now.
absl::StatusOr<google::protobuf::Timestamp> When(Invocation& inv, const char* flag,
                                                 const std::string& clinic) {
  if (!inv.Has(flag)) return ToProtoTimestamp(absl::Now());
  ASSIGN_OR_RETURN(TimeArg t, ParseTimeArg(flag, inv.Get(flag)));
  absl::TimeZone zone = absl::UTCTimeZone();
  if (t.needs_zone()) {
    ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(clinic));
  }
  return ToProtoTimestamp(t.Resolve(zone));
}

absl::Status ReadDateRange(const Invocation& inv, common::v1::DateRange* range) {
  ASSIGN_OR_RETURN(absl::CivilDay from, ParseDate("from", inv.Get("from")));
  ASSIGN_OR_RETURN(absl::CivilDay to, ParseDate("to", inv.Get("to")));
  if (to < from) return UsageError("--to is before --from");
  *range->mutable_start_date() = ToLocalDate(from);
  *range->mutable_end_date() = ToLocalDate(to);
  return absl::OkStatus();
}

// ---- credentials and permits

void PrintCredentials(Invocation& inv, const std::vector<const cv1::Credential*>& all) {
  Table t({"id", "practitioner", "kind", "issuer", "number", "valid from", "valid until"});
  for (const cv1::Credential* c : all) {
    t.AddRow({c->id(), c->practitioner_id(), EnumName(c->kind()), c->issuer(), c->number(),
              FormatDate(c->valid_from()), FormatDate(c->valid_until())});
  }
  inv.out().Print(t);
}

void PrintPermits(Invocation& inv, const std::vector<const cv1::Permit*>& all) {
  Table t({"id", "clinic", "kind", "issuer", "number", "valid from", "valid until"});
  for (const cv1::Permit* p : all) {
    t.AddRow({p->id(), p->clinic_id(), EnumName(p->kind()), p->issuer(), p->number(),
              FormatDate(p->valid_from()), FormatDate(p->valid_until())});
  }
  inv.out().Print(t);
}

absl::Status ValidityRange(const Invocation& inv, common::v1::LocalDate* from,
                           common::v1::LocalDate* until) {
  ASSIGN_OR_RETURN(absl::CivilDay f, ParseDate("valid_from", inv.Get("valid_from")));
  ASSIGN_OR_RETURN(absl::CivilDay u, ParseDate("valid_until", inv.Get("valid_until")));
  if (u < f) return UsageError("--valid_until is before --valid_from");
  *from = ToLocalDate(f);
  *until = ToLocalDate(u);
  return absl::OkStatus();
}

absl::Status CredentialRecord(Invocation& inv) {
  cv1::RecordCredentialRequest req;
  req.set_request_id(inv.client().NewRequestId());
  cv1::Credential& c = *req.mutable_credential();
  c.set_practitioner_id(inv.Get("practitioner"));
  ASSIGN_OR_RETURN(cv1::CredentialKind kind,
                   ParseEnum<cv1::CredentialKind>("kind", inv.Get("kind")));
  c.set_kind(kind);
  c.set_issuer(inv.Get("issuer"));
  c.set_number(inv.Get("number"));
  RETURN_IF_ERROR(ValidityRange(inv, c.mutable_valid_from(), c.mutable_valid_until()));
  c.set_document_reference(inv.Get("document"));
  if (inv.Has("training_summary") || inv.Has("trainer") || inv.Has("training_date")) {
    cv1::TrainingDetails& t = *c.mutable_training();
    t.set_content_summary(inv.Get("training_summary"));
    t.set_trainer_name(inv.Get("trainer"));
    t.set_trainer_qualification(inv.Get("trainer_qualification"));
    if (inv.Has("training_date")) {
      ASSIGN_OR_RETURN(absl::CivilDay d, ParseDate("training_date", inv.Get("training_date")));
      *t.mutable_training_date() = ToLocalDate(d);
    }
  }
  ASSIGN_OR_RETURN(cv1::Credential out, RPC(RecordCredential, req));
  Show(inv, out, [&] { PrintCredentials(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status CredentialList(Invocation& inv) {
  cv1::ListCredentialsRequest req;
  req.set_practitioner_id(inv.Get("practitioner"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListCredentialsResponse resp, RPC(ListCredentials, req));
  Show(inv, resp, [&] {
    std::vector<const cv1::Credential*> all;
    for (const cv1::Credential& c : resp.credentials()) all.push_back(&c);
    PrintCredentials(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status PermitRecord(Invocation& inv) {
  cv1::RecordPermitRequest req;
  req.set_request_id(inv.client().NewRequestId());
  cv1::Permit& p = *req.mutable_permit();
  p.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(
      cv1::PermitKind kind,
      ParseEnum<cv1::PermitKind>("kind", inv.Has("kind") ? inv.Get("kind") : "county_health"));
  p.set_kind(kind);
  p.set_issuer(inv.Get("issuer"));
  p.set_number(inv.Get("number"));
  RETURN_IF_ERROR(ValidityRange(inv, p.mutable_valid_from(), p.mutable_valid_until()));
  p.set_document_reference(inv.Get("document"));
  ASSIGN_OR_RETURN(cv1::Permit out, RPC(RecordPermit, req));
  Show(inv, out, [&] { PrintPermits(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status PermitList(Invocation& inv) {
  cv1::ListPermitsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListPermitsResponse resp, RPC(ListPermits, req));
  Show(inv, resp, [&] {
    std::vector<const cv1::Permit*> all;
    for (const cv1::Permit& p : resp.permits()) all.push_back(&p);
    PrintPermits(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- consents and screenings

void PrintConsents(Invocation& inv, const std::vector<const cv1::Consent*>& all) {
  Table t({"id", "patient", "clinic", "kind", "form", "signed", "withdrawn"});
  for (const cv1::Consent* c : all) {
    const absl::TimeZone zone = inv.client().DisplayZone(c->clinic_id());
    t.AddRow({c->id(), c->patient_id(), c->clinic_id(), EnumName(c->kind()), c->form_version(),
              FormatTimestamp(c->signed_time(), zone), FormatTimestamp(c->withdrawn_time(), zone)});
  }
  inv.out().Print(t);
}

absl::Status ConsentRecord(Invocation& inv) {
  cv1::RecordConsentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  cv1::Consent& c = *req.mutable_consent();
  c.set_patient_id(inv.Get("patient"));
  c.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(
      cv1::ConsentKind kind,
      ParseEnum<cv1::ConsentKind>("kind", inv.Has("kind") ? inv.Get("kind") : "procedure"));
  c.set_kind(kind);
  c.set_form_version(inv.Get("form_version"));
  if (inv.Has("signed")) RETURN_IF_ERROR(ParseTimeArg("signed", inv.Get("signed")).status());
  ASSIGN_OR_RETURN(*c.mutable_signed_time(), When(inv, "signed", c.clinic_id()));
  ASSIGN_OR_RETURN(cv1::Consent out, RPC(RecordConsent, req));
  Show(inv, out, [&] { PrintConsents(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ConsentWithdraw(Invocation& inv) {
  cv1::WithdrawConsentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  if (inv.Has("at")) {
    ASSIGN_OR_RETURN(TimeArg t, ParseTimeArg("at", inv.Get("at")));
    if (t.needs_zone()) return UsageError("--at: give an RFC 3339 time with its offset");
    *req.mutable_withdrawn_time() = ToProtoTimestamp(*t.instant);
  }
  ASSIGN_OR_RETURN(cv1::Consent out, RPC(WithdrawConsent, req));
  Show(inv, out, [&] { PrintConsents(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ConsentList(Invocation& inv) {
  cv1::ListConsentsRequest req;
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListConsentsResponse resp, RPC(ListConsents, req));
  Show(inv, resp, [&] {
    std::vector<const cv1::Consent*> all;
    for (const cv1::Consent& c : resp.consents()) all.push_back(&c);
    PrintConsents(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

void PrintScreenings(Invocation& inv, const std::vector<const cv1::Screening*>& all) {
  Table t({"id", "patient", "screened", "findings", "outcome", "override", "valid until"});
  for (const cv1::Screening* s : all) {
    const absl::TimeZone zone = inv.client().DisplayZone(s->clinic_id());
    t.AddRow({s->id(), s->patient_id(), FormatTimestamp(s->screened_time(), zone),
              EnumList<cv1::Contraindication>(s->findings()), EnumName(s->outcome()),
              s->has_override() ? s->override().reason() : "",
              FormatTimestamp(s->valid_until(), zone)});
  }
  inv.out().Print(t);
}

absl::Status ScreeningRecord(Invocation& inv) {
  cv1::RecordScreeningRequest req;
  req.set_request_id(inv.client().NewRequestId());
  cv1::Screening& s = *req.mutable_screening();
  s.set_patient_id(inv.Get("patient"));
  s.set_clinic_id(inv.Get("clinic"));
  for (const std::string& f : inv.All("finding")) {
    ASSIGN_OR_RETURN(cv1::Contraindication c, ParseEnum<cv1::Contraindication>("finding", f));
    s.add_findings(c);
  }
  s.set_notes(inv.Get("notes"));
  if (inv.Has("at")) RETURN_IF_ERROR(ParseTimeArg("at", inv.Get("at")).status());
  ASSIGN_OR_RETURN(*s.mutable_screened_time(), When(inv, "at", s.clinic_id()));
  ASSIGN_OR_RETURN(cv1::Screening out, RPC(RecordScreening, req));
  Show(inv, out, [&] { PrintScreenings(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ScreeningOverride(Invocation& inv) {
  cv1::OverrideScreeningRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(cv1::Screening out, RPC(OverrideScreening, req));
  Show(inv, out, [&] { PrintScreenings(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ScreeningList(Invocation& inv) {
  cv1::ListScreeningsRequest req;
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListScreeningsResponse resp, RPC(ListScreenings, req));
  Show(inv, resp, [&] {
    std::vector<const cv1::Screening*> all;
    for (const cv1::Screening& s : resp.screenings()) all.push_back(&s);
    PrintScreenings(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- incidents

void PrintIncident(Invocation& inv, const cv1::Incident& i) {
  Show(inv, i, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(i.clinic_id());
    inv.out().Print(Fields{{"id", i.id()},
                           {"kind", EnumName(i.kind())},
                           {"clinic", i.clinic_id()},
                           {"patient", i.patient_id()},
                           {"appointment", i.appointment_id()},
                           {"occurred", FormatTimestamp(i.occurred_time(), zone)},
                           {"description", i.description()},
                           {"follow-up", i.follow_up()},
                           {"reported by", i.reported_by()}});
  });
}

absl::Status IncidentReport(Invocation& inv) {
  cv1::ReportIncidentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  cv1::Incident& i = *req.mutable_incident();
  ASSIGN_OR_RETURN(cv1::IncidentKind kind, ParseEnum<cv1::IncidentKind>("kind", inv.Get("kind")));
  i.set_kind(kind);
  i.set_clinic_id(inv.Get("clinic"));
  i.set_patient_id(inv.Get("patient"));
  i.set_appointment_id(inv.Get("appointment"));
  i.set_description(inv.Get("description"));
  if (inv.Has("at")) RETURN_IF_ERROR(ParseTimeArg("at", inv.Get("at")).status());
  ASSIGN_OR_RETURN(*i.mutable_occurred_time(), When(inv, "at", i.clinic_id()));
  ASSIGN_OR_RETURN(cv1::Incident out, RPC(ReportIncident, req));
  PrintIncident(inv, out);
  return absl::OkStatus();
}

absl::Status IncidentFollowUp(Invocation& inv) {
  cv1::RecordIncidentFollowUpRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_follow_up(inv.Get("text"));
  ASSIGN_OR_RETURN(cv1::Incident out, RPC(RecordIncidentFollowUp, req));
  PrintIncident(inv, out);
  return absl::OkStatus();
}

absl::Status IncidentList(Invocation& inv) {
  cv1::ListIncidentsRequest req;
  RETURN_IF_ERROR(ReadDateRange(inv, req.mutable_period()));
  for (const std::string& c : inv.All("clinic")) req.add_clinic_ids(c);
  for (const std::string& k : inv.All("kind")) {
    ASSIGN_OR_RETURN(cv1::IncidentKind kind, ParseEnum<cv1::IncidentKind>("kind", k));
    req.add_kinds(kind);
  }
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListIncidentsResponse resp, RPC(ListIncidents, req));
  Show(inv, resp, [&] {
    Table t({"id", "occurred", "clinic", "kind", "appointment", "patient", "description"});
    for (const cv1::Incident& i : resp.incidents()) {
      t.AddRow({i.id(), FormatTimestamp(i.occurred_time(), inv.client().DisplayZone(i.clinic_id())),
                i.clinic_id(), EnumName(i.kind()), i.appointment_id(), i.patient_id(),
                i.description()});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status Expiring(Invocation& inv) {
  cv1::ListExpiringRequest req;
  ASSIGN_OR_RETURN(int64_t days, inv.Int("within", 1, 365, 30));
  req.set_within_days(static_cast<int32_t>(days));
  for (const std::string& c : inv.All("clinic")) req.add_clinic_ids(c);
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(cv1::ListExpiringResponse resp, RPC(ListExpiring, req));
  Show(inv, resp, [&] {
    inv.out().Line(absl::StrCat("credentials expiring within ", days, " days:"));
    std::vector<const cv1::Credential*> creds;
    for (const cv1::Credential& c : resp.credentials()) creds.push_back(&c);
    PrintCredentials(inv, creds);
    inv.out().Line("");
    inv.out().Line(absl::StrCat("permits expiring within ", days, " days:"));
    std::vector<const cv1::Permit*> permits;
    for (const cv1::Permit& p : resp.permits()) permits.push_back(&p);
    PrintPermits(inv, permits);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- reports

absl::Status ReadReportRequest(const Invocation& inv, cv1::GenerateReportRequest* req) {
  for (const std::string& c : inv.All("clinic")) req->add_clinic_ids(c);
  return ReadDateRange(inv, req->mutable_period());
}

absl::Status ReportGenerate(Invocation& inv) {
  cv1::GenerateReportRequest req;
  RETURN_IF_ERROR(ReadReportRequest(inv, &req));
  ASSIGN_OR_RETURN(auto ctx,
                   inv.client().NewContext(true, inv.client().Timeout(kDefaultExportTimeout)));
  std::unique_ptr<grpc::ClientReader<cv1::ReportPart>> reader =
      inv.client().compliance().GenerateReport(ctx.get(), req);
  cv1::ReportPart part;
  cv1::ReportHeader header;
  cv1::ReportSummary summary;
  std::vector<cv1::Finding> findings;
  int64_t procedures = 0;
  while (reader->Read(&part)) {
    if (inv.out().json()) {
      inv.out().Json(part);  // one line per part, as it streams
      continue;
    }
    switch (part.part_case()) {
      case cv1::ReportPart::kHeader:
        header = part.header();
        break;
      case cv1::ReportPart::kProcedure:
        ++procedures;
        break;
      case cv1::ReportPart::kFinding:
        findings.push_back(part.finding());
        break;
      case cv1::ReportPart::kSummary:
        summary = part.summary();
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return inv.client().Error("GenerateReport", Service::kCompliance, status);
  if (inv.out().json()) return absl::OkStatus();
  inv.out().Print(Fields{
      {"period", absl::StrCat(FormatDate(header.period().start_date()), " .. ",
                              FormatDate(header.period().end_date()))},
      {"clinics", absl::StrJoin(header.clinic_ids(), ",")},
      {"generated", FormatTimestamp(header.generated_time(), absl::UTCTimeZone())},
      {"audit log",
       absl::StrCat(header.audit_log_count(), " entries, head ", header.audit_log_head_hash())},
      {"procedures", absl::StrCat(summary.procedures())},
      {"incidents", absl::StrCat(summary.incidents())},
      {"findings", absl::StrCat(summary.findings())}});
  if (!summary.counts().empty()) {
    inv.out().Line("");
    Table counts({"clinic", "finding", "count"});
    for (const cv1::FindingCount& c : summary.counts()) {
      counts.AddRow({c.clinic_id(), EnumName(c.kind()), absl::StrCat(c.count())});
    }
    inv.out().Print(counts);
  }
  if (!findings.empty()) {
    inv.out().Line("");
    Table t({"clinic", "finding", "appointment", "detail"});
    for (const cv1::Finding& f : findings) {
      t.AddRow({f.clinic_id(), EnumName(f.kind()), f.appointment_id(), f.detail()});
    }
    inv.out().Print(t);
  }
  return absl::OkStatus();
}

// Progress on stderr: redrawn in place on a terminal, else (with --progress) a line at most every
// half second and one at the end.
class Progress {
 public:
  Progress(std::ostream& err, bool enabled) : err_(err), enabled_(enabled), tty_(::isatty(2)) {}
  void Update(int64_t procedures, int64_t chunks, int64_t bytes, bool last) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (!last && !tty_ && now - last_ < absl::Milliseconds(500)) return;
    const std::string text = absl::StrCat("exported ", procedures, " procedures, ", chunks,
                                          " chunks, ", bytes, " bytes");
    if (text == printed_ && !(last && tty_)) return;
    last_ = now;
    printed_ = text;
    if (tty_) {
      err_ << "\r" << text << (last ? "\n" : "") << std::flush;
    } else {
      err_ << text << "\n" << std::flush;
    }
  }

 private:
  std::ostream& err_;
  bool enabled_;
  bool tty_;
  absl::Time last_ = absl::InfinitePast();
  std::string printed_;
};

absl::Status ReportExport(Invocation& inv) {
  cv1::ExportReportRequest req;
  RETURN_IF_ERROR(ReadReportRequest(inv, req.mutable_report()));
  ASSIGN_OR_RETURN(cv1::ExportFormat format,
                   ParseEnum<cv1::ExportFormat>("format", inv.Get("format")));
  req.set_format(format);
  const std::string path = inv.Get("out");
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> file, AtomicFile::Create(path));

  ASSIGN_OR_RETURN(auto ctx,
                   inv.client().NewContext(true, inv.client().Timeout(kDefaultExportTimeout)));
  std::unique_ptr<grpc::ClientReader<cv1::ExportChunk>> reader =
      inv.client().compliance().ExportReport(ctx.get(), req);
  Progress progress(inv.out().err(), inv.Bool("progress") || ::isatty(2));
  cv1::ExportChunk chunk;
  int64_t chunks = 0, procedures = 0;
  absl::Status written;
  while (written.ok() && reader->Read(&chunk)) {
    written = file->Write(chunk.data());
    ++chunks;
    procedures = chunk.procedures_done();
    progress.Update(procedures, chunks, file->bytes(), false);
  }
  if (!written.ok()) {
    ctx->TryCancel();
    reader->Finish();
    return written;  // the temporary file goes with `file`
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return inv.client().Error("ExportReport", Service::kCompliance, status);
  RETURN_IF_ERROR(file->Commit());
  progress.Update(procedures, chunks, file->bytes(), true);
  google::protobuf::Struct result;
  auto& fields = *result.mutable_fields();
  fields["path"].set_string_value(path);
  fields["format"].set_string_value(EnumName(format));
  fields["bytes"].set_number_value(static_cast<double>(file->bytes()));
  fields["chunks"].set_number_value(static_cast<double>(chunks));
  fields["procedures"].set_number_value(static_cast<double>(procedures));
  Show(inv, result, [&] {
    inv.out().Line(absl::StrCat("wrote ", path, ": ", EnumName(format), ", ", file->bytes(),
                                " bytes, ", procedures, " procedures"));
  });
  return absl::OkStatus();
}

// ---- audit log, checkpoints, retention

absl::Status AuditExport(Invocation& inv) {
  cv1::ExportAuditEventsRequest req;
  ASSIGN_OR_RETURN(int64_t since, inv.Int("since", 0, INT64_MAX, 0));
  req.set_since_sequence(since);
  ASSIGN_OR_RETURN(int64_t size, inv.Int("page_size", 1, 5000, 0));
  req.set_page_size(static_cast<int32_t>(size));
  std::unique_ptr<AtomicFile> file;
  if (inv.Has("out")) {
    ASSIGN_OR_RETURN(file, AtomicFile::Create(inv.Get("out")));
  }
  ASSIGN_OR_RETURN(cv1::ExportAuditEventsResponse resp, RPC(ExportAuditEvents, req));
  if (file) {
    for (const std::string& event : resp.fhir_json()) {
      RETURN_IF_ERROR(file->Write(event));
      RETURN_IF_ERROR(file->Write("\n"));
    }
    RETURN_IF_ERROR(file->Commit());
    Show(inv, resp, [&] {
      inv.out().Line(absl::StrCat("wrote ", resp.fhir_json_size(), " FHIR AuditEvent(s) to ",
                                  inv.Get("out"), "; resume with --since=", resp.last_sequence()));
    });
    return absl::OkStatus();
  }
  Show(inv, resp, [&] {
    // FHIR AuditEvent resources, one JSON document per line.
    for (const std::string& event : resp.fhir_json()) inv.out().Line(event);
    inv.out().Note(absl::StrCat(resp.fhir_json_size(),
                                " event(s); resume with --since=", resp.last_sequence()));
  });
  return absl::OkStatus();
}

absl::Status AuditList(Invocation& inv) {
  cv1::ListAuditEntriesRequest req;
  ASSIGN_OR_RETURN(int64_t since, inv.Int("since", 0, INT64_MAX, 0));
  req.set_since_sequence(since);
  ASSIGN_OR_RETURN(int64_t size, inv.Int("page_size", 1, 5000, 0));
  req.set_page_size(static_cast<int32_t>(size));
  ASSIGN_OR_RETURN(cv1::ListAuditEntriesResponse resp, RPC(ListAuditEntries, req));
  Show(inv, resp, [&] {
    Table t({"seq", "time", "actor", "action", "method", "entity", "detail"});
    for (const cv1::AuditEntry& e : resp.entries()) {
      t.AddRow({absl::StrCat(e.sequence()), FormatTimestamp(e.time(), absl::UTCTimeZone()),
                e.actor_id(), EnumName(e.action()), e.method(),
                absl::StrCat(e.entity_type(), " ", e.entity_id()), e.detail()});
    }
    inv.out().Print(t);
  });
  return absl::OkStatus();
}

absl::Status AuditVerify(Invocation& inv) {
  ASSIGN_OR_RETURN(cv1::VerifyAuditLogResponse resp,
                   RPC(VerifyAuditLog, cv1::VerifyAuditLogRequest()));
  Show(inv, resp, [&] {
    if (resp.intact()) {
      inv.out().Line(
          absl::StrCat("audit log intact: ", resp.entries_checked(), " entries checked"));
    } else {
      inv.out().Line(absl::StrCat("audit log NOT intact: entry ", resp.first_bad_sequence(), ": ",
                                  resp.problem(), " (", resp.entries_checked(),
                                  " entries checked)"));
    }
  });
  if (!resp.intact()) {
    return absl::DataLossError(absl::StrCat("the audit log does not verify from entry ",
                                            resp.first_bad_sequence(), ": ", resp.problem()));
  }
  return absl::OkStatus();
}

absl::Status CheckpointCreate(Invocation& inv) {
  std::unique_ptr<AtomicFile> file;
  if (inv.Has("out")) {
    ASSIGN_OR_RETURN(file, AtomicFile::Create(inv.Get("out")));
  }
  cv1::CreateCheckpointRequest req;
  req.set_request_id(inv.client().NewRequestId());
  ASSIGN_OR_RETURN(cv1::Checkpoint out, RPC(CreateCheckpoint, req));
  if (file) {
    RETURN_IF_ERROR(file->Write(ToJsonLine(out) + "\n"));
    RETURN_IF_ERROR(file->Commit());
  }
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"count", absl::StrCat(out.count())},
                           {"head hash", out.head_hash()},
                           {"signed", FormatTimestamp(out.signed_time(), absl::UTCTimeZone())},
                           {"public key", out.public_key()},
                           {"signature", out.signature()},
                           {"saved to", inv.Get("out")}});
    if (!file) {
      inv.out().Note(
          "keep it outside the system: `smpctl checkpoint create --out=FILE` saves it "
          "for `smpctl checkpoint verify --file=FILE`");
    }
  });
  return absl::OkStatus();
}

absl::Status CheckpointVerify(Invocation& inv) {
  std::stringstream text;
  if (inv.Get("file") == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(inv.Get("file"));
    if (!in) return LocalError(absl::StrCat("cannot read ", inv.Get("file")));
    text << in.rdbuf();
  }
  cv1::VerifyCheckpointRequest req;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), req.mutable_checkpoint()).ok()) {
    return UsageError(absl::StrCat("--file: ", inv.Get("file"),
                                   " does not hold a checkpoint (JSON from checkpoint create)"));
  }
  ASSIGN_OR_RETURN(cv1::VerifyCheckpointResponse resp, RPC(VerifyCheckpoint, req));
  Show(inv, resp, [&] {
    inv.out().Line(resp.valid() ? absl::StrCat("checkpoint valid: the log still holds entry ",
                                               req.checkpoint().count(), " as signed")
                                : absl::StrCat("checkpoint NOT valid: ", resp.problem()));
  });
  if (!resp.valid()) {
    return absl::DataLossError(absl::StrCat("checkpoint does not verify: ", resp.problem()));
  }
  return absl::OkStatus();
}

void PrintRetention(Invocation& inv, const cv1::RetentionPolicy& p) {
  Show(inv, p, [&] {
    inv.out().Print(
        Fields{{"clinic", p.clinic_id()},
               {"jurisdiction", p.jurisdiction()},
               {"client records", absl::StrCat(p.client_records_years(), " years")},
               {"training records", absl::StrCat(p.training_records_years(), " years")},
               {"documentation", absl::StrCat(p.documentation_years(), " years")},
               {"destroy questionnaires",
                p.destroy_health_questionnaire_after_years()
                    ? absl::StrCat("after ", p.destroy_health_questionnaire_after_years(), " years")
                    : "never"},
               {"time zone", p.time_zone().empty() ? "UTC (not set)" : p.time_zone()}});
  });
}

absl::Status RetentionGet(Invocation& inv) {
  cv1::GetRetentionPolicyRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(cv1::RetentionPolicy out, RPC(GetRetentionPolicy, req));
  PrintRetention(inv, out);
  return absl::OkStatus();
}

absl::Status RetentionSet(Invocation& inv) {
  ASSIGN_OR_RETURN(int64_t client, inv.Int("client_years", 2, 5, 0));
  ASSIGN_OR_RETURN(int64_t training, inv.Int("training_years", 1, 100, 0));
  ASSIGN_OR_RETURN(int64_t documentation, inv.Int("documentation_years", 1, 100, 0));
  ASSIGN_OR_RETURN(int64_t destroy, inv.Int("destroy_questionnaires_after", 0, 100, -1));
  cv1::GetRetentionPolicyRequest get;
  get.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(cv1::RetentionPolicy p, RPC(GetRetentionPolicy, get));
  p.set_clinic_id(get.clinic_id());
  if (inv.Has("jurisdiction")) p.set_jurisdiction(inv.Get("jurisdiction"));
  if (client) p.set_client_records_years(static_cast<int32_t>(client));
  if (training) p.set_training_records_years(static_cast<int32_t>(training));
  if (documentation) p.set_documentation_years(static_cast<int32_t>(documentation));
  if (destroy >= 0) p.set_destroy_health_questionnaire_after_years(static_cast<int32_t>(destroy));
  if (inv.Has("time_zone")) p.set_time_zone(inv.Get("time_zone"));
  cv1::SetRetentionPolicyRequest req;
  req.set_request_id(inv.client().NewRequestId());
  *req.mutable_policy() = p;
  ASSIGN_OR_RETURN(cv1::RetentionPolicy out, RPC(SetRetentionPolicy, req));
  PrintRetention(inv, out);
  return absl::OkStatus();
}

absl::Status RetentionPurge(Invocation& inv) {
  cv1::RunRetentionPurgeRequest req;
  req.set_request_id(inv.client().NewRequestId());
  ASSIGN_OR_RETURN(cv1::RunRetentionPurgeResponse resp, RPC(RunRetentionPurge, req));
  Show(inv, resp, [&] {
    inv.out().Line(absl::StrCat(resp.screenings_destroyed(),
                                " health questionnaire(s) destroyed, each with an audit entry"));
  });
  return absl::OkStatus();
}

}  // namespace

void AddComplianceCommands(Registry& r) {
  const Service s = Service::kCompliance;
  const std::vector<FlagSpec> validity = {Req("valid_from", "DATE", "first valid day (inclusive)"),
                                          Req("valid_until", "DATE", "last valid day (inclusive)")};
  auto with = [](std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<FlagSpec> period = {
      Rep("clinic", "ID", "a clinic to cover (default: every clinic in your scope)"),
      Req("from", "DATE", "first clinic-local day of the period"),
      Req("to", "DATE", "last day (inclusive; at most 366 days)")};

  r.Add({{"credential", "record"},
         s,
         "record a practitioner's credential (admin)",
         "",
         false,
         with({Req("practitioner", "ID", "the practitioner (staff id)"),
               Req("kind", "KIND",
                   "smp_certification, bloodborne_pathogen_training or body_art_license"),
               Req("issuer", "TEXT", "who issued it"),
               Opt("number", "TEXT", "certificate or licence number"),
               Opt("document", "REF", "where the scanned document is kept"),
               Opt("training_summary", "TEXT", "training: content summary"),
               Opt("trainer", "NAME", "training: who trained"),
               Opt("trainer_qualification", "TEXT", "training: the trainer's qualification"),
               Opt("training_date", "DATE", "training: when")},
              validity),
         "",
         CredentialRecord});
  r.Add({{"credential", "list"},
         s,
         "a practitioner's credentials",
         "",
         false,
         WithPaging({Req("practitioner", "ID", "the practitioner")}),
         "",
         CredentialList});
  r.Add({{"permit", "record"},
         s,
         "record a clinic permit (admin)",
         "",
         false,
         with({Req("clinic", "ID", "the clinic"),
               Opt("kind", "KIND", "county_health (default) or other"),
               Req("issuer", "TEXT", "who issued it"), Req("number", "TEXT", "permit number"),
               Opt("document", "REF", "where the scanned document is kept")},
              validity),
         "",
         PermitRecord});
  r.Add({{"permit", "list"},
         s,
         "a clinic's permits",
         "",
         false,
         WithPaging({Req("clinic", "ID", "the clinic")}),
         "",
         PermitList});
  r.Add({{"consent", "record"},
         s,
         "record a patient's signed consent",
         "",
         false,
         {Req("patient", "ID", "the patient"), Req("clinic", "ID", "where it was signed"),
          Opt("kind", "KIND", "procedure (default) or photo_gallery"),
          Req("form_version", "TEXT", "version of the form, e.g. 2026-03"),
          Opt("signed", "TIME", "when signed (default now)")},
         "",
         ConsentRecord});
  r.Add({{"consent", "withdraw"},
         s,
         "record that a patient withdrew a consent",
         "ID",
         true,
         {Opt("at", "TIME", "when (RFC 3339; default now)")},
         "",
         ConsentWithdraw});
  r.Add({{"consent", "list"},
         s,
         "a patient's consents",
         "",
         false,
         WithPaging({Req("patient", "ID", "the patient")}),
         "",
         ConsentList});
  r.Add({{"screening", "record"},
         s,
         "record a contraindication screening",
         "",
         false,
         {Req("patient", "ID", "the patient"), Req("clinic", "ID", "where it was done"),
          Rep("finding", "FINDING",
              "a contraindication found: " + EnumChoices(cv1::Contraindication_descriptor()) +
                  " (none: clear)"),
          Opt("notes", "TEXT", "notes"), Opt("at", "TIME", "when screened (default now)")},
         "",
         ScreeningRecord});
  r.Add({{"screening", "override"},
         s,
         "a clinician's decision to proceed despite a finding",
         "ID",
         true,
         {Req("reason", "TEXT", "why treatment may proceed")},
         "",
         ScreeningOverride});
  r.Add({{"screening", "list"},
         s,
         "a patient's screenings",
         "",
         false,
         WithPaging({Req("patient", "ID", "the patient")}),
         "",
         ScreeningList});
  r.Add({{"incident", "report"},
         s,
         "report an adverse event or safety incident",
         "",
         false,
         {Req("kind", "KIND", EnumChoices(cv1::IncidentKind_descriptor())),
          Req("clinic", "ID", "the clinic"), Opt("patient", "ID", "the patient involved"),
          Opt("appointment", "ID", "the appointment it happened in"),
          Req("description", "TEXT", "what happened"),
          Opt("at", "TIME", "when it happened (default now)")},
         "",
         IncidentReport});
  r.Add({{"incident", "follow-up"},
         s,
         "add the follow-up taken on an incident",
         "ID",
         true,
         {Req("text", "TEXT", "what was done")},
         "",
         IncidentFollowUp});
  r.Add(
      {{"incident", "list"},
       s,
       "incidents of a period, every kind or those asked (auditor, admin)",
       "",
       false,
       WithPaging(with(period, {Rep("kind", "KIND", EnumChoices(cv1::IncidentKind_descriptor()))})),
       "Days are each clinic's local days. Example: smpctl incident list --from=2026-10-01 "
       "--to=2026-12-31 --kind=needle_reuse_attempt",
       IncidentList});
  r.Add({{"expiring"},
         s,
         "credentials and permits that expire soon",
         "",
         false,
         WithPaging({Opt("within", "DAYS", "horizon in days, 1..365 (default 30)"),
                     Rep("clinic", "ID", "only these clinics (default: your scope)")}),
         "",
         Expiring});
  r.Add({{"report", "generate"},
         s,
         "the auditor's report: summary of procedures and findings",
         "",
         false,
         period,
         "With --json, prints each streamed part (header, procedures, findings, incidents, "
         "summary) as one line.",
         ReportGenerate});
  r.Add({{"report", "export"},
         s,
         "export the auditor's report to a file (JSON or CSV)",
         "",
         false,
         with(period, {Req("format", "FORMAT", "json or csv"),
                       Req("out", "FILE", "where to write (atomically: temp file + rename)"),
                       Switch("progress",
                              "print progress on stderr even when it is not a "
                              "terminal")}),
         "Example: smpctl report export --format=csv --out=audit-2026-q1.csv --from=2026-01-01 "
         "--to=2026-03-31",
         ReportExport});
  r.Add({{"audit", "export"},
         s,
         "audit log entries as FHIR R4 AuditEvent JSON, one per line",
         "",
         false,
         {Opt("since", "SEQ", "entries after this sequence (default 0)"),
          Opt("page_size", "N", "at most N entries (default 500)"),
          Opt("out", "FILE", "write to FILE instead of standard output")},
         "",
         AuditExport});
  r.Add({{"audit", "list"},
         s,
         "audit log entries in order",
         "",
         false,
         {Opt("since", "SEQ", "entries after this sequence (default 0)"),
          Opt("page_size", "N", "at most N entries (default 500)")},
         "",
         AuditList});
  r.Add({{"audit", "verify"},
         s,
         "recompute the audit log's hash chain (exit 1 if broken)",
         "",
         false,
         {},
         "",
         AuditVerify});
  r.Add({{"checkpoint", "create"},
         s,
         "sign the audit log's head; keep the result elsewhere",
         "",
         false,
         {Opt("out", "FILE", "also save it (JSON) to FILE")},
         "",
         CheckpointCreate});
  r.Add({{"checkpoint", "verify"},
         s,
         "check a kept checkpoint against the log (exit 1 if not valid)",
         "",
         false,
         {Req("file", "FILE", "the checkpoint saved by checkpoint create (- for stdin)")},
         "",
         CheckpointVerify});
  r.Add({{"retention", "get"},
         s,
         "a clinic's retention rules",
         "",
         false,
         {Req("clinic", "ID", "the clinic")},
         "",
         RetentionGet});
  r.Add({{"retention", "set"},
         s,
         "change a clinic's retention rules (admin)",
         "",
         false,
         {Req("clinic", "ID", "the clinic"), Opt("jurisdiction", "TEXT", "e.g. US-CA-Los Angeles"),
          Opt("client_years", "N", "client records kept 2, 3 or 5 years"),
          Opt("training_years", "N", "training records kept N years"),
          Opt("documentation_years", "N", "other documentation kept N years"),
          Opt("destroy_questionnaires_after", "N",
              "destroy health questionnaires after N years (0: never)"),
          Opt("time_zone", "ZONE",
              "the clinic's IANA time zone: its local days for every compliance rule")},
         "",
         RetentionSet});
  r.Add({{"retention", "purge"},
         s,
         "run the retention purge now (admin)",
         "",
         false,
         {},
         "",
         RetentionPurge});
}

}  // namespace smp::smpctl
