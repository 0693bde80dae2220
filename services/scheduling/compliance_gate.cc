#include "services/scheduling/compliance_gate.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  if (absl::Status auth = credentials_->Authorize(context); !auth.ok()) {
    return absl::UnavailableError(absl::StrCat("compliance gate cannot be asked (", auth.message(),
                                               "); procedures cannot be booked until it can"));
  }
  compliance::v1::CheckEligibilityResponse response;
  grpc::Status status = stub_->CheckEligibility(&context, request, &response);
  credentials_->Observe(status);
  if (!status.ok()) {
    // Whatever went wrong on the way (down, slow, our credential refused), the booking cannot be
    // approved now; a retry later may succeed.
    return absl::UnavailableError(
        absl::StrCat("compliance gate cannot answer (", grpc::StatusCode(status.error_code()), ": ",
                     status.error_message(), "); procedures cannot be booked until it does"));
  }
  if (response.allowed()) return absl::OkStatus();
  std::vector<std::string> reasons;
  for (const auto& r : response.reasons()) {
    reasons.push_back(
        absl::StrCat(compliance::v1::IneligibilityCode_Name(r.code()), ": ", r.message()));
  }
  if (reasons.empty()) reasons.push_back("no reason given");
  return absl::FailedPreconditionError(
      absl::StrCat("compliance does not allow this procedure: ", absl::StrJoin(reasons, "; ")));
}

absl::Status UnconfiguredComplianceGate::CheckAllowed(const EligibilityQuery&) {
  return absl::UnavailableError(
      "no compliance gate is configured (--compliance_address); procedures cannot be booked, "
      "consultations can");
}

}  // namespace smp::scheduling
