#ifndef SMP_SERVICES_COMPLIANCE_EXPORTS_H_
#define SMP_SERVICES_COMPLIANCE_EXPORTS_H_

// File formats for auditors' own tools. Pure functions.

#include <string>

#include "absl/strings/string_view.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

// An audit entry as a FHIR R4 AuditEvent resource (JSON): type "rest", action C/R/U/D/E, recorded,
// outcome 0 (success) or 4 (a refused attempt), agent (who, roles), source (the compliance
// service), entity (what, with the method and detail).
std::string ToFhirAuditEvent(const v1::AuditEntry& entry);

// Streams a report as CSV: the column line first, then one line per report part.
class CsvReportWriter {
 public:
  static std::string ColumnLine();
  std::string Line(const v1::ReportPart& part) const;
};

// Streams a report as one JSON array of ReportPart objects: "[", parts separated by ",", "]".
class JsonReportWriter {
 public:
  std::string Open() const { return "["; }
  std::string Part(const v1::ReportPart& part);
  std::string Close() const { return "]\n"; }

 private:
  bool first_ = true;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_EXPORTS_H_
