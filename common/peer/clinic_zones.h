#ifndef SMP_COMMON_PEER_CLINIC_ZONES_H_
#define SMP_COMMON_PEER_CLINIC_ZONES_H_

// A clinic's IANA time zone has one source: identity (Clinic.time_zone, set by CreateClinic and
// UpdateClinic). The services that keep clinic-local calendars (scheduling, inventory) read it from
// identity as their service account instead of an operator entering it a second time:
//
//   - when a clinic is set up or its settings change, the service asks identity for the zone;
//   - a refresh task (every --clinic_zone_refresh) lists identity's clinics and writes each changed
//     zone into the service's own database, where every operation reads it (no peer call on the
//     hot path);
//   - that stored copy is the last known zone: while identity cannot answer, the service keeps
//     using it, and the refresh catches up when identity is back.
//
// ResolveClinicZone is the rule that decides which zone a change stores.

#include <grpcpp/channel.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/peer/service_credentials.h"

namespace smp {

// One clinic as identity lists it.
struct ClinicZone {
  std::string clinic_id;
  std::string time_zone;
};

// Where a service asks for clinics' zones.
class ClinicZoneSource {
 public:
  virtual ~ClinicZoneSource() = default;
  // The clinic's zone at identity. NOT_FOUND when identity has no such clinic; UNAVAILABLE (or
  // UNAUTHENTICATED, DEADLINE_EXCEEDED) when it cannot answer now.
  virtual absl::StatusOr<std::string> ZoneOf(absl::string_view clinic_id) = 0;
  // Every clinic's zone, for the refresh; the same errors.
  virtual absl::StatusOr<std::vector<ClinicZone>> AllZones() = 0;
};

// Asks identity over `channel` as the service account, each call with `deadline`.
class IdentityClinicZones final : public ClinicZoneSource {
 public:
  // `credentials` must outlive this.
  IdentityClinicZones(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                      absl::Duration deadline);
  absl::StatusOr<std::string> ZoneOf(absl::string_view clinic_id) override;
  absl::StatusOr<std::vector<ClinicZone>> AllZones() override;

 private:
  std::unique_ptr<identity::v1::IdentityService::Stub> stub_;
  ServiceCredentials* credentials_;
  const absl::Duration deadline_;
};

// The zone a change of a clinic's settings stores. `field` names the request's zone field,
// `requested` is what the request carries ("" when it leaves it to identity), `from_identity`
// what identity answered and `last_known` the zone the service stored before, if any:
//   - identity answered: its zone; a different non-empty `requested` is INVALID_ARGUMENT naming
//     `field` (the zone is changed at identity, UpdateClinic);
//   - identity has no such clinic: INVALID_ARGUMENT naming `clinic_field`;
//   - identity cannot answer: `last_known`, else `requested` (a valid IANA zone, kept until
//     identity answers), else UNAVAILABLE saying so.
absl::StatusOr<std::string> ResolveClinicZone(absl::string_view clinic_field,
                                              absl::string_view field, absl::string_view requested,
                                              const absl::StatusOr<std::string>& from_identity,
                                              const std::optional<std::string>& last_known);

// The source the flags configure: identity at --identity_address with `credentials`, each call
// with --clinic_zone_deadline.
absl::StatusOr<std::unique_ptr<ClinicZoneSource>> ClinicZonesFromFlags(
    ServiceCredentials* credentials);
// --clinic_zone_refresh: how often the stored zones are compared with identity's.
absl::Duration ClinicZoneRefreshFromFlags();

}  // namespace smp

#endif  // SMP_COMMON_PEER_CLINIC_ZONES_H_
