#include "services/scheduling/clinic_resources.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/local_date.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {
namespace {

constexpr int kMaxExceptionPeriodDays = 366;

// The version an etag names, or 0 for "" (the resource's first write).
absl::StatusOr<int64_t> VersionOrFirst(absl::string_view field, absl::string_view etag) {
  if (etag.empty()) return 0;
  return VersionFromEtag(field, etag);
}

}  // namespace

absl::StatusOr<v1::ClinicSchedule> ClinicResources::GetSchedule(
    const Call& call, const v1::GetClinicScheduleRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::ClinicSchedule out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> s,
                     store_->GetSchedule(txn, req.clinic_id()));
    if (!s.has_value()) {
      return absl::NotFoundError(absl::StrCat("clinic ", req.clinic_id(), " has no schedule yet"));
    }
    out = *std::move(s);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ClinicSchedule> ClinicResources::UpdateSchedule(
    const Call& call, const v1::UpdateClinicScheduleRequest& req) const {
  const std::string& clinic_id = req.schedule().clinic_id();
  RETURN_IF_ERROR(ValidateId("schedule.clinic_id", clinic_id));
  if (!req.schedule().time_zone().empty()) {
    RETURN_IF_ERROR(ValidateTimeZone("schedule.time_zone", req.schedule().time_zone()).status());
  }
  // Everything but the zone is checked before identity is asked (bad input changes nothing).
  v1::ClinicSchedule probe = req.schedule();
  probe.set_time_zone("UTC");
  RETURN_IF_ERROR(NormalizeSchedule(probe).status());
  RETURN_IF_ERROR(call.who.CheckClinic(clinic_id));
  ASSIGN_OR_RETURN(int64_t version, VersionOrFirst("schedule.etag", req.schedule().etag()));
  // Asked outside the write transaction: a slow identity holds no lock.
  const absl::StatusOr<std::string> from_identity =
      zones_ != nullptr ? zones_->ZoneOf(clinic_id)
                        : absl::UnavailableError("no identity is configured for time zones");
  return RunIdempotent<v1::ClinicSchedule>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::ClinicSchedule> {
        ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> current,
                         store_->GetSchedule(txn, clinic_id));
        std::optional<std::string> last_known;
        if (current.has_value()) last_known = current->time_zone();
        v1::ClinicSchedule wanted = req.schedule();
        ASSIGN_OR_RETURN(*wanted.mutable_time_zone(),
                         ResolveClinicZone("schedule.clinic_id", "schedule.time_zone",
                                           req.schedule().time_zone(), from_identity, last_known));
        ASSIGN_OR_RETURN(v1::ClinicSchedule schedule, NormalizeSchedule(wanted));
        return store_->PutSchedule(txn, schedule, version, call.now);
      });
}

absl::StatusOr<int> ClinicResources::RefreshZones(absl::Time now) const {
  if (zones_ == nullptr) return 0;
  ASSIGN_OR_RETURN(std::vector<ClinicZone> all, zones_->AllZones());
  int changed = 0;
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    changed = 0;
    for (const ClinicZone& clinic : all) {
      ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> current,
                       store_->GetSchedule(txn, clinic.clinic_id));
      if (!current.has_value() || current->time_zone() == clinic.time_zone) continue;
      ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current->etag()));
      current->set_time_zone(clinic.time_zone);
      RETURN_IF_ERROR(store_->PutSchedule(txn, *current, version, now).status());
      ++changed;
    }
    return absl::OkStatus();
  }));
  return changed;
}

absl::StatusOr<v1::Chair> ClinicResources::CreateChair(const Call& call,
                                                       const v1::CreateChairRequest& req) const {
  RETURN_IF_ERROR(ValidateId("chair.clinic_id", req.chair().clinic_id()));
  RETURN_IF_ERROR(ValidateRequiredText("chair.name", req.chair().name(), 100));
  RETURN_IF_ERROR(call.who.CheckClinic(req.chair().clinic_id()));
  return RunIdempotent<v1::Chair>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::Chair> {
        RETURN_IF_ERROR(
            store_->RequireSchedule(txn, req.chair().clinic_id(), "chair.clinic_id").status());
        return store_->CreateChair(txn, req.chair(), call.now);
      });
}

