#include "services/scheduling/scheduling_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace smp::scheduling {
namespace {

// Threads that read ListChanges pages and answer FindAvailability (one SQLite read each, then the
// bytes are handed to gRPC): CPU-bound reads on the suite's 2-core machines, with a few more so one
// slow disk read does not hold every caller.
constexpr int kPageThreads = 4;
// Threads that run every other method: status changes and the other writes wait on the log's sync
// together (group commit), so more of them than cores; a call beyond them waits in the queue.
// Bookings wait on none of them (ServeAsync: answered from the database's completion thread).
constexpr int kUnaryThreads = 32;

}  // namespace

SchedulingServiceImpl::SchedulingServiceImpl(SchedulingDeps deps)
    : deps_(std::move(deps)),
      frame_(v1::SchedulingService::service_full_name(), deps_.authenticator, deps_.clock),
      book_(deps_.db, &store_, deps_.notifier, deps_.on_event_committed),
      patients_(deps_.db, &store_),
      resources_(deps_.db, &store_, deps_.zones),
      plans_(deps_.db, &store_),
      appointments_(deps_.db, &store_, &book_, deps_.compliance, deps_.supplies, &calendars_,
                    &slot_rules_),
      feed_(deps_.db, &store_),
      streams_(&frame_, deps_.streams),
      encoded_(&frame_, kPageThreads),
      unary_(kUnaryThreads) {
  // This process's commits wake the clinic's watchers at once; the poll finds other replicas'.
  // The feed first, so that the woken watches do not trust an empty read from before the commit.
  deps_.notifier->OnNotify([this](const std::string& clinic_id) {
    feed_.Committed(clinic_id);
    streams_.Wake(clinic_id);
  });
}

void SchedulingServiceImpl::StopWatches() {
  deps_.notifier->Stop();
  streams_.Stop();
}

absl::StatusOr<int> SchedulingServiceImpl::RefreshClinicZones() {
  return resources_.RefreshZones(deps_.clock->Now());
}

