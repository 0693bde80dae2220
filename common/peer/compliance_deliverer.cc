#include "common/peer/compliance_deliverer.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

namespace cv1 = ::smp::compliance::v1;

template <typename Request>
absl::Status Parse(const OutboxEvent& event, Request& request) {
  if (!request.ParseFromString(event.payload)) {
    return absl::DataLossError(absl::StrCat("outbox event ", event.id, " (", event.kind,
                                            ") does not hold a ", Request::descriptor()->name()));
  }
  request.set_request_id(event.id);
  return absl::OkStatus();
}

}  // namespace

ComplianceDeliverer::ComplianceDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(cv1::ComplianceService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status ComplianceDeliverer::Deliver(const OutboxEvent& event) {
  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  grpc::Status status;
  if (event.kind == kRecordProcedureKind) {
    cv1::RecordProcedureRequest request;
    RETURN_IF_ERROR(Parse(event, request));
    RETURN_IF_ERROR(credentials_->Authorize(context));
    cv1::ProcedureRecord response;
    status = stub_->RecordProcedure(&context, request, &response);
  } else if (event.kind == kReportIncidentKind) {
    cv1::ReportIncidentRequest request;
    RETURN_IF_ERROR(Parse(event, request));
    RETURN_IF_ERROR(credentials_->Authorize(context));
    cv1::Incident response;
    status = stub_->ReportIncident(&context, request, &response);
  } else if (event.kind == kRecordLotRecallKind) {
    cv1::RecordLotRecallRequest request;
    RETURN_IF_ERROR(Parse(event, request));
    RETURN_IF_ERROR(credentials_->Authorize(context));
    cv1::LotRecall response;
    status = stub_->RecordLotRecall(&context, request, &response);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("outbox event ", event.id, " has kind \"",
                                                   event.kind,
                                                   "\", which compliance does not take"));
  }
  credentials_->Observe(status);
  if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) return absl::OkStatus();
  return FromGrpcStatus(status);
}

}  // namespace smp
