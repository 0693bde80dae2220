#include "services/inventory/compliance_deliverer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"

namespace smp::inventory {
namespace {

namespace cv1 = ::smp::compliance::v1;

// Compliance deduplicates on request_id: the event id.
template <typename Request>
void StampEventId(Request& request, const OutboxEvent& event) {
  request.set_request_id(event.id);
}

}  // namespace

ComplianceDeliverer::ComplianceDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(cv1::ComplianceService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status ComplianceDeliverer::Deliver(const OutboxEvent& event) {
  if (event.kind == kReportIncidentKind) {
    return DeliverEvent<cv1::ReportIncidentRequest, cv1::Incident>(
        event, *credentials_, deadline_, StampEventId<cv1::ReportIncidentRequest>,
        [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
          return stub_->ReportIncident(ctx, req, resp);
        });
  }
  if (event.kind == kRecordLotRecallKind) {
    return DeliverEvent<cv1::RecordLotRecallRequest, cv1::LotRecall>(
        event, *credentials_, deadline_, StampEventId<cv1::RecordLotRecallRequest>,
        [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
          return stub_->RecordLotRecall(ctx, req, resp);
        });
  }
  return absl::InvalidArgumentError(absl::StrCat("outbox event ", event.id, " has kind \"",
                                                 event.kind, "\", which inventory does not send"));
}

}  // namespace smp::inventory
