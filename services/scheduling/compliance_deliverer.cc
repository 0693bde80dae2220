#include "services/scheduling/compliance_deliverer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"

namespace smp::scheduling {

namespace cv1 = ::smp::compliance::v1;

ComplianceDeliverer::ComplianceDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(cv1::ComplianceService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status ComplianceDeliverer::Deliver(const OutboxEvent& event) {
  if (event.kind != kRecordProcedureKind) {
    return absl::InvalidArgumentError(
        absl::StrCat("outbox event ", event.id, " has kind \"", event.kind,
                     "\", which scheduling does not send compliance"));
  }
  return DeliverEvent<cv1::RecordProcedureRequest, cv1::ProcedureRecord>(
      event, *credentials_, deadline_,
      // Compliance deduplicates on request_id: the event id.
      [](cv1::RecordProcedureRequest& request, const OutboxEvent& e) {
        request.set_request_id(e.id);
      },
      [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
        return stub_->RecordProcedure(ctx, req, resp);
      });
}

}  // namespace smp::scheduling
