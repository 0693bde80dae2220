#include "common/peer/clinic_zones.h"

#include <utility>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/peer/peer_call.h"
#include "common/peer/peer_channel.h"
#include "common/status/status_macros.h"
#include "common/util/validation.h"

ABSL_DECLARE_FLAG(std::string, identity_address);
ABSL_FLAG(absl::Duration, clinic_zone_refresh, absl::Minutes(1),
          "How often the clinics' time zones kept in this service's database are compared with "
          "identity's (the one source) and updated; while identity is down the last known zone "
          "stays in use.");
ABSL_FLAG(absl::Duration, clinic_zone_deadline, absl::Seconds(2),
          "Deadline of each question to identity about clinics' time zones.");

namespace smp {

IdentityClinicZones::IdentityClinicZones(std::shared_ptr<grpc::Channel> channel,
                                         ServiceCredentials* credentials, absl::Duration deadline)
    : stub_(identity::v1::IdentityService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::StatusOr<std::string> IdentityClinicZones::ZoneOf(absl::string_view clinic_id) {
  identity::v1::GetClinicRequest request;
  request.set_id(std::string(clinic_id));
  identity::v1::Clinic clinic;
  RETURN_IF_ERROR(CallPeer(*credentials_, deadline_, request, &clinic,
                           [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                             return stub_->GetClinic(ctx, req, resp);
                           }));
  return clinic.time_zone();
}

absl::StatusOr<std::vector<ClinicZone>> IdentityClinicZones::AllZones() {
  std::vector<ClinicZone> out;
  identity::v1::ListClinicsRequest request;
  request.set_page_size(500);
  do {
    identity::v1::ListClinicsResponse page;
    RETURN_IF_ERROR(CallPeer(*credentials_, deadline_, request, &page,
                             [&](grpc::ClientContext* ctx, const auto& req, auto* resp) {
                               return stub_->ListClinics(ctx, req, resp);
                             }));
    for (const identity::v1::Clinic& c : page.clinics()) out.push_back({c.id(), c.time_zone()});
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return out;
}

absl::StatusOr<std::string> ResolveClinicZone(absl::string_view clinic_field,
                                              absl::string_view field, absl::string_view requested,
                                              const absl::StatusOr<std::string>& from_identity,
                                              const std::optional<std::string>& last_known) {
  if (!requested.empty()) RETURN_IF_ERROR(ValidateTimeZone(field, requested).status());
  if (from_identity.ok()) {
    if (!requested.empty() && requested != *from_identity) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": identity has the clinic in ", *from_identity,
                       "; a clinic's time zone is set at identity (UpdateClinic) and read from "
                       "there: leave it empty"));
    }
    return *from_identity;
  }
  if (absl::IsNotFound(from_identity.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat(clinic_field, ": identity has no such clinic (create it there first)"));
  }
  if (last_known.has_value() && !last_known->empty()) return *last_known;
  if (!requested.empty()) return std::string(requested);
  return absl::UnavailableError(absl::StrCat(
      "the clinic's time zone comes from identity, which cannot answer now (",
      from_identity.status().message(), "); retry, or give ", field, " to use until it answers"));
}

absl::StatusOr<std::unique_ptr<ClinicZoneSource>> ClinicZonesFromFlags(
    ServiceCredentials* credentials) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakePeerChannel(absl::GetFlag(FLAGS_identity_address)));
  return std::make_unique<IdentityClinicZones>(std::move(channel), credentials,
                                               absl::GetFlag(FLAGS_clinic_zone_deadline));
}

absl::Duration ClinicZoneRefreshFromFlags() { return absl::GetFlag(FLAGS_clinic_zone_refresh); }

}  // namespace smp
