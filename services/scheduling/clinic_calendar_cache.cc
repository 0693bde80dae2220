#include "services/scheduling/clinic_calendar_cache.h"

#include <algorithm>
#include <utility>

#include "common/status/status_macros.h"

namespace smp::scheduling {

absl::StatusOr<std::shared_ptr<const CalendarInputs>> ClinicCalendarCache::Load(
    Transaction& txn, const v1::ClinicSchedule& schedule, const CalendarScope& scope,
    absl::Time now) {
  if (scope.busy_window.has_value() || !scope.only_chair.empty() ||
      !scope.ignore_appointment_id.empty()) {
    ASSIGN_OR_RETURN(CalendarInputs inputs, LoadCalendars(*store_, txn, schedule, scope, now));
    return std::make_shared<const CalendarInputs>(std::move(inputs));
  }
  const std::string& clinic_id = schedule.clinic_id();
  std::shared_ptr<const Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = entries_.find(clinic_id); it != entries_.end()) entry = it->second;
  }
  ASSIGN_OR_RETURN(int64_t version, store_->CalendarVersion(txn, clinic_id));
  if (entry != nullptr && entry->first_day == scope.first_day &&
      entry->last_day == scope.last_day && entry->practitioner == scope.only_practitioner &&
      entry->schedule_etag == schedule.etag() && now >= entry->built &&
      now - entry->built < kMaxAge && entry->calendar_version == version) {
    ASSIGN_OR_RETURN(std::vector<int64_t> heads, store_->FeedHeads(txn, entry->clinics));
    if (heads == entry->heads) return entry->inputs;
  }

  // Build: everything below comes from this one transaction.
  auto fresh = std::make_shared<Entry>();
  fresh->first_day = scope.first_day;
  fresh->last_day = scope.last_day;
  fresh->practitioner = scope.only_practitioner;
  fresh->schedule_etag = schedule.etag();
  fresh->built = now;
  fresh->calendar_version = version;
  ASSIGN_OR_RETURN(CalendarInputs inputs, LoadCalendars(*store_, txn, schedule, scope, now));
  fresh->inputs = std::make_shared<const CalendarInputs>(std::move(inputs));
  std::vector<std::string> practitioners;
  for (const PractitionerCalendar& p : fresh->inputs->practitioners) {
    practitioners.push_back(p.practitioner_id);
  }
  const absl::TimeZone zone = fresh->inputs->query.zone;
  const Interval window{zone.At(absl::CivilSecond(scope.first_day - 1)).pre,
                        zone.At(absl::CivilSecond(scope.last_day + 2)).pre};
  ASSIGN_OR_RETURN(fresh->clinics, store_->ClinicsOfPractitioners(txn, practitioners, window));
  fresh->clinics.push_back(clinic_id);
  std::sort(fresh->clinics.begin(), fresh->clinics.end());
  fresh->clinics.erase(std::unique(fresh->clinics.begin(), fresh->clinics.end()),
                       fresh->clinics.end());
  ASSIGN_OR_RETURN(fresh->heads, store_->FeedHeads(txn, fresh->clinics));
  std::shared_ptr<const CalendarInputs> out = fresh->inputs;
  {
    absl::MutexLock lock(&mu_);
    ++builds_;
    if (entries_.size() >= max_clinics_ && !entries_.contains(clinic_id)) {
      entries_.erase(entries_.begin());  // any one: a bound on memory, not a policy
    }
    entries_[clinic_id] = std::move(fresh);
  }
  return out;
}

}  // namespace smp::scheduling
