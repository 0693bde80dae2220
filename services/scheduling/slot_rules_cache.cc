#include "services/scheduling/slot_rules_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/status_macros.h"
#include "services/scheduling/schedule_rules.h"

namespace smp::scheduling {

std::string SlotRulesCache::DayKey(absl::string_view practitioner_id, absl::string_view chair_id,
                                   absl::CivilDay day) {
  // Ids are well-formed (no '/'), so the key is unambiguous.
  return absl::StrCat(practitioner_id, "/", chair_id, "/", absl::FormatCivilTime(day));
}

absl::StatusOr<std::optional<SlotRules>> SlotRulesCache::Get(Transaction& txn,
                                                             const std::string& clinic_id,
                                                             const std::string& practitioner_id,
                                                             const std::string& chair_id,
                                                             absl::Time start, absl::Time now) {
  if (std::optional<SlotRules> known = Peek(clinic_id, practitioner_id, chair_id, start, now)) {
    return known;
  }

  // Read: the schedule, the version and the day, all in `txn`, so the day is as of the version.
  ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> read, store_->GetSchedule(txn, clinic_id));
  if (!read.has_value()) {
    Forget(clinic_id);
    return std::nullopt;
  }
  ASSIGN_OR_RETURN(const int64_t version, store_->CalendarVersion(txn, clinic_id));
  auto schedule = std::make_shared<const v1::ClinicSchedule>(*std::move(read));
  const absl::TimeZone zone = ZoneOf(*schedule);
  const absl::CivilDay day = absl::ToCivilDay(start, zone);
  CalendarScope scope{day, day, practitioner_id, chair_id, ""};
  scope.rules_only = true;
  ASSIGN_OR_RETURN(CalendarInputs in, LoadCalendars(*store_, txn, *schedule, scope, now));
  auto inputs = std::make_shared<const CalendarInputs>(std::move(in));

  absl::MutexLock lock(&mu_);
  ++reads_;
  auto it = clinics_.find(clinic_id);
  if (it == clinics_.end()) {
    if (clinics_.size() >= max_clinics_) clinics_.erase(clinics_.begin());
    it = clinics_.try_emplace(clinic_id).first;
  }
  ClinicEntry& e = it->second;
  // The days kept were read at the entry's version: they stay only while it is unchanged.
  if (e.schedule == nullptr || e.calendar_version != version || e.days.size() >= max_days_) {
    e.days.clear();
  }
  e.schedule = schedule;
  e.zone = zone;
  e.calendar_version = version;
  e.checked = now;
  e.days[DayKey(practitioner_id, chair_id, day)] = inputs;
  return SlotRules{std::move(schedule), version, std::move(inputs)};
}

std::optional<SlotRules> SlotRulesCache::Peek(const std::string& clinic_id,
                                              const std::string& practitioner_id,
                                              const std::string& chair_id, absl::Time start,
                                              absl::Time now) const {
  absl::MutexLock lock(&mu_);
  const auto it = clinics_.find(clinic_id);
  if (it == clinics_.end()) return std::nullopt;
  const ClinicEntry& e = it->second;
  if (now < e.checked || now - e.checked >= kMaxAge) return std::nullopt;
  const auto day = e.days.find(DayKey(practitioner_id, chair_id, absl::ToCivilDay(start, e.zone)));
  if (day == e.days.end()) return std::nullopt;
  return SlotRules{e.schedule, e.calendar_version, day->second};
}

void SlotRulesCache::Forget(absl::string_view clinic_id) {
  absl::MutexLock lock(&mu_);
  clinics_.erase(clinic_id);
}

}  // namespace smp::scheduling
