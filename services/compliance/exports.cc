#include "services/compliance/exports.h"

#include <google/protobuf/util/json_util.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/server/log.h"
#include "common/util/csv.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"

namespace smp::compliance {
namespace {

std::string Q(absl::string_view s) { return absl::StrCat("\"", JsonEscape(s), "\""); }

const char* FhirAction(v1::AuditAction action) {
  switch (action) {
    case v1::AUDIT_ACTION_CREATE:
      return "C";
    case v1::AUDIT_ACTION_READ:
      return "R";
    case v1::AUDIT_ACTION_UPDATE:
      return "U";
    case v1::AUDIT_ACTION_DELETE:
      return "D";
    default:
      return "E";  // execute: a refused attempt to do something
  }
}

}  // namespace

std::string ToFhirAuditEvent(const v1::AuditEntry& e) {
  std::vector<std::string> roles;
  for (const std::string& r : e.actor_roles())
    roles.push_back(absl::StrCat("{\"text\":", Q(r), "}"));
  const bool refused = e.action() == v1::AUDIT_ACTION_DENIED;
  return absl::StrCat(
      "{\"resourceType\":\"AuditEvent\",\"id\":", Q(absl::StrCat("smp-audit-", e.sequence())),
      ",\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/audit-event-type\","
      "\"code\":\"rest\",\"display\":\"RESTful Operation\"}",
      ",\"subtype\":[{\"display\":", Q(e.method()), "}]", ",\"action\":", Q(FhirAction(e.action())),
      ",\"recorded\":",
      Q(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromProtoTimestamp(e.time()),
                         absl::UTCTimeZone())),
      ",\"outcome\":", Q(refused ? "4" : "0"),
      refused ? absl::StrCat(",\"outcomeDesc\":", Q(e.detail())) : std::string(),
      ",\"agent\":[{\"who\":{\"identifier\":{\"system\":\"urn:smp:staff\",\"value\":",
      Q(e.actor_id()), "}},\"requestor\":true,\"role\":[", absl::StrJoin(roles, ","), "]}]",
      ",\"source\":{\"observer\":{\"display\":\"smp-compliance\"}}",
      ",\"entity\":[{\"what\":{\"identifier\":{\"value\":", Q(e.entity_id()), "}},\"type\":{",
      "\"display\":", Q(e.entity_type()),
      "},\"detail\":[{\"type\":\"hash\",\"valueString\":", Q(e.hash()), "}",
      e.detail().empty() || refused ? std::string()
                                    : absl::StrCat(",{\"type\":\"detail\","
                                                   "\"valueString\":",
                                                   Q(e.detail()), "}"),
      "]}]}");
}

std::string CsvReportWriter::ColumnLine() {
  return "record_type,clinic_id,procedure_id,appointment_id,patient_id,practitioner_id,"
         "performed_date,procedure_type,needles,pigments,finding_kind,detail,count\r\n";
}

std::string CsvReportWriter::Line(const v1::ReportPart& part) const {
  std::vector<std::string> f(13);
  if (part.has_header()) {
    const v1::ReportHeader& h = part.header();
    f[0] = "header";
    f[1] = absl::StrJoin(h.clinic_ids(), " ");
    f[6] = absl::StrCat(DayText(FromLocalDate(h.period().start_date())), "..",
                        DayText(FromLocalDate(h.period().end_date())));
    f[11] =
        absl::StrCat("audit log entries ", h.audit_log_count(), ", head ", h.audit_log_head_hash());
  } else if (part.has_procedure()) {
    const v1::ProcedureRecord& r = part.procedure();
    std::vector<std::string> needles, pigments;
    for (const auto& n : r.needles()) needles.push_back(absl::StrCat(n.lot(), "/", n.serial()));
    for (const auto& p : r.pigments()) pigments.push_back(absl::StrCat(p.shade(), "/", p.lot()));
    f = {"procedure",
         r.clinic_id(),
         r.id(),
         r.appointment_id(),
         r.patient_id(),
         r.practitioner_id(),
         DayText(FromLocalDate(r.performed_date())),
         std::string(ProcedureType_Name(r.procedure_type())),
         absl::StrJoin(needles, " "),
         absl::StrJoin(pigments, " "),
         "",
         "",
         ""};
  } else if (part.has_finding()) {
    const v1::Finding& x = part.finding();
    f[0] = "finding";
    f[1] = x.clinic_id();
    f[2] = x.procedure_id();
    f[3] = x.appointment_id();
    f[10] = v1::FindingKind_Name(x.kind());
    f[11] = x.detail();
  } else if (part.has_incident()) {
    const v1::Incident& i = part.incident();
    f[0] = "incident";
    f[1] = i.clinic_id();
    f[2] = i.id();
    f[3] = i.appointment_id();
    f[4] = i.patient_id();
    f[6] = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTimestamp(i.occurred_time()),
                            absl::UTCTimeZone());
    f[7] = v1::IncidentKind_Name(i.kind());
    f[11] = i.description();
  } else if (part.has_summary()) {
    std::string lines;
    for (const v1::FindingCount& c : part.summary().counts()) {
      absl::StrAppend(&lines, "summary,", CsvField(c.clinic_id()), ",,,,,,,,,",
                      v1::FindingKind_Name(c.kind()), ",,", c.count(), "\r\n");
    }
    absl::StrAppend(&lines, "summary,,,,,,,,,,,procedures ", part.summary().procedures(),
                    " findings ", part.summary().findings(), " incidents ",
                    part.summary().incidents(), ",\r\n");
    return lines;
  }
  std::vector<std::string> escaped;
  for (const std::string& v : f) escaped.push_back(CsvField(v));
  return absl::StrCat(absl::StrJoin(escaped, ","), "\r\n");
}

std::string JsonReportWriter::Part(const v1::ReportPart& part) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(part, &json, options);
  std::string out = first_ ? "\n" : ",\n";
  first_ = false;
  return out + json;
}

}  // namespace smp::compliance
