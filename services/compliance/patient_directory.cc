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

absl::StatusOr<std::string> SchedulingPatientDirectory::ClinicOfPatient(
    const std::string& patient_id) {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(patient_id);
    if (it != cache_.end() && it->second.expires > now) return it->second.clinic_id;
  }
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
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[patient_id] = Cached{patient.preferred_clinic_id(), now + cache_ttl_};
  return patient.preferred_clinic_id();
}

}  // namespace smp::compliance
