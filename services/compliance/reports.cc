#include "services/compliance/reports.h"

#include "common/status/status_macros.h"
#include "services/compliance/exports.h"
#include "services/compliance/report_builder.h"

namespace smp::compliance {

absl::Status Reports::GenerateReport(const Call& call, const v1::GenerateReportRequest& req,
                                     absl::FunctionRef<bool(const v1::ReportPart&)> emit) const {
  return BuildReport(
      *audit_, call, req, [&](const v1::ReportPart& part, bool) { return emit(part); }, limits_);
}

absl::Status Reports::StreamReport(
    const Call& call, const v1::GenerateReportRequest& req,
    absl::FunctionRef<bool(const v1::ReportPart&, bool end_of_page)> emit) const {
  return BuildReport(*audit_, call, req, emit, limits_);
}

absl::Status Reports::ExportReport(const Call& call, const v1::ExportReportRequest& req,
                                   absl::FunctionRef<bool(const v1::ExportChunk&)> write) const {
  if (req.format() != v1::EXPORT_FORMAT_JSON && req.format() != v1::EXPORT_FORMAT_CSV) {
    return absl::InvalidArgumentError("format: choose EXPORT_FORMAT_JSON or EXPORT_FORMAT_CSV");
  }
  const bool csv = req.format() == v1::EXPORT_FORMAT_CSV;
  CsvReportWriter csv_writer;
  JsonReportWriter json_writer;
  v1::ExportChunk chunk;
  // Parts are batched into chunks of about 64 KiB.
  auto flush = [&](bool force) {
    if (chunk.data().empty() || (!force && chunk.data().size() < (64u << 10))) return true;
    const bool ok = write(chunk);
    chunk.clear_data();
    return ok;
  };
  chunk.set_data(csv ? CsvReportWriter::ColumnLine() : json_writer.Open());
  RETURN_IF_ERROR(BuildReport(
      *audit_, call, req.report(),
      [&](const v1::ReportPart& part, bool) {
        if (part.has_procedure()) chunk.set_procedures_done(chunk.procedures_done() + 1);
        chunk.mutable_data()->append(csv ? csv_writer.Line(part) : json_writer.Part(part));
        return flush(false);
      },
      limits_));
  if (!csv) chunk.mutable_data()->append(json_writer.Close());
  if (!flush(true)) return absl::CancelledError("the client went away");
  return absl::OkStatus();
}

}  // namespace smp::compliance
