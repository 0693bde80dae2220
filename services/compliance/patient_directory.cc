#include "services/compliance/patient_directory.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"

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

std::optional<std::string> SchedulingPatientDirectory::Cached(const std::string& key,
                                                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(key);
  if (it != cache_.end() && it->second.expires > now) return it->second.clinic_id;
  return std::nullopt;
}

void SchedulingPatientDirectory::Remember(const std::string& key, const std::string& clinic_id,
                                          absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = CachedClinic{clinic_id, now + cache_ttl_};
}

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOfPatient(
    const std::string& patient_id) {
  const absl::Time now = clock_->Now();
  const std::string key = "patient:" + patient_id;
  if (std::optional<std::string> known = Cached(key, now)) return *known;
  sv1::GetPatientRequest request;
  request.set_id(patient_id);
  sv1::Patient patient;
  absl::Status status = CallPeer(*credentials_, deadline_, request, &patient,
                                 [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                                   return stub_->GetPatient(ctx, req, resp);
                                 });
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status)) {
    return absl::NotFoundError(absl::StrCat("scheduling knows no patient ", patient_id));
  }
  if (!status.ok()) {
    // Down, slow or refusing compliance's credential: there is no answer to judge the scope by.
    return absl::UnavailableError(absl::StrCat("scheduling cannot say which clinic patient ",
                                               patient_id, " belongs to (", status.message(),
                                               "); nothing was recorded, retry later"));
  }
  Remember(key, patient.preferred_clinic_id(), now);
  return patient.preferred_clinic_id();
}

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOfAppointment(
    const std::string& appointment_id) {
  const absl::Time now = clock_->Now();
  const std::string key = "appointment:" + appointment_id;
  if (std::optional<std::string> known = Cached(key, now)) return *known;
  sv1::GetAppointmentRequest request;
  request.set_id(appointment_id);
  sv1::Appointment appointment;
  absl::Status status = CallPeer(*credentials_, deadline_, request, &appointment,
                                 [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                                   return stub_->GetAppointment(ctx, req, resp);
                                 });
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status)) {
    return absl::NotFoundError(absl::StrCat("scheduling knows no appointment ", appointment_id));
  }
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("scheduling cannot say which clinic appointment ",
                                               appointment_id, " belongs to (", status.message(),
                                               "); nothing was recorded, retry later"));
  }
  Remember(key, appointment.clinic_id(), now);
  return appointment.clinic_id();
}

}  // namespace smp::compliance
