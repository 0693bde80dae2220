#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_

#include <functional>
#include <string>

#include "common/auth/authenticator.h"
#include "common/db/database.h"
#include "common/rpc/callback_unary.h"
#include "common/rpc/encoded_unary.h"
#include "common/rpc/frame.h"
#include "common/rpc/stream_guard.h"
#include "common/util/clock.h"
#include "services/scheduling/appointment_book.h"
#include "services/scheduling/appointments.h"
#include "services/scheduling/change_feed.h"
#include "services/scheduling/change_notifier.h"
#include "services/scheduling/clinic_calendar_cache.h"
#include "services/scheduling/clinic_resources.h"
#include "services/scheduling/compliance_gate.h"
#include "services/scheduling/patients.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/slot_rules_cache.h"
#include "services/scheduling/supply_issuer.h"
#include "services/scheduling/treatment_plans.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"

namespace smp::scheduling {

struct SchedulingDeps {
  Database* db;
  Authenticator* authenticator;
  ComplianceGate* compliance;
  SupplyIssuer* supplies;
  ChangeNotifier* notifier;
  const Clock* clock;
  // How often a WatchChanges stream looks at the database for changes other replicas committed.
  absl::Duration watch_poll_interval = absl::Seconds(1);
  // Called after a change that put an event in the outbox has committed (wakes the dispatcher).
  std::function<void()> on_event_committed;
  // Caps and session re-checks of WatchChanges streams (main: StreamLimitsFromFlags()).
  StreamLimits streams;
  // Identity, the one source of clinics' time zones; nullptr: none (the stored zones stay).
  ClinicZoneSource* zones = nullptr;
};

// The gRPC overrides of smp.scheduling.v1.SchedulingService: each runs one operation of a unit
// (patients, clinic_resources, treatment_plans, appointments, change_feed) in the RpcFrame, which
// authorises the caller for the method and maps the operation's status at the edge. The branch
// sync RPCs are served raw on gRPC's callback API from the feed's stored encodings: ListChanges
// through EncodedUnary (a page is the stored changes framed as the response, never parsed and
// serialised again), WatchChanges through WatchStreams (open watches hold no server thread; each
// message is a stored change as it is). FindAvailability is served raw through EncodedUnary too:
// its page of slots is encoded once without a message per slot (slot_encoding.h). Every other
// method is on the callback API too, through CallbackUnary (callback_unary.h): one API per server.
class SchedulingServiceImpl final
    : public v1::SchedulingService::WithRawCallbackMethod_FindAvailability<
          v1::SchedulingService::WithRawCallbackMethod_ListChanges<
              v1::SchedulingService::WithRawCallbackMethod_WatchChanges<
                  v1::SchedulingService::CallbackService>>> {
 public:
  explicit SchedulingServiceImpl(SchedulingDeps deps);

  // Ends WatchChanges streams (UNAVAILABLE: resume later) so that a drain does not wait for them.
  // main.cc calls it on SIGTERM before shutting the server down. Idempotent.
  void StopWatches();

  // Cancels held appointments whose hold has lapsed by the clock's now (AppointmentBook's
  // SweepLapsedHolds). Returns how many it cancelled. main.cc runs it every few seconds.
  absl::StatusOr<int> SweepLapsedHolds();
  // Updates stored clinic time zones that identity has changed; how many. main.cc runs it every
  // --clinic_zone_refresh.
  absl::StatusOr<int> RefreshClinicZones();

  grpc::ServerUnaryReactor* CreatePatient(grpc::CallbackServerContext*,
                                          const v1::CreatePatientRequest*, v1::Patient*) override;
  grpc::ServerUnaryReactor* GetPatient(grpc::CallbackServerContext*, const v1::GetPatientRequest*,
                                       v1::Patient*) override;
  grpc::ServerUnaryReactor* UpdatePatient(grpc::CallbackServerContext*,
                                          const v1::UpdatePatientRequest*, v1::Patient*) override;
  grpc::ServerUnaryReactor* SearchPatients(grpc::CallbackServerContext*,
                                           const v1::SearchPatientsRequest*,
                                           v1::SearchPatientsResponse*) override;

  grpc::ServerUnaryReactor* GetClinicSchedule(grpc::CallbackServerContext*,
                                              const v1::GetClinicScheduleRequest*,
                                              v1::ClinicSchedule*) override;
  grpc::ServerUnaryReactor* UpdateClinicSchedule(grpc::CallbackServerContext*,
                                                 const v1::UpdateClinicScheduleRequest*,
                                                 v1::ClinicSchedule*) override;
  grpc::ServerUnaryReactor* CreateChair(grpc::CallbackServerContext*, const v1::CreateChairRequest*,
                                        v1::Chair*) override;
  grpc::ServerUnaryReactor* ListChairs(grpc::CallbackServerContext*, const v1::ListChairsRequest*,
                                       v1::ListChairsResponse*) override;
  grpc::ServerUnaryReactor* UpdateChair(grpc::CallbackServerContext*, const v1::UpdateChairRequest*,
                                        v1::Chair*) override;
  grpc::ServerUnaryReactor* SetWorkingHours(grpc::CallbackServerContext*,
                                            const v1::SetWorkingHoursRequest*,
                                            v1::WorkingHours*) override;
  grpc::ServerUnaryReactor* GetWorkingHours(grpc::CallbackServerContext*,
                                            const v1::GetWorkingHoursRequest*,
                                            v1::WorkingHours*) override;
  grpc::ServerUnaryReactor* ListWorkingHours(grpc::CallbackServerContext*,
                                             const v1::ListWorkingHoursRequest*,
                                             v1::ListWorkingHoursResponse*) override;
  grpc::ServerUnaryReactor* CreateScheduleException(grpc::CallbackServerContext*,
                                                    const v1::CreateScheduleExceptionRequest*,
                                                    v1::ScheduleException*) override;
  grpc::ServerUnaryReactor* ListScheduleExceptions(grpc::CallbackServerContext*,
                                                   const v1::ListScheduleExceptionsRequest*,
                                                   v1::ListScheduleExceptionsResponse*) override;
  grpc::ServerUnaryReactor* DeleteScheduleException(grpc::CallbackServerContext*,
                                                    const v1::DeleteScheduleExceptionRequest*,
                                                    v1::DeleteScheduleExceptionResponse*) override;

  grpc::ServerUnaryReactor* CreateTreatmentPlan(grpc::CallbackServerContext*,
                                                const v1::CreateTreatmentPlanRequest*,
                                                v1::TreatmentPlan*) override;
  grpc::ServerUnaryReactor* GetTreatmentPlan(grpc::CallbackServerContext*,
                                             const v1::GetTreatmentPlanRequest*,
                                             v1::TreatmentPlan*) override;
  grpc::ServerUnaryReactor* ListTreatmentPlans(grpc::CallbackServerContext*,
                                               const v1::ListTreatmentPlansRequest*,
                                               v1::ListTreatmentPlansResponse*) override;
  grpc::ServerUnaryReactor* CancelTreatmentPlan(grpc::CallbackServerContext*,
                                                const v1::CancelTreatmentPlanRequest*,
                                                v1::TreatmentPlan*) override;

  // Raw: a FindAvailabilityRequest, and the response encoded by the operation (slot_encoding.h).
  grpc::ServerUnaryReactor* FindAvailability(grpc::CallbackServerContext*, const grpc::ByteBuffer*,
                                             grpc::ByteBuffer*) override;
  grpc::ServerUnaryReactor* BookAppointment(grpc::CallbackServerContext*,
                                            const v1::BookAppointmentRequest*,
                                            v1::Appointment*) override;
  grpc::ServerUnaryReactor* ConfirmAppointment(grpc::CallbackServerContext*,
                                               const v1::ConfirmAppointmentRequest*,
                                               v1::Appointment*) override;
  grpc::ServerUnaryReactor* RescheduleAppointment(grpc::CallbackServerContext*,
                                                  const v1::RescheduleAppointmentRequest*,
                                                  v1::Appointment*) override;
  grpc::ServerUnaryReactor* CancelAppointment(grpc::CallbackServerContext*,
                                              const v1::CancelAppointmentRequest*,
                                              v1::Appointment*) override;
  grpc::ServerUnaryReactor* CheckInAppointment(grpc::CallbackServerContext*,
                                               const v1::CheckInAppointmentRequest*,
                                               v1::Appointment*) override;
  grpc::ServerUnaryReactor* StartAppointment(grpc::CallbackServerContext*,
                                             const v1::StartAppointmentRequest*,
                                             v1::Appointment*) override;
  grpc::ServerUnaryReactor* CompleteAppointment(grpc::CallbackServerContext*,
                                                const v1::CompleteAppointmentRequest*,
                                                v1::CompleteAppointmentResponse*) override;
  grpc::ServerUnaryReactor* MarkNoShow(grpc::CallbackServerContext*, const v1::MarkNoShowRequest*,
                                       v1::Appointment*) override;
  grpc::ServerUnaryReactor* StopAppointment(grpc::CallbackServerContext*,
                                            const v1::StopAppointmentRequest*,
                                            v1::Appointment*) override;
  grpc::ServerUnaryReactor* GetAppointment(grpc::CallbackServerContext*,
                                           const v1::GetAppointmentRequest*,
                                           v1::Appointment*) override;
  grpc::ServerUnaryReactor* ListAppointments(grpc::CallbackServerContext*,
                                             const v1::ListAppointmentsRequest*,
                                             v1::ListAppointmentsResponse*) override;

  // Raw: the request and response as bytes (a ListChangesRequest, a ListChangesResponse).
  grpc::ServerUnaryReactor* ListChanges(grpc::CallbackServerContext*, const grpc::ByteBuffer*,
                                        grpc::ByteBuffer*) override;
  // Raw: the request is a WatchChangesRequest, each message a Change.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchChanges(grpc::CallbackServerContext*,
                                                           const grpc::ByteBuffer*) override;

 private:
  SchedulingDeps deps_;
  RpcFrame frame_;
  SchedulingStore store_;
  AppointmentBook book_;
  Patients patients_;
  ClinicResources resources_;
  TreatmentPlans plans_;
  ClinicCalendarCache calendars_{&store_};
  SlotRulesCache slot_rules_{&store_};
  Appointments appointments_;
  ChangeFeed feed_;
  WatchStreams streams_;
  EncodedUnary encoded_;
  CallbackUnary unary_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
