#include "services/scheduling/compliance_gate.h"

#include <grpcpp/client_context.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smp::scheduling {
namespace {

compliance::v1::ProcedureType ProcedureOf(v1::AppointmentType type) {
  switch (type) {
    case v1::SAMPLE_PATCH:
      return compliance::v1::PROCEDURE_TYPE_SAMPLE_PATCH;
    case v1::TREATMENT_SESSION:
      return compliance::v1::PROCEDURE_TYPE_TREATMENT_SESSION;
    case v1::TOUCH_UP:
      return compliance::v1::PROCEDURE_TYPE_TOUCH_UP;
    default:
      return compliance::v1::PROCEDURE_TYPE_CORRECTION;
  }
}

}  // namespace

GrpcComplianceGate::GrpcComplianceGate(std::shared_ptr<grpc::Channel> channel,
                                       std::string service_token, absl::Duration deadline)
    : stub_(compliance::v1::EligibilityService::NewStub(std::move(channel))),
      service_token_(std::move(service_token)),
      deadline_(deadline) {}

absl::Status GrpcComplianceGate::CheckAllowed(const EligibilityQuery& query) {
  compliance::v1::CheckEligibilityRequest request;
  request.set_patient_id(query.patient_id);
  request.set_practitioner_id(query.practitioner_id);
  request.set_clinic_id(query.clinic_id);
  request.mutable_date()->set_year(static_cast<int32_t>(query.date.year()));
  request.mutable_date()->set_month(query.date.month());
  request.mutable_date()->set_day(query.date.day());
  request.set_procedure_type(ProcedureOf(query.type));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline_)));
  if (!service_token_.empty()) context.AddMetadata("authorization", "Bearer " + service_token_);
  compliance::v1::CheckEligibilityResponse response;
  grpc::Status status = stub_->CheckEligibility(&context, request, &response);
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
