#ifndef SMP_SERVICES_SCHEDULING_CLINIC_RESOURCES_H_
#define SMP_SERVICES_SCHEDULING_CLINIC_RESOURCES_H_

// A clinic's bookable resources: its schedule (time zone, opening hours, booking settings), its
// chairs, its practitioners' working hours and one-off exceptions (leave, closures, extra shifts).
// Everything here is in the clinic scope of the clinic it belongs to.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/peer/clinic_zones.h"
#include "common/rpc/call.h"
#include "services/scheduling/scheduling_store.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

class ClinicResources {
 public:
  // `db`, `store` and `zones` (identity, the source of clinics' time zones; nullptr: none
  // configured, as if identity could not answer) must outlive the unit.
  ClinicResources(Database* db, const SchedulingStore* store, ClinicZoneSource* zones = nullptr)
      : db_(db), store_(store), zones_(zones) {}

  // NOT_FOUND while an admin has not set the clinic's schedule.
  absl::StatusOr<v1::ClinicSchedule> GetSchedule(const Call& call,
                                                 const v1::GetClinicScheduleRequest& req) const;
  // Creates (empty etag) or replaces the schedule, defaults filled in; ABORTED (STALE_ETAG). The
  // time zone is identity's (common/peer/clinic_zones.h ResolveClinicZone): schedule.time_zone
  // may be left empty, and one that differs from identity's is INVALID_ARGUMENT.
  absl::StatusOr<v1::ClinicSchedule> UpdateSchedule(
      const Call& call, const v1::UpdateClinicScheduleRequest& req) const;
  // Brings every stored schedule's time zone in line with identity's (the refresh task); the
  // number of schedules changed. Identity's error when it cannot answer (the stored zones stay).
  absl::StatusOr<int> RefreshZones(absl::Time now) const;

  // A chair of a clinic that has a schedule.
  absl::StatusOr<v1::Chair> CreateChair(const Call& call, const v1::CreateChairRequest& req) const;
  // One page of the clinic's chairs, by id.
  absl::StatusOr<v1::ListChairsResponse> ListChairs(const Call& call,
                                                    const v1::ListChairsRequest& req) const;
  // Renames or retires a chair (update_mask: name, active) at its current etag.
  absl::StatusOr<v1::Chair> UpdateChair(const Call& call, const v1::UpdateChairRequest& req) const;

  // Replaces a practitioner's weekly hours at a clinic (empty etag the first time).
  absl::StatusOr<v1::WorkingHours> SetWorkingHours(const Call& call,
                                                   const v1::SetWorkingHoursRequest& req) const;
  // A practitioner's hours at a clinic; an empty week when none are set.
  absl::StatusOr<v1::WorkingHours> GetWorkingHours(const Call& call,
                                                   const v1::GetWorkingHoursRequest& req) const;
  // One page of the clinic's working hours, by practitioner id.
  absl::StatusOr<v1::ListWorkingHoursResponse> ListWorkingHours(
      const Call& call, const v1::ListWorkingHoursRequest& req) const;

  // A leave, closure or extra shift, stored with its instants in the clinic's time zone.
  absl::StatusOr<v1::ScheduleException> CreateException(
      const Call& call, const v1::CreateScheduleExceptionRequest& req) const;
  // One page of the exceptions overlapping a period of local days (at most 366), by start.
  absl::StatusOr<v1::ListScheduleExceptionsResponse> ListExceptions(
      const Call& call, const v1::ListScheduleExceptionsRequest& req) const;
  // Removes an exception; idempotent by request_id (a retry answers OK, not NOT_FOUND).
  absl::StatusOr<v1::DeleteScheduleExceptionResponse> DeleteException(
      const Call& call, const v1::DeleteScheduleExceptionRequest& req) const;

 private:
  Database* db_;
  const SchedulingStore* store_;
  ClinicZoneSource* zones_;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_CLINIC_RESOURCES_H_