absl::StatusOr<int> SchedulingServiceImpl::SweepLapsedHolds() {
  return book_.SweepLapsedHolds(deps_.clock->Now());
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreatePatient(grpc::CallbackServerContext* ctx,
                                                               const v1::CreatePatientRequest* req,
                                                               v1::Patient* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CreatePatient", *req, out,
                        [&](const Call& call) { return patients_.Create(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetPatient(grpc::CallbackServerContext* ctx,
                                                            const v1::GetPatientRequest* req,
                                                            v1::Patient* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetPatient", *req, out,
                        [&](const Call& call) { return patients_.Get(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::UpdatePatient(grpc::CallbackServerContext* ctx,
                                                               const v1::UpdatePatientRequest* req,
                                                               v1::Patient* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "UpdatePatient", *req, out,
                        [&](const Call& call) { return patients_.Update(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::SearchPatients(
    grpc::CallbackServerContext* ctx, const v1::SearchPatientsRequest* req,
    v1::SearchPatientsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "SearchPatients", *req, out,
                        [&](const Call& call) { return patients_.Search(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetClinicSchedule(
    grpc::CallbackServerContext* ctx, const v1::GetClinicScheduleRequest* req,
    v1::ClinicSchedule* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetClinicSchedule", *req, out,
                        [&](const Call& call) { return resources_.GetSchedule(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::UpdateClinicSchedule(
    grpc::CallbackServerContext* ctx, const v1::UpdateClinicScheduleRequest* req,
    v1::ClinicSchedule* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "UpdateClinicSchedule", *req, out,
                        [&](const Call& call) { return resources_.UpdateSchedule(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreateChair(grpc::CallbackServerContext* ctx,
                                                             const v1::CreateChairRequest* req,
                                                             v1::Chair* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CreateChair", *req, out,
                        [&](const Call& call) { return resources_.CreateChair(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListChairs(grpc::CallbackServerContext* ctx,
                                                            const v1::ListChairsRequest* req,
                                                            v1::ListChairsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListChairs", *req, out,
                        [&](const Call& call) { return resources_.ListChairs(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::UpdateChair(grpc::CallbackServerContext* ctx,
                                                             const v1::UpdateChairRequest* req,
                                                             v1::Chair* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "UpdateChair", *req, out,
                        [&](const Call& call) { return resources_.UpdateChair(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::SetWorkingHours(
    grpc::CallbackServerContext* ctx, const v1::SetWorkingHoursRequest* req,
    v1::WorkingHours* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "SetWorkingHours", *req, out,
                        [&](const Call& call) { return resources_.SetWorkingHours(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetWorkingHours(
    grpc::CallbackServerContext* ctx, const v1::GetWorkingHoursRequest* req,
    v1::WorkingHours* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetWorkingHours", *req, out,
                        [&](const Call& call) { return resources_.GetWorkingHours(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListWorkingHours(
    grpc::CallbackServerContext* ctx, const v1::ListWorkingHoursRequest* req,
    v1::ListWorkingHoursResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListWorkingHours", *req, out,
                        [&](const Call& call) { return resources_.ListWorkingHours(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreateScheduleException(
    grpc::CallbackServerContext* ctx, const v1::CreateScheduleExceptionRequest* req,
    v1::ScheduleException* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CreateScheduleException", *req, out,
                        [&](const Call& call) { return resources_.CreateException(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListScheduleExceptions(
    grpc::CallbackServerContext* ctx, const v1::ListScheduleExceptionsRequest* req,
    v1::ListScheduleExceptionsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListScheduleExceptions", *req, out,
                        [&](const Call& call) { return resources_.ListExceptions(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::DeleteScheduleException(
    grpc::CallbackServerContext* ctx, const v1::DeleteScheduleExceptionRequest* req,
    v1::DeleteScheduleExceptionResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "DeleteScheduleException", *req, out,
                        [&](const Call& call) { return resources_.DeleteException(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreateTreatmentPlan(
    grpc::CallbackServerContext* ctx, const v1::CreateTreatmentPlanRequest* req,
    v1::TreatmentPlan* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CreateTreatmentPlan", *req, out,
                        [&](const Call& call) { return plans_.Create(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetTreatmentPlan(
    grpc::CallbackServerContext* ctx, const v1::GetTreatmentPlanRequest* req,
    v1::TreatmentPlan* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetTreatmentPlan", *req, out,
                        [&](const Call& call) { return plans_.Get(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListTreatmentPlans(
    grpc::CallbackServerContext* ctx, const v1::ListTreatmentPlansRequest* req,
    v1::ListTreatmentPlansResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListTreatmentPlans", *req, out,
                        [&](const Call& call) { return plans_.List(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CancelTreatmentPlan(
    grpc::CallbackServerContext* ctx, const v1::CancelTreatmentPlanRequest* req,
    v1::TreatmentPlan* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CancelTreatmentPlan", *req, out,
                        [&](const Call& call) { return plans_.Cancel(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::FindAvailability(grpc::CallbackServerContext* ctx,
                                                                  const grpc::ByteBuffer* req,
                                                                  grpc::ByteBuffer* out) {
  return encoded_.Serve<v1::FindAvailabilityRequest>(
      ctx, "FindAvailability", req, out,
      [this](const Call& call, const v1::FindAvailabilityRequest& request) {
        return appointments_.FindAvailabilityEncoded(call, request);
      },
      EncodedUnary::Dispatch::kInlineWhenIdle);  // mostly from the calendars in memory
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::BookAppointment(
    grpc::CallbackServerContext* ctx, const v1::BookAppointmentRequest* req, v1::Appointment* out) {
  return unary_.ServeAsync(ctx, [=, this](auto finish) {
    frame_.ServeAsync<v1::Appointment>(
        ctx, "BookAppointment", *req, out,
        [&](const Call& call, Answer<v1::Appointment> answer) {
          appointments_.BookAsync(call, *req, std::move(answer));
        },
        std::move(finish));
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ConfirmAppointment(
    grpc::CallbackServerContext* ctx, const v1::ConfirmAppointmentRequest* req,
    v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ConfirmAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Confirm(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::RescheduleAppointment(
    grpc::CallbackServerContext* ctx, const v1::RescheduleAppointmentRequest* req,
    v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "RescheduleAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Reschedule(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CancelAppointment(
    grpc::CallbackServerContext* ctx, const v1::CancelAppointmentRequest* req,
    v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CancelAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Cancel(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CheckInAppointment(
    grpc::CallbackServerContext* ctx, const v1::CheckInAppointmentRequest* req,
    v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CheckInAppointment", *req, out,
                        [&](const Call& call) { return appointments_.CheckIn(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::StartAppointment(
    grpc::CallbackServerContext* ctx, const v1::StartAppointmentRequest* req,
    v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "StartAppointment", *req, out,
                        [&](const Call& call) -> absl::StatusOr<v1::Appointment> {
                          // Supplies are issued as the technician: their token goes with the issue.
                          ASSIGN_OR_RETURN(std::string token, Authenticator::BearerToken(*ctx));
                          return appointments_.Start(call, *req, absl::StrCat("Bearer ", token));
                        });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::CompleteAppointment(
    grpc::CallbackServerContext* ctx, const v1::CompleteAppointmentRequest* req,
    v1::CompleteAppointmentResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CompleteAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Complete(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::MarkNoShow(grpc::CallbackServerContext* ctx,
                                                            const v1::MarkNoShowRequest* req,
                                                            v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "MarkNoShow", *req, out,
                        [&](const Call& call) { return appointments_.MarkNoShow(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::StopAppointment(
    grpc::CallbackServerContext* ctx, const v1::StopAppointmentRequest* req, v1::Appointment* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "StopAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Stop(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetAppointment(
    grpc::CallbackServerContext* ctx, const v1::GetAppointmentRequest* req, v1::Appointment* out) {
  return unary_.ServeRead(ctx, [=, this] {  // one row
    return frame_.Serve(ctx, "GetAppointment", *req, out,
                        [&](const Call& call) { return appointments_.Get(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListAppointments(
    grpc::CallbackServerContext* ctx, const v1::ListAppointmentsRequest* req,
    v1::ListAppointmentsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListAppointments", *req, out,
                        [&](const Call& call) { return appointments_.List(call, *req); });
  });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListChanges(grpc::CallbackServerContext* ctx,
                                                             const grpc::ByteBuffer* req,
                                                             grpc::ByteBuffer* out) {
  return encoded_.Serve<v1::ListChangesRequest>(
      ctx, "ListChanges", req, out,
      [this](const Call& call, const v1::ListChangesRequest& request) {
        return feed_.ListEncoded(call, request);
      });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SchedulingServiceImpl::WatchChanges(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req) {
  return streams_.Serve<grpc::ByteBuffer>(
      ctx, "WatchChanges", deps_.watch_poll_interval,
      [this, bytes = StringOf(*req)](
          const Call& call) -> absl::StatusOr<std::unique_ptr<WatchSource<grpc::ByteBuffer>>> {
        ASSIGN_OR_RETURN(auto request, ParseRequest<v1::WatchChangesRequest>(ByteBufferOf(bytes)));
        return feed_.OpenEncodedWatch(call, request);
      });
}

}  // namespace smp::scheduling
