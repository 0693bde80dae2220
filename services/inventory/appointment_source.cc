#include "services/inventory/appointment_source.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/util/proto_time.h"

namespace smp::inventory {
namespace {

namespace sv1 = ::smp::scheduling::v1;

// ListAppointments takes at most 92 days per call.
constexpr absl::Duration kMaxSpan = absl::Hours(24 * 90);

bool IsProcedure(sv1::AppointmentType type) {
  return type == sv1::SAMPLE_PATCH || type == sv1::TREATMENT_SESSION || type == sv1::TOUCH_UP;
}

}  // namespace

GrpcAppointmentSource::GrpcAppointmentSource(std::shared_ptr<grpc::Channel> channel,
                                             ServiceCredentials* credentials,
                                             absl::Duration deadline)
    : stub_(sv1::SchedulingService::NewStub(std::move(channel))),
      credentials_(credentials),
      deadline_(deadline) {}

absl::StatusOr<std::vector<ProcedureAppointment>> GrpcAppointmentSource::ListProcedures(
    const std::string& clinic_id, absl::Time from, absl::Time to) {
  std::vector<ProcedureAppointment> out;
  for (absl::Time start = from; start < to; start += kMaxSpan) {
    sv1::ListAppointmentsRequest request;
    request.set_clinic_id(clinic_id);
    *request.mutable_period()->mutable_start_time() = ToProtoTimestamp(start);
    *request.mutable_period()->mutable_end_time() =
        ToProtoTimestamp(std::min(to, start + kMaxSpan));
    request.set_page_size(500);
    do {
      grpc::ClientContext context;
      SetTimeout(context, deadline_);
      if (absl::Status auth = credentials_->Authorize(context); !auth.ok()) {
        return absl::UnavailableError(absl::StrCat("scheduling cannot be asked (", auth.message(),
                                                   "); booked procedures are unknown"));
      }
      sv1::ListAppointmentsResponse response;
      grpc::Status status = stub_->ListAppointments(&context, request, &response);
      credentials_->Observe(status);
      if (!status.ok()) {
        // Down, slow or refusing our credential: either way there is no answer to build on now.
        return absl::UnavailableError(
            absl::StrCat("scheduling cannot answer (", grpc::StatusCode(status.error_code()), ": ",
                         status.error_message(), "); booked procedures are unknown"));
      }
      for (const sv1::Appointment& a : response.appointments()) {
        if (!IsProcedure(a.type())) continue;
        out.push_back(ProcedureAppointment{a.id(), a.clinic_id(), a.patient_id(), a.type(),
                                           a.status(), FromProtoTimestamp(a.start_time())});
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
  }
  return out;
}

absl::StatusOr<AppointmentPlace> GrpcAppointmentSource::PlaceAppointment(
    const std::string& appointment_id) {
  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  if (absl::Status auth = credentials_->Authorize(context); !auth.ok()) {
    return absl::UnavailableError(absl::StrCat("scheduling cannot be asked (", auth.message(),
                                               "); the appointment cannot be verified"));
  }
  sv1::GetAppointmentRequest request;
  request.set_id(appointment_id);
  sv1::Appointment a;
  grpc::Status status = stub_->GetAppointment(&context, request, &a);
  credentials_->Observe(status);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(
        absl::StrCat("appointment_id: scheduling has no appointment ", appointment_id));
  }
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "scheduling cannot answer (", grpc::StatusCode(status.error_code()), ": ",
        status.error_message(), "); the appointment cannot be verified, nothing was issued"));
  }
  return AppointmentPlace{a.id(), a.clinic_id(), a.patient_id()};
}

absl::StatusOr<PlacesPage> GrpcAppointmentSource::ListPlaces(const std::string& clinic_id,
                                                             int64_t since, int page_size) {
  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  if (absl::Status auth = credentials_->Authorize(context); !auth.ok()) {
    return absl::UnavailableError(
        absl::StrCat("scheduling cannot be asked (", auth.message(), ") for its change feed"));
  }
  sv1::ListChangesRequest request;
  request.set_clinic_id(clinic_id);
  request.set_since_sequence(since);
  request.set_page_size(page_size);
  sv1::ListChangesResponse response;
  grpc::Status status = stub_->ListChanges(&context, request, &response);
  credentials_->Observe(status);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("scheduling cannot answer for the change feed of clinic ", clinic_id, " (",
                     grpc::StatusCode(status.error_code()), ": ", status.error_message(), ")"));
  }
  PlacesPage page;
  page.last_sequence = since;
  page.head_sequence = response.head_sequence();
  page.places.reserve(response.changes_size());
  for (const sv1::Change& change : response.changes()) {
    const sv1::Appointment& a = change.appointment();
    if (!a.id().empty())
      page.places.push_back(AppointmentPlace{a.id(), a.clinic_id(), a.patient_id()});
    page.last_sequence = change.sequence();
  }
  return page;
}

absl::StatusOr<AppointmentPlace> UnconfiguredAppointmentSource::PlaceAppointment(
    const std::string&) {
  return absl::UnavailableError(
      "scheduling is not configured (--scheduling_address): the appointment's clinic cannot be "
      "verified, so nothing is issued");
}

absl::StatusOr<std::vector<ProcedureAppointment>> UnconfiguredAppointmentSource::ListProcedures(
    const std::string&, absl::Time, absl::Time) {
  return absl::UnavailableError(
      "scheduling is not configured (--scheduling_address): booked procedures are unknown, so "
      "there is no forecast or reconciliation");
}

}  // namespace smp::inventory
