#ifndef SMP_SERVICES_INVENTORY_APPOINTMENT_SOURCE_H_
#define SMP_SERVICES_INVENTORY_APPOINTMENT_SOURCE_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/peer/service_credentials.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"

namespace smp::inventory {

// A procedure appointment as inventory needs it (sample patch, treatment session, touch-up).
struct ProcedureAppointment {
  std::string appointment_id;
  std::string clinic_id;
  std::string patient_id;
  scheduling::v1::AppointmentType type = scheduling::v1::APPOINTMENT_TYPE_UNSPECIFIED;
  scheduling::v1::AppointmentStatus status = scheduling::v1::APPOINTMENT_STATUS_UNSPECIFIED;
  absl::Time start;
};

// Where an appointment takes place and whose it is. Neither ever changes (scheduling moves an
// appointment in time and between practitioners and chairs, never to another clinic or patient),
// so an answer may be kept for good.
struct AppointmentPlace {
  std::string appointment_id;
  std::string clinic_id;
  std::string patient_id;
};

// A page of a clinic's change feed at scheduling, reduced to what inventory keeps of it: the place
// of each appointment the page's changes name (in feed order, an appointment once per change).
struct PlacesPage {
  std::vector<AppointmentPlace> places;
  int64_t last_sequence = 0;  // the page's last change; `since` when the page is empty
  int64_t head_sequence = 0;  // the clinic's newest change when scheduling answered
};

// Reads a clinic's change feed (scheduling's ListChanges): the changes after `since`, at most
// `page_size`; UNAVAILABLE when scheduling cannot answer.
class AppointmentChanges {
 public:
  virtual ~AppointmentChanges() = default;
  virtual absl::StatusOr<PlacesPage> ListPlaces(const std::string& clinic_id, int64_t since,
                                                int page_size) = 0;
};

// How inventory learns of appointments, through scheduling's contract, their owner: the forecast
// and the daily reconciliation list a clinic's procedures; an issue to a procedure asks where its
// appointment is. UNAVAILABLE when scheduling is not configured or cannot answer: the callers then
// say so rather than guess.
class AppointmentSource {
 public:
  virtual ~AppointmentSource() = default;
  // Procedure appointments of `clinic_id` starting in [from, to), any status.
  virtual absl::StatusOr<std::vector<ProcedureAppointment>> ListProcedures(
      const std::string& clinic_id, absl::Time from, absl::Time to) = 0;
  // Where the appointment `appointment_id` (of any type and status) is; NOT_FOUND naming
  // `appointment_id` when scheduling has no such appointment.
  virtual absl::StatusOr<AppointmentPlace> PlaceAppointment(const std::string& appointment_id) = 0;
};

// Over gRPC: smp.scheduling.v1.SchedulingService/ListAppointments (paged), GetAppointment and
// ListChanges, with a deadline per call, authenticated as inventory's own service account.
class GrpcAppointmentSource final : public AppointmentSource, public AppointmentChanges {
 public:
  GrpcAppointmentSource(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                        absl::Duration deadline);
  absl::StatusOr<std::vector<ProcedureAppointment>> ListProcedures(const std::string& clinic_id,
                                                                   absl::Time from,
                                                                   absl::Time to) override;
  absl::StatusOr<AppointmentPlace> PlaceAppointment(const std::string& appointment_id) override;
  absl::StatusOr<PlacesPage> ListPlaces(const std::string& clinic_id, int64_t since,
                                        int page_size) override;

 private:
  std::unique_ptr<scheduling::v1::SchedulingService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

// When no --scheduling_address is configured: always UNAVAILABLE.
class UnconfiguredAppointmentSource final : public AppointmentSource {
 public:
  absl::StatusOr<std::vector<ProcedureAppointment>> ListProcedures(const std::string& clinic_id,
                                                                   absl::Time from,
                                                                   absl::Time to) override;
  absl::StatusOr<AppointmentPlace> PlaceAppointment(const std::string& appointment_id) override;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_APPOINTMENT_SOURCE_H_