absl::StatusOr<v1::ListChairsResponse> ClinicResources::ListChairs(
    const Call& call, const v1::ListChairsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("chairs?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListChairsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Chair> chairs, store_->ListChairs(txn, req.clinic_id(), page));
    for (v1::Chair& c : chairs.items) *out.add_chairs() = std::move(c);
    out.set_next_page_token(NextPageToken(query, chairs.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Chair> ClinicResources::UpdateChair(const Call& call,
                                                       const v1::UpdateChairRequest& req) const {
  RETURN_IF_ERROR(ValidateId("chair.id", req.chair().id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("chair.etag", req.chair().etag()));
  if (req.update_mask().paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: name at least one of name, active");
  }
  return RunIdempotent<v1::Chair>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::Chair> {
        ASSIGN_OR_RETURN(v1::Chair chair, store_->GetChair(txn, req.chair().id()));
        RETURN_IF_ERROR(call.who.CheckClinic(chair.clinic_id()));
        for (const std::string& path : req.update_mask().paths()) {
          if (path == "name") {
            RETURN_IF_ERROR(ValidateRequiredText("chair.name", req.chair().name(), 100));
            chair.set_name(req.chair().name());
          } else if (path == "active") {
            chair.set_active(req.chair().active());
          } else {
            return absl::InvalidArgumentError(
                absl::StrCat("update_mask: \"", path.substr(0, 64),
                             "\" cannot be updated (allowed: name, active)"));
          }
        }
        return store_->UpdateChair(txn, chair, version);
      });
}

absl::StatusOr<v1::WorkingHours> ClinicResources::SetWorkingHours(
    const Call& call, const v1::SetWorkingHoursRequest& req) const {
  const v1::WorkingHours& hours = req.working_hours();
  RETURN_IF_ERROR(ValidateId("working_hours.practitioner_id", hours.practitioner_id()));
  RETURN_IF_ERROR(ValidateId("working_hours.clinic_id", hours.clinic_id()));
  RETURN_IF_ERROR(ValidateWeeklyIntervals("working_hours.intervals", hours.intervals()));
  RETURN_IF_ERROR(call.who.CheckClinic(hours.clinic_id()));
  ASSIGN_OR_RETURN(int64_t version, VersionOrFirst("working_hours.etag", hours.etag()));
  return RunIdempotent<v1::WorkingHours>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::WorkingHours> {
        RETURN_IF_ERROR(
            store_->RequireSchedule(txn, hours.clinic_id(), "working_hours.clinic_id").status());
        return store_->PutWorkingHours(txn, hours, version);
      });
}

absl::StatusOr<v1::WorkingHours> ClinicResources::GetWorkingHours(
    const Call& call, const v1::GetWorkingHoursRequest& req) const {
  RETURN_IF_ERROR(ValidateId("practitioner_id", req.practitioner_id()));
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::WorkingHours out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto hours,
                     store_->GetWorkingHours(txn, req.practitioner_id(), req.clinic_id()));
    if (hours.has_value()) {
      out = *std::move(hours);
    } else {  // no hours: an empty week
      out.set_practitioner_id(req.practitioner_id());
      out.set_clinic_id(req.clinic_id());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListWorkingHoursResponse> ClinicResources::ListWorkingHours(
    const Call& call, const v1::ListWorkingHoursRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("working_hours?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListWorkingHoursResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::WorkingHours> all,
                     store_->ListWorkingHours(txn, req.clinic_id(), page));
    for (v1::WorkingHours& h : all.items) *out.add_working_hours() = std::move(h);
    out.set_next_page_token(NextPageToken(query, all.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ScheduleException> ClinicResources::CreateException(
    const Call& call, const v1::CreateScheduleExceptionRequest& req) const {
  ASSIGN_OR_RETURN(LocalSpan span, ValidateException(req.exception()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.exception().clinic_id()));
  return RunIdempotent<v1::ScheduleException>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::ScheduleException> {
        ASSIGN_OR_RETURN(
            v1::ClinicSchedule schedule,
            store_->RequireSchedule(txn, req.exception().clinic_id(), "exception.clinic_id"));
        return store_->CreateException(txn, req.exception(), ToInterval(span, ZoneOf(schedule)),
                                       call.now);
      });
}

absl::StatusOr<v1::ListScheduleExceptionsResponse> ClinicResources::ListExceptions(
    const Call& call, const v1::ListScheduleExceptionsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  ASSIGN_OR_RETURN(LocalPeriod period,
                   ParseDateRange("period", req.period(), kMaxExceptionPeriodDays));
  const std::string query =
      absl::StrCat("exceptions?clinic=", req.clinic_id(), "&from=", DayText(period.first),
                   "&to=", DayText(period.last));
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListScheduleExceptionsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                     store_->RequireSchedule(txn, req.clinic_id(), "clinic_id"));
    const absl::TimeZone zone = ZoneOf(schedule);
    const Interval window{zone.At(absl::CivilSecond(period.first)).pre,
                          zone.At(absl::CivilSecond(period.last + 1)).pre};
    ASSIGN_OR_RETURN(Page<v1::ScheduleException> all,
                     store_->ListExceptions(txn, req.clinic_id(), window, page));
    for (v1::ScheduleException& e : all.items) *out.add_exceptions() = std::move(e);
    out.set_next_page_token(NextPageToken(query, all.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::DeleteScheduleExceptionResponse> ClinicResources::DeleteException(
    const Call& call, const v1::DeleteScheduleExceptionRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  return RunIdempotent<v1::DeleteScheduleExceptionResponse>(
      *db_, call, req,
      [&](Transaction& txn) -> absl::StatusOr<v1::DeleteScheduleExceptionResponse> {
        ASSIGN_OR_RETURN(v1::ScheduleException e, store_->GetException(txn, req.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(e.clinic_id()));
        RETURN_IF_ERROR(store_->DeleteException(txn, req.id()));
        return v1::DeleteScheduleExceptionResponse();
      });
}

}  // namespace smp::scheduling
