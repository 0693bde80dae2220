#include "services/compliance/patient_directory.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"
#include "common/status/status_macros.h"

namespace smp::compliance {
namespace {

namespace sv1 = ::smp::scheduling::v1;

// Bounds the cache's memory; when full it starts again empty.
constexpr size_t kMaxCached = 100'000;

}  // namespace

SchedulingPatientDirectory::SchedulingPatientDirectory(std::shared_ptr<grpc::Channel> channel,
                                                       ServiceCredentials* credentials,
                                                       absl::Duration deadline,
                                                       absl::Duration cache_ttl, const Clock* clock)
    : stub_(sv1::SchedulingService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline),
      cache_ttl_(cache_ttl),
      clock_(clock) {}

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOf(
    absl::string_view what, const std::string& id,
    absl::FunctionRef<absl::StatusOr<std::string>()> ask) {
  const absl::Time now = clock_->Now();
  const std::string key = absl::StrCat(what, ":", id);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now) return it->second.clinic_id;
  }
  absl::StatusOr<std::string> clinic = ask();
  if (absl::IsNotFound(clinic.status()) || absl::IsInvalidArgument(clinic.status())) {
    return absl::NotFoundError(absl::StrCat("scheduling knows no ", what, " ", id));
  }
  if (!clinic.ok()) {
    // Down, slow or refusing compliance's credential: there is no answer to judge the scope by.
    return absl::UnavailableError(absl::StrCat("scheduling cannot say which clinic ", what, " ", id,
                                               " belongs to (", clinic.status().message(),
                                               "); nothing was recorded, retry later"));
  }
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = CachedClinic{*clinic, now + cache_ttl_};
  return clinic;
}

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOfPatient(
    const std::string& patient_id) {
  return ClinicOf("patient", patient_id, [&]() -> absl::StatusOr<std::string> {
    sv1::GetPatientRequest request;
    request.set_id(patient_id);
    sv1::Patient patient;
    RETURN_IF_ERROR(CallPeer(*credentials_, deadline_, request, &patient,
                             [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                               return stub_->GetPatient(ctx, req, resp);
                             }));
    return patient.preferred_clinic_id();
  });
}

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOfAppointment(
    const std::string& appointment_id) {
  return ClinicOf("appointment", appointment_id, [&]() -> absl::StatusOr<std::string> {
    sv1::GetAppointmentRequest request;
    request.set_id(appointment_id);
    sv1::Appointment appointment;
    RETURN_IF_ERROR(CallPeer(*credentials_, deadline_, request, &appointment,
                             [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                               return stub_->GetAppointment(ctx, req, resp);
                             }));
    return appointment.clinic_id();
  });
}

}  // namespace smp::compliance
