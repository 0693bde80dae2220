#include "services/scheduling/compliance_gate.h"

#include <grpcpp/client_context.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/peer/peer_call.h"
#include "common/status/error_details.h"
#include "common/util/proto_time.h"
#include "services/scheduling/procedure_record.h"

namespace smp::scheduling {
GrpcComplianceGate::GrpcComplianceGate(std::shared_ptr<grpc::Channel> channel,
                                       ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(compliance::v1::EligibilityService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::Status GrpcComplianceGate::CheckAllowed(const EligibilityQuery& query) {
  compliance::v1::CheckEligibilityRequest request;
  request.set_patient_id(query.patient_id);
  request.set_practitioner_id(query.practitioner_id);
  request.set_clinic_id(query.clinic_id);
  *request.mutable_date() = ToLocalDate(query.date);
  request.set_procedure_type(ComplianceProcedureType(query.type));
  *request.mutable_procedure_time() = ToProtoTimestamp(query.at);

  compliance::v1::CheckEligibilityResponse response;
  const absl::Status asked = CallPeer(*credentials_, deadline_, request, &response,
                                      [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                                        return stub_->CheckEligibility(ctx, req, resp);
                                      });
  if (!asked.ok()) {
    // Whatever went wrong on the way (down, slow, our credential refused), the booking cannot be
    // approved now; a retry later may succeed.
    return absl::UnavailableError(
        absl::StrCat("compliance gate cannot answer (", absl::StatusCodeToString(asked.code()),
                     ": ", asked.message(), "); procedures cannot be booked until it does"));
  }
  if (response.allowed()) return absl::OkStatus();
  std::vector<std::string> reasons;
  for (const auto& r : response.reasons()) {
    reasons.push_back(
        absl::StrCat(compliance::v1::IneligibilityCode_Name(r.code()), ": ", r.message()));
  }
  if (reasons.empty()) reasons.push_back("no reason given");
  // The first refusal's code names what must change (credential, permit, consent, screening).
  std::vector<std::pair<std::string, std::string>> metadata;
  if (!response.reasons().empty()) {
    metadata.emplace_back("code",
                          compliance::v1::IneligibilityCode_Name(response.reasons(0).code()));
  }
  return WithErrorInfo(
      absl::FailedPreconditionError(
          absl::StrCat("compliance does not allow this procedure: ", absl::StrJoin(reasons, "; "))),
      reason::kNotEligible, std::move(metadata));
}

absl::Status UnconfiguredComplianceGate::CheckAllowed(const EligibilityQuery&) {
  return absl::UnavailableError(
      "no compliance gate is configured (--compliance_address); procedures cannot be booked, "
      "consultations can");
}

}  // namespace smp::scheduling
