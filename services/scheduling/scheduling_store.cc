#include "services/scheduling/scheduling_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/db/store_kit.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/scheduling/appointment_rules.h"
#include "services/scheduling/scheduling_reasons.h"

namespace smp::scheduling {
namespace {

constexpr int64_t kGranuleSeconds = 300;

// Adds " AND <column> IN (...)" for a caller's clinic filter (Principal::ClinicFilter; nullopt:
// no restriction). False when the filter is empty: nothing can match, skip the query.
bool RestrictToClinics(absl::string_view column,
                       const std::optional<std::vector<std::string>>& clinics, std::string& sql,
                       std::vector<DbValue>& params) {
  if (!clinics.has_value()) return true;
  if (clinics->empty()) return false;
  absl::StrAppend(&sql, " AND ", column, " IN (", SqlPlaceholders(clinics->size()), ")");
  for (const std::string& c : *clinics) params.emplace_back(c);
  return true;
}

// Advances the calendar version of `clinic_id` (migration 5) and, for a practitioner's hours or
// exception, of every clinic where that practitioner has hours or exceptions: their leave anywhere
// keeps them away at every branch, so each of those clinics' booking pre-checks must re-read.
absl::Status BumpCalendarVersion(Transaction& txn, absl::string_view clinic_id,
                                 absl::string_view practitioner_id) {
  if (practitioner_id.empty()) {
    return txn.Exec(
        "INSERT INTO calendar_versions (clinic_id, version) VALUES (?, 1) "
        "ON CONFLICT (clinic_id) DO UPDATE SET version = calendar_versions.version + 1",
        {std::string(clinic_id)});
  }
  return txn.Exec(
      "INSERT INTO calendar_versions (clinic_id, version) "
      "SELECT related.clinic_id, 1 FROM (SELECT CAST(? AS TEXT) AS clinic_id "
      "UNION SELECT clinic_id FROM working_hours WHERE practitioner_id = ? "
      "UNION SELECT clinic_id FROM schedule_exceptions WHERE practitioner_id = ?) AS related "
      "WHERE true "
      "ON CONFLICT (clinic_id) DO UPDATE SET version = calendar_versions.version + 1",
      {std::string(clinic_id), std::string(practitioner_id), std::string(practitioner_id)});
}

// --- patients ---

constexpr char kPatientColumns[] =
    "id, given_name, family_name, birth_date, phone, email, preferred_clinic_id, create_time, "
    "update_time, version";

// A birth date as stored: "" when the patient gave none.
std::string BirthDateText(const v1::Patient& p) {
  return p.has_birth_date() ? DayText(FromLocalDate(p.birth_date())) : std::string();
}

absl::StatusOr<v1::Patient> PatientFromRow(const Row& row) {
  v1::Patient p;
  p.set_id(row.Text(0));
  p.set_given_name(row.Text(1));
  p.set_family_name(row.Text(2));
  if (!row.Text(3).empty()) {
    absl::StatusOr<absl::CivilDay> born = ParseDayText("birth_date", row.Text(3));
    if (!born.ok()) {
      return absl::DataLossError(absl::StrCat("stored birth date of patient ", p.id(),
                                              " does not parse: ", born.status().message()));
    }
    *p.mutable_birth_date() = ToLocalDate(*born);
  }
  p.set_phone(row.Text(4));
  p.set_email(row.Text(5));
  p.set_preferred_clinic_id(row.Text(6));
  *p.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(7)));
  *p.mutable_update_time() = ToProtoTimestamp(FromDbMicros(row.Int(8)));
  p.set_etag(EtagOf(row.Int(9)));
  return p;
}

std::string SearchText(const v1::Patient& p) {
  return absl::AsciiStrToLower(absl::StrCat(p.given_name(), " ", p.family_name(), " ",
                                            p.family_name(), " ", p.given_name(), " ", p.phone(),
                                            " ", p.email()));
}

// --- chairs ---

constexpr char kChairColumns[] = "id, clinic_id, name, active, version";

v1::Chair ChairFromRow(const Row& row) {
  v1::Chair c;
  c.set_id(row.Text(0));
  c.set_clinic_id(row.Text(1));
  c.set_name(row.Text(2));
  c.set_active(row.Int(3) != 0);
  c.set_etag(EtagOf(row.Int(4)));
  return c;
}

}  // namespace

std::string PatientResource(absl::string_view patient_id) {
  return absl::StrCat("patient:", patient_id);
}

// ---------------------------------------------------------------- clinic schedules

absl::StatusOr<std::optional<v1::ClinicSchedule>> SchedulingStore::GetSchedule(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT settings, version FROM clinic_schedules "
                                        "WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                   Parse<v1::ClinicSchedule>(rows[0].Text(0), "clinic schedule"));
  schedule.set_etag(EtagOf(rows[0].Int(1)));
  return schedule;
}

absl::StatusOr<v1::ClinicSchedule> SchedulingStore::RequireSchedule(Transaction& txn,
                                                                    absl::string_view clinic_id,
                                                                    absl::string_view field) const {
  ASSIGN_OR_RETURN(std::optional<v1::ClinicSchedule> schedule, GetSchedule(txn, clinic_id));
  if (!schedule.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": clinic ", clinic_id,
        " has no schedule here (an unknown clinic, or an admin has not set its hours yet)"));
  }
  return *std::move(schedule);
}

absl::StatusOr<v1::ClinicSchedule> SchedulingStore::PutSchedule(Transaction& txn,
                                                                const v1::ClinicSchedule& schedule,
                                                                int64_t expected_version,
                                                                absl::Time now) const {
  v1::ClinicSchedule stored = schedule;
  stored.clear_etag();
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT version FROM clinic_schedules WHERE clinic_id = ?",
                                        {schedule.clinic_id()}));
  const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
  if (current != expected_version) {
    return StaleEtagError("clinic schedule", schedule.clinic_id(), expected_version, current);
  }
  if (current == 0) {
    RETURN_IF_ERROR(
        txn.Exec("INSERT INTO clinic_schedules (clinic_id, time_zone, settings, "
                 "update_time, version) VALUES (?, ?, ?, ?, 1)",
                 {schedule.clinic_id(), schedule.time_zone(), Serialize(stored), ToDbMicros(now)}));
  } else {
    RETURN_IF_ERROR(
        txn.Exec("UPDATE clinic_schedules SET time_zone = ?, settings = ?, "
                 "update_time = ?, version = version + 1 WHERE clinic_id = ?",
                 {schedule.time_zone(), Serialize(stored), ToDbMicros(now), schedule.clinic_id()}));
  }
  RETURN_IF_ERROR(BumpCalendarVersion(txn, schedule.clinic_id(), ""));
  stored.set_etag(EtagOf(current + 1));
  return stored;
}

absl::StatusOr<int64_t> SchedulingStore::CalendarVersion(Transaction& txn,
                                                         absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT version FROM calendar_versions WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

// ---------------------------------------------------------------- patients

absl::StatusOr<v1::Patient> SchedulingStore::CreatePatient(Transaction& txn,
                                                           const v1::Patient& patient,
                                                           absl::Time now) const {
  const std::string id = NewIdAt(now);
  RETURN_IF_ERROR(txn.Exec(absl::StrCat("INSERT INTO patients (", kPatientColumns,
                                        ", search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"),
                           {id, patient.given_name(), patient.family_name(), BirthDateText(patient),
                            patient.phone(), patient.email(), patient.preferred_clinic_id(),
                            ToDbMicros(now), ToDbMicros(now), SearchText(patient)}));
  return GetPatient(txn, id);
}

absl::StatusOr<v1::Patient> SchedulingStore::GetPatient(Transaction& txn,
                                                        absl::string_view id) const {
  ASSIGN_OR_RETURN(
      auto rows, txn.Query(absl::StrCat("SELECT ", kPatientColumns, " FROM patients WHERE id = ?"),
                           {std::string(id)}));
  if (rows.empty()) return NotFound("patient", id);
  return PatientFromRow(rows[0]);
}

absl::StatusOr<v1::Patient> SchedulingStore::UpdatePatient(Transaction& txn,
                                                           const v1::Patient& patient,
                                                           int64_t expected_version,
                                                           absl::Time now) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount("UPDATE patients SET given_name = ?, family_name = ?, birth_date = ?, "
                    "phone = ?, email = ?, preferred_clinic_id = ?, search_text = ?, "
                    "update_time = ?, version = version + 1 WHERE id = ? AND version = ?",
                    {patient.given_name(), patient.family_name(), BirthDateText(patient),
                     patient.phone(), patient.email(), patient.preferred_clinic_id(),
                     SearchText(patient), ToDbMicros(now), patient.id(), expected_version}));
  if (changed == 0) {
    ASSIGN_OR_RETURN(v1::Patient current, GetPatient(txn, patient.id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
    return StaleEtagError("patient", patient.id(), expected_version, version);
  }
  return GetPatient(txn, patient.id());
}

absl::StatusOr<std::vector<std::string>> SchedulingStore::ClinicsOfPractitioners(
    Transaction& txn, const std::vector<std::string>& practitioner_ids, Interval window) const {
  if (practitioner_ids.empty()) return std::vector<std::string>{};
  const std::string in = SqlPlaceholders(practitioner_ids.size());
  std::vector<DbValue> params;
  for (int i = 0; i < 3; ++i) {
    for (const std::string& p : practitioner_ids) params.emplace_back(p);
  }
  params.emplace_back(ToDbMicros(window.start - kMaxBlock));
  params.emplace_back(ToDbMicros(window.end));
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(
          absl::StrCat("SELECT clinic_id FROM working_hours WHERE practitioner_id IN (", in,
                       ") UNION SELECT clinic_id FROM schedule_exceptions WHERE "
                       "practitioner_id IN (",
                       in, ") UNION SELECT clinic_id FROM appointments WHERE practitioner_id IN (",
                       in, ") AND start_time > ? AND start_time < ?"),
          params));
  std::vector<std::string> clinics;
  for (const Row& row : rows) clinics.push_back(row.Text(0));
  return clinics;
}

absl::StatusOr<Page<v1::Patient>> SchedulingStore::SearchPatients(
    Transaction& txn, absl::string_view needle,
    const std::optional<std::vector<std::string>>& clinics, const PageRequest& page) const {
  // LIKE with escaped wildcards: the needle is the user's text, not a pattern.
  std::string pattern = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += "%";
  std::vector<DbValue> params = {page.after_key, pattern};
  std::string sql = absl::StrCat("SELECT ", kPatientColumns,
                                 " FROM patients WHERE id > ? AND search_text LIKE ? ESCAPE '\\'");
  if (!RestrictToClinics("preferred_clinic_id", clinics, sql, params)) return Page<v1::Patient>{};
  absl::StrAppend(&sql, " ORDER BY id LIMIT ?");
  params.emplace_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  std::vector<v1::Patient> patients;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Patient p, PatientFromRow(row));
    patients.push_back(std::move(p));
  }
  return MakePage(std::move(patients), page.size, [](const v1::Patient& p) { return p.id(); });
}

// ---------------------------------------------------------------- chairs

absl::StatusOr<v1::Chair> SchedulingStore::CreateChair(Transaction& txn, const v1::Chair& chair,
                                                       absl::Time now) const {
  const std::string id = NewIdAt(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO chairs (id, clinic_id, name, active, version) "
               "VALUES (?, ?, ?, 1, 1)",
               {id, chair.clinic_id(), chair.name()}));
  RETURN_IF_ERROR(BumpCalendarVersion(txn, chair.clinic_id(), ""));
  return GetChair(txn, id);
}

absl::StatusOr<v1::Chair> SchedulingStore::GetChair(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kChairColumns, " FROM chairs WHERE id = ?"),
                             {std::string(id)}));
  if (rows.empty()) return NotFound("chair", id);
  return ChairFromRow(rows[0]);
}

absl::StatusOr<std::vector<v1::Chair>> SchedulingStore::ListChairs(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kChairColumns,
                                          " FROM chairs WHERE clinic_id = ? ORDER BY id"),
                             {std::string(clinic_id)}));
  std::vector<v1::Chair> chairs;
  for (const Row& row : rows) chairs.push_back(ChairFromRow(row));
  return chairs;
}

absl::StatusOr<Page<v1::Chair>> SchedulingStore::ListChairs(Transaction& txn,
                                                            absl::string_view clinic_id,
                                                            const PageRequest& page) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kChairColumns,
                                          " FROM chairs WHERE clinic_id = ? AND id > ?"
                                          " ORDER BY id LIMIT ?"),
                             {std::string(clinic_id), page.after_key, int64_t{page.size} + 1}));
  std::vector<v1::Chair> chairs;
  for (const Row& row : rows) chairs.push_back(ChairFromRow(row));
  return MakePage(std::move(chairs), page.size, [](const v1::Chair& c) { return c.id(); });
}

absl::StatusOr<v1::Chair> SchedulingStore::UpdateChair(Transaction& txn, const v1::Chair& chair,
                                                       int64_t expected_version) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount("UPDATE chairs SET name = ?, active = ?, version = version + 1 "
                    "WHERE id = ? AND version = ?",
                    {chair.name(), int64_t{chair.active() ? 1 : 0}, chair.id(), expected_version}));
  if (changed == 0) {
    ASSIGN_OR_RETURN(v1::Chair current, GetChair(txn, chair.id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
    return StaleEtagError("chair", chair.id(), expected_version, version);
  }
  ASSIGN_OR_RETURN(v1::Chair updated, GetChair(txn, chair.id()));
  RETURN_IF_ERROR(BumpCalendarVersion(txn, updated.clinic_id(), ""));
  return updated;
}

// ---------------------------------------------------------------- working hours and exceptions

absl::StatusOr<std::optional<v1::WorkingHours>> SchedulingStore::GetWorkingHours(
    Transaction& txn, absl::string_view practitioner_id, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT hours, version FROM working_hours "
                                        "WHERE practitioner_id = ? AND clinic_id = ?",
                                        {std::string(practitioner_id), std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(v1::WorkingHours hours,
                   Parse<v1::WorkingHours>(rows[0].Text(0), "working hours"));
  hours.set_etag(EtagOf(rows[0].Int(1)));
  return hours;
}

absl::StatusOr<v1::WorkingHours> SchedulingStore::PutWorkingHours(Transaction& txn,
                                                                  const v1::WorkingHours& hours,
                                                                  int64_t expected_version) const {
  v1::WorkingHours stored = hours;
  stored.clear_etag();
  ASSIGN_OR_RETURN(auto current, GetWorkingHours(txn, hours.practitioner_id(), hours.clinic_id()));
  int64_t version = 0;
  if (current.has_value()) {
    ASSIGN_OR_RETURN(version, VersionFromEtag("etag", current->etag()));
  }
  if (version != expected_version) {
    return StaleEtagError("working hours of", hours.practitioner_id(), expected_version, version);
  }
  if (version == 0) {
    RETURN_IF_ERROR(
        txn.Exec("INSERT INTO working_hours (practitioner_id, clinic_id, hours, "
                 "version) VALUES (?, ?, ?, 1)",
                 {hours.practitioner_id(), hours.clinic_id(), Serialize(stored)}));
  } else {
    RETURN_IF_ERROR(
        txn.Exec("UPDATE working_hours SET hours = ?, version = version + 1 "
                 "WHERE practitioner_id = ? AND clinic_id = ?",
                 {Serialize(stored), hours.practitioner_id(), hours.clinic_id()}));
  }
  RETURN_IF_ERROR(BumpCalendarVersion(txn, hours.clinic_id(), hours.practitioner_id()));
  stored.set_etag(EtagOf(version + 1));
  return stored;
}

absl::StatusOr<std::vector<v1::WorkingHours>> SchedulingStore::ListWorkingHours(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT hours, version FROM working_hours "
                                        "WHERE clinic_id = ? ORDER BY practitioner_id",
                                        {std::string(clinic_id)}));
  ASSIGN_OR_RETURN(std::vector<v1::WorkingHours> all, ParseAll<v1::WorkingHours>(rows));
  for (size_t i = 0; i < all.size(); ++i) all[i].set_etag(EtagOf(rows[i].Int(1)));
  return all;
}

absl::StatusOr<Page<v1::WorkingHours>> SchedulingStore::ListWorkingHours(
    Transaction& txn, absl::string_view clinic_id, const PageRequest& page) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT hours, version FROM working_hours "
                             "WHERE clinic_id = ? AND practitioner_id > ? "
                             "ORDER BY practitioner_id LIMIT ?",
                             {std::string(clinic_id), page.after_key, int64_t{page.size} + 1}));
  ASSIGN_OR_RETURN(std::vector<v1::WorkingHours> all, ParseAll<v1::WorkingHours>(rows));
  for (size_t i = 0; i < all.size(); ++i) all[i].set_etag(EtagOf(rows[i].Int(1)));
  return MakePage(std::move(all), page.size,
                  [](const v1::WorkingHours& h) { return h.practitioner_id(); });
}

absl::StatusOr<v1::ScheduleException> SchedulingStore::CreateException(
    Transaction& txn, const v1::ScheduleException& exception, Interval span, absl::Time now) const {
  v1::ScheduleException stored = exception;
  stored.set_id(NewIdAt(now));
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO schedule_exceptions (id, clinic_id, practitioner_id, "
               "kind, exception, start_time, end_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
               {stored.id(), stored.clinic_id(), stored.practitioner_id(),
                v1::ExceptionKind_Name(stored.kind()), Serialize(stored), ToDbMicros(span.start),
                ToDbMicros(span.end)}));
  RETURN_IF_ERROR(BumpCalendarVersion(txn, stored.clinic_id(), stored.practitioner_id()));
  return stored;
}

absl::StatusOr<v1::ScheduleException> SchedulingStore::GetException(Transaction& txn,
                                                                    absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT exception FROM schedule_exceptions WHERE id = ?",
                                        {std::string(id)}));
  return ParseOne<v1::ScheduleException>(rows, "schedule exception", id);
}

absl::Status SchedulingStore::DeleteException(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT clinic_id, practitioner_id FROM "
                                        "schedule_exceptions WHERE id = ?",
                                        {std::string(id)}));
  if (rows.empty()) return NotFound("schedule exception", id);
  // Bumped while the row still names its practitioner's clinics.
  RETURN_IF_ERROR(BumpCalendarVersion(txn, rows[0].Text(0), rows[0].Text(1)));
  ASSIGN_OR_RETURN(int64_t deleted, txn.ExecCount("DELETE FROM schedule_exceptions WHERE id = ?",
                                                  {std::string(id)}));
  if (deleted == 0) return NotFound("schedule exception", id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PractitionerLeave>> SchedulingStore::LeaveElsewhere(
    Transaction& txn, absl::string_view clinic_id, const std::vector<std::string>& practitioner_ids,
    Interval window) const {
  std::vector<PractitionerLeave> out;
  if (practitioner_ids.empty()) return out;
  std::vector<DbValue> params;
  for (const std::string& id : practitioner_ids) params.emplace_back(id);
  params.emplace_back(std::string(clinic_id));
  params.emplace_back(ToDbMicros(window.end));
  params.emplace_back(ToDbMicros(window.start));
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT practitioner_id, start_time, end_time FROM "
                                          "schedule_exceptions WHERE practitioner_id IN (",
                                          SqlPlaceholders(practitioner_ids.size()),
                                          ") AND kind = 'LEAVE' AND clinic_id <> ? AND "
                                          "start_time < ? AND end_time > ?"),
                             params));
  for (const Row& row : rows) {
    out.push_back({row.Text(0), Interval{FromDbMicros(row.Int(1)), FromDbMicros(row.Int(2))}});
  }
  return out;
}

absl::StatusOr<std::vector<v1::ScheduleException>> SchedulingStore::ListExceptions(
    Transaction& txn, absl::string_view clinic_id, Interval window) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT exception FROM schedule_exceptions "
                                        "WHERE clinic_id = ? AND start_time < ? AND end_time > ? "
                                        "ORDER BY start_time, id",
                                        {std::string(clinic_id), ToDbMicros(window.end),
                                         ToDbMicros(window.start)}));
  return ParseAll<v1::ScheduleException>(rows);
}

absl::StatusOr<Page<v1::ScheduleException>> SchedulingStore::ListExceptions(
    Transaction& txn, absl::string_view clinic_id, Interval window, const PageRequest& page) const {
  // Keyset on (start_time, id): the page key is "<start micros>/<id>".
  int64_t after_start = std::numeric_limits<int64_t>::min();
  std::string after_id;
  if (!page.after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page.after_key, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_start)) {
      return absl::InvalidArgumentError("page_token: malformed");
    }
    after_id = parts[1];
  }
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT exception, start_time FROM schedule_exceptions "
                                        "WHERE clinic_id = ? AND start_time < ? AND end_time > ? "
                                        "AND (start_time > ? OR (start_time = ? AND id > ?)) "
                                        "ORDER BY start_time, id LIMIT ?",
                                        {std::string(clinic_id), ToDbMicros(window.end),
                                         ToDbMicros(window.start), after_start, after_start,
                                         after_id, int64_t{page.size} + 1}));
  ASSIGN_OR_RETURN(std::vector<v1::ScheduleException> all, ParseAll<v1::ScheduleException>(rows));
  std::vector<std::pair<v1::ScheduleException, int64_t>> keyed;
  for (size_t i = 0; i < all.size(); ++i) keyed.emplace_back(std::move(all[i]), rows[i].Int(1));
  Page<std::pair<v1::ScheduleException, int64_t>> cut =
      MakePage(std::move(keyed), page.size,
               [](const auto& e) { return absl::StrCat(e.second, "/", e.first.id()); });
  Page<v1::ScheduleException> out;
  out.last_key = std::move(cut.last_key);
  for (auto& [e, start] : cut.items) out.items.push_back(std::move(e));
  return out;
}

// ---------------------------------------------------------------- plans

absl::StatusOr<v1::TreatmentPlan> SchedulingStore::CreatePlan(Transaction& txn,
                                                              const v1::TreatmentPlan& plan,
                                                              absl::Time now) const {
  v1::TreatmentPlan stored = plan;
  stored.set_id(NewIdAt(now));
  stored.clear_sessions();
  stored.clear_etag();
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO treatment_plans (id, patient_id, clinic_id, status, plan, "
               "create_time, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
               {stored.id(), stored.patient_id(), stored.clinic_id(),
                v1::PlanStatus_Name(stored.status()), Serialize(stored), ToDbMicros(now)}));
  return GetPlan(txn, stored.id());
}

absl::StatusOr<v1::TreatmentPlan> SchedulingStore::GetPlan(Transaction& txn,
                                                           absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT plan, version FROM treatment_plans WHERE id = ?",
                                        {std::string(id)}));
  ASSIGN_OR_RETURN(v1::TreatmentPlan plan, ParseOne<v1::TreatmentPlan>(rows, "treatment plan", id));
  plan.set_etag(EtagOf(rows[0].Int(1)));
  ASSIGN_OR_RETURN(auto sessions, txn.Query("SELECT record FROM appointments WHERE plan_id = ? "
                                            "AND plan_id <> '' "  // the plan index's condition
                                            "ORDER BY session_number, start_time",
                                            {std::string(id)}));
  for (const Row& row : sessions) {
    ASSIGN_OR_RETURN(v1::Appointment a, Parse<v1::Appointment>(row.Text(0), "appointment"));
    v1::PlanSession* s = plan.add_sessions();
    s->set_session_number(a.session_number());
    s->set_appointment_id(a.id());
    *s->mutable_start_time() = a.start_time();
    s->set_status(a.status());
  }
  return plan;
}

absl::StatusOr<Page<v1::TreatmentPlan>> SchedulingStore::ListPlans(
    Transaction& txn, absl::string_view patient_id,
    const std::optional<std::vector<std::string>>& clinics, const PageRequest& page) const {
  // Newest first: keyset on id descending (ids are time-sortable).
  std::string sql = "SELECT id FROM treatment_plans WHERE patient_id = ?";
  std::vector<DbValue> params = {std::string(patient_id)};
  if (!page.after_key.empty()) {
    absl::StrAppend(&sql, " AND id < ?");
    params.emplace_back(page.after_key);
  }
  if (!RestrictToClinics("clinic_id", clinics, sql, params)) return Page<v1::TreatmentPlan>{};
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");
  params.emplace_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  std::vector<v1::TreatmentPlan> plans;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(v1::TreatmentPlan plan, GetPlan(txn, row.Text(0)));
    plans.push_back(std::move(plan));
  }
  return MakePage(std::move(plans), page.size, [](const v1::TreatmentPlan& p) { return p.id(); });
}

absl::StatusOr<v1::TreatmentPlan> SchedulingStore::UpdatePlan(Transaction& txn,
                                                              const v1::TreatmentPlan& plan,
                                                              int64_t expected_version) const {
  v1::TreatmentPlan stored = plan;
  stored.clear_sessions();
  stored.clear_etag();
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("UPDATE treatment_plans SET status = ?, plan = ?, "
                                 "version = version + 1 WHERE id = ? AND version = ?",
                                 {v1::PlanStatus_Name(plan.status()), Serialize(stored), plan.id(),
                                  expected_version}));
  if (changed == 0) {
    ASSIGN_OR_RETURN(v1::TreatmentPlan current, GetPlan(txn, plan.id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
    return StaleEtagError("treatment plan", plan.id(), expected_version, version);
  }
  return GetPlan(txn, plan.id());
}

// ---------------------------------------------------------------- appointments

absl::Status SchedulingStore::Occupy(Transaction& txn, const v1::Appointment& appointment,
                                     Interval block) const {
  return TakeGranules(txn, appointment, block, /*name_holder=*/true);
}

absl::StatusOr<bool> SchedulingStore::OccupyIfFree(Transaction& txn,
                                                   const v1::Appointment& appointment,
                                                   Interval block) const {
  absl::Status taken = TakeGranules(txn, appointment, block, /*name_holder=*/false);
  if (absl::IsFailedPrecondition(taken)) return false;
  RETURN_IF_ERROR(taken);
  return true;
}

absl::Status SchedulingStore::TakeGranules(Transaction& txn, const v1::Appointment& appointment,
                                           Interval block, bool name_holder) const {
  // The granules each resource takes: the patient the appointment itself (start to end), the
  // practitioner and the chair its block. All in one statement: on PostgreSQL every statement of
  // a write transaction runs under a savepoint, and one per granule (about 150 for a 4-hour
  // session) would pass the 64 subtransactions a snapshot keeps cheaply.
  struct Claim {
    const std::string* resource;
    int64_t first, last;  // granules [first, last)
    const char* kind;
  };
  const auto granule_of = [](absl::Time t) { return absl::ToUnixSeconds(t) / kGranuleSeconds; };
  const auto granule_after = [](absl::Time t) {
    return (absl::ToUnixSeconds(t) + kGranuleSeconds - 1) / kGranuleSeconds;
  };
  const std::string patient = PatientResource(appointment.patient_id());
  const Claim claims[] = {
      {&patient, granule_of(FromProtoTimestamp(appointment.start_time())),
       granule_after(FromProtoTimestamp(appointment.end_time())), "patient"},
      {&appointment.practitioner_id(), granule_of(block.start), granule_after(block.end),
       "practitioner"},
      {&appointment.chair_id(), granule_of(block.start), granule_after(block.end), "chair"},
  };
  std::string sql = "INSERT INTO occupancy (resource_id, granule, appointment_id) VALUES ";
  std::vector<DbValue> params;
  int64_t wanted = 0;
  for (const Claim& claim : claims) {
    for (int64_t g = claim.first; g < claim.last; ++g) {
      absl::StrAppend(&sql, wanted == 0 ? "(?, ?, ?)" : ", (?, ?, ?)");
      params.insert(params.end(), {*claim.resource, g, appointment.id()});
      ++wanted;
    }
  }
  if (wanted == 0) return absl::OkStatus();
  absl::StrAppend(&sql, " ON CONFLICT (resource_id, granule) DO NOTHING");
  ASSIGN_OR_RETURN(const int64_t taken, txn.ExecCount(sql, params));
  if (taken == wanted) return absl::OkStatus();
  if (!name_holder) {
    // The caller decides what to do: give back the granules this statement did take.
    RETURN_IF_ERROR(Release(txn, appointment.id()));
    return absl::FailedPreconditionError("occupied");
  }

  // Some granule is held: name the first, the patient's before the practitioner's and chair's.
  // (The rows this statement did insert go with the transaction, which the error rolls back.)
  for (const Claim& claim : claims) {
    ASSIGN_OR_RETURN(auto held,
                     txn.Query("SELECT granule, appointment_id FROM occupancy WHERE "
                               "resource_id = ? AND granule >= ? AND granule < ? AND "
                               "appointment_id <> ? ORDER BY granule LIMIT 1",
                               {*claim.resource, claim.first, claim.last, appointment.id()}));
    if (held.empty()) continue;
    const std::string at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                            absl::FromUnixSeconds(held[0].Int(0) * kGranuleSeconds),
                                            absl::UTCTimeZone());
    if (claim.resource == &patient) {
      // The other appointment may be another clinic's: it is not named.
      return SlotTakenError(absl::StrCat("patient ", appointment.patient_id(),
                                         " already has an appointment (at this or another "
                                         "clinic) at ",
                                         at, "; pick another time"),
                            "patient", appointment.patient_id());
    }
    return SlotTakenError(absl::StrCat(claim.kind, " ", *claim.resource, " is not free at ", at,
                                       " (appointment ", held[0].Text(1), "); pick another slot"),
                          claim.kind, *claim.resource);
  }
  return absl::InternalError(
      absl::StrCat("appointment ", appointment.id(), " already holds granules of its own time"));
}

absl::StatusOr<std::vector<std::string>> SchedulingStore::Occupants(
    Transaction& txn, const std::vector<std::string>& resources, Interval block) const {
  const int64_t first = absl::ToUnixSeconds(block.start) / kGranuleSeconds;
  const int64_t last = (absl::ToUnixSeconds(block.end) + kGranuleSeconds - 1) / kGranuleSeconds;
  std::vector<DbValue> params = {first, last};
  for (const std::string& r : resources) params.emplace_back(r);
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT DISTINCT appointment_id FROM occupancy "
                                          "WHERE granule >= ? AND granule < ? AND "
                                          "resource_id IN (",
                                          SqlPlaceholders(resources.size()), ")"),
                             params));
  std::vector<std::string> ids;
  for (const Row& row : rows) ids.push_back(row.Text(0));
  return ids;
}

absl::Status SchedulingStore::Release(Transaction& txn, absl::string_view appointment_id) const {
  return txn.Exec("DELETE FROM occupancy WHERE appointment_id = ?", {std::string(appointment_id)});
}

absl::StatusOr<absl::Time> SchedulingStore::OccupiedUntil(Transaction& txn,
                                                          absl::string_view appointment_id,
                                                          absl::Time end) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT MAX(granule) FROM occupancy WHERE "
                                        "appointment_id = ?",
                                        {std::string(appointment_id)}));
  if (rows.empty() || rows[0].IsNull(0)) return end;
  return std::max(end, absl::FromUnixSeconds((rows[0].Int(0) + 1) * kGranuleSeconds));
}

absl::StatusOr<std::vector<BusyBlock>> SchedulingStore::BusyBlocks(
    Transaction& txn, const std::vector<std::string>& practitioner_ids,
    const std::vector<std::string>& chair_ids, Interval window, absl::Time now) const {
  // A block overlapping the window starts before its end and, being at most kMaxBlock long, after
  // its start minus kMaxBlock: both bounds keep each half on its (resource, start_time) index
  // instead of scanning every appointment the resource ever had.
  const std::vector<DbValue> range = {ToDbMicros(window.start - kMaxBlock), ToDbMicros(window.end),
                                      ToDbMicros(window.start), ToDbMicros(now)};
  constexpr char kBlocking[] =
      " AND start_time > ? AND start_time < ? AND block_end_time > ?"
      " AND (status IN ('BOOKED', 'ARRIVED', 'IN_PROGRESS', 'FULFILLED') OR"
      " (status = 'PROPOSED' AND hold_expire_time > ?))";
  constexpr char kColumns[] = "SELECT id, practitioner_id, chair_id, start_time, block_end_time";
  std::string sql;
  std::vector<DbValue> params;
  for (const auto& [column, ids] :
       {std::pair{"practitioner_id", &practitioner_ids}, std::pair{"chair_id", &chair_ids}}) {
    if (ids->empty()) continue;
    absl::StrAppend(&sql, sql.empty() ? "" : " UNION ALL ", kColumns, " FROM appointments WHERE ",
                    column, " IN (", SqlPlaceholders(ids->size()), ")", kBlocking);
    for (const std::string& id : *ids) params.emplace_back(id);
    params.insert(params.end(), range.begin(), range.end());
  }
  if (sql.empty()) return std::vector<BusyBlock>{};
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  // An appointment found by both its practitioner and its chair comes twice (UNION ALL: cheaper
  // than SQLite's de-duplicating temporary B-tree of whole rows).
  absl::flat_hash_set<absl::string_view> seen;
  std::vector<BusyBlock> blocks;
  for (const Row& row : rows) {
    if (!seen.insert(row.Text(0)).second) continue;
    blocks.push_back(BusyBlock{row.Text(0), row.Text(1), row.Text(2),
                               Interval{FromDbMicros(row.Int(3)), FromDbMicros(row.Int(4))}});
  }
  return blocks;
}

absl::Status SchedulingStore::InsertAppointment(Transaction& txn,
                                                const v1::Appointment& appointment,
                                                absl::Time block_end) const {
  v1::Appointment stored = appointment;
  stored.set_etag(EtagOf(1));
  return InsertAppointment(txn, stored, block_end, Serialize(stored).bytes);
}

absl::Status SchedulingStore::InsertAppointment(Transaction& txn, const v1::Appointment& stored,
                                                absl::Time block_end,
                                                absl::string_view record) const {
  absl::Status inserted = txn.Exec(
      "INSERT INTO appointments (id, clinic_id, patient_id, practitioner_id, chair_id, type, "
      "plan_id, session_number, start_time, end_time, block_end_time, status, hold_expire_time, "
      "record, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
      {stored.id(), stored.clinic_id(), stored.patient_id(), stored.practitioner_id(),
       stored.chair_id(), v1::AppointmentType_Name(stored.type()), stored.plan_id(),
       int64_t{stored.session_number()}, ToDbMicros(FromProtoTimestamp(stored.start_time())),
       ToDbMicros(FromProtoTimestamp(stored.end_time())), ToDbMicros(block_end),
       v1::AppointmentStatus_Name(stored.status()),
       ToDbMicros(FromProtoTimestamp(stored.hold_expire_time())), Blob{std::string(record)}});
  if (absl::IsAlreadyExists(inserted) && !stored.plan_id().empty()) {
    return WithErrorInfo(
        absl::AbortedError(absl::StrCat("session ", stored.session_number(), " of plan ",
                                        stored.plan_id(),
                                        " was just booked by another request; book again")),
        kSessionNumberTakenReason,
        {{"plan_id", stored.plan_id()}, {"session_number", absl::StrCat(stored.session_number())}});
  }
  return inserted;
}

absl::Status SchedulingStore::UpdateAppointment(Transaction& txn,
                                                const v1::Appointment& appointment,
                                                absl::Time block_end,
                                                int64_t expected_version) const {
  v1::Appointment stored = appointment;
  stored.set_etag(EtagOf(expected_version + 1));
  return UpdateAppointment(txn, stored, block_end, expected_version, Serialize(stored).bytes);
}

absl::Status SchedulingStore::UpdateAppointment(Transaction& txn, const v1::Appointment& stored,
                                                absl::Time block_end, int64_t expected_version,
                                                absl::string_view record) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount(
          "UPDATE appointments SET practitioner_id = ?, chair_id = ?, start_time = ?, "
          "end_time = ?, block_end_time = ?, status = ?, hold_expire_time = ?, record = ?, "
          "version = version + 1 WHERE id = ? AND version = ?",
          {stored.practitioner_id(), stored.chair_id(),
           ToDbMicros(FromProtoTimestamp(stored.start_time())),
           ToDbMicros(FromProtoTimestamp(stored.end_time())), ToDbMicros(block_end),
           v1::AppointmentStatus_Name(stored.status()),
           ToDbMicros(FromProtoTimestamp(stored.hold_expire_time())), Blob{std::string(record)},
           stored.id(), expected_version}));
  if (changed == 0) {
    ASSIGN_OR_RETURN(v1::Appointment current, GetAppointment(txn, stored.id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
    return StaleEtagError("appointment", stored.id(), expected_version, version);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Appointment> SchedulingStore::GetAppointment(Transaction& txn,
                                                                absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT record FROM appointments WHERE id = ?", {std::string(id)}));
  return ParseOne<v1::Appointment>(rows, "appointment", id);
}

absl::StatusOr<std::vector<std::string>> SchedulingStore::ClinicsWithLapsedHolds(
    Transaction& txn, absl::Time now) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT DISTINCT clinic_id FROM appointments "
                                        "WHERE status = 'PROPOSED' AND hold_expire_time <= ?",
                                        {ToDbMicros(now)}));
  std::vector<std::string> clinics;
  for (const Row& row : rows) clinics.push_back(row.Text(0));
  return clinics;
}

absl::StatusOr<std::vector<v1::Appointment>> SchedulingStore::LapsedHolds(
    Transaction& txn, absl::string_view clinic_id, absl::Time now, int limit) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM appointments WHERE clinic_id = ? AND "
                                        "status = 'PROPOSED' AND hold_expire_time <= ? "
                                        "ORDER BY id LIMIT ?",
                                        {std::string(clinic_id), ToDbMicros(now), int64_t{limit}}));
  return ParseAll<v1::Appointment>(rows);
}

absl::StatusOr<Page<v1::Appointment>> SchedulingStore::ListAppointments(
    Transaction& txn, absl::string_view clinic_id, Interval period,
    absl::string_view practitioner_id, absl::string_view patient_id,
    const PageRequest& page) const {
  // Keyset on (start_time, id): the page key is "<start micros>/<id>".
  int64_t after_start = ToDbMicros(period.start) - 1;
  std::string after_id;
  if (!page.after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page.after_key, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_start)) {
      return absl::InvalidArgumentError("page_token: malformed");
    }
    after_id = parts[1];
  }
  std::vector<DbValue> params = {std::string(clinic_id),
                                 ToDbMicros(period.start),
                                 ToDbMicros(period.end),
                                 after_start,
                                 after_start,
                                 after_id};
  std::string sql =
      "SELECT record, start_time FROM appointments WHERE clinic_id = ? AND start_time >= ? "
      "AND start_time < ? AND (start_time > ? OR (start_time = ? AND id > ?))";
  if (!practitioner_id.empty()) {
    absl::StrAppend(&sql, " AND practitioner_id = ?");
    params.emplace_back(std::string(practitioner_id));
  }
  if (!patient_id.empty()) {
    absl::StrAppend(&sql, " AND patient_id = ?");
    params.emplace_back(std::string(patient_id));
  }
  absl::StrAppend(&sql, " ORDER BY start_time, id LIMIT ?");
  params.emplace_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  ASSIGN_OR_RETURN(std::vector<v1::Appointment> items, ParseAll<v1::Appointment>(rows));
  return MakePage(std::move(items), page.size, [](const v1::Appointment& a) {
    return absl::StrCat(ToDbMicros(FromProtoTimestamp(a.start_time())), "/", a.id());
  });
}

// ---------------------------------------------------------------- start attempts

absl::StatusOr<std::string> SchedulingStore::BeginStartAttempt(Transaction& txn,
                                                               absl::string_view appointment_id,
                                                               absl::string_view candidate,
                                                               absl::Time now) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT attempt_id, started FROM start_attempts "
                                        "WHERE appointment_id = ?",
                                        {std::string(appointment_id)}));
  if (!rows.empty() && rows[0].Int(1) == 0) return rows[0].Text(0);
  if (!rows.empty()) {
    // A start committed with the old attempt and the appointment is startable again: a new start.
    RETURN_IF_ERROR(
        txn.Exec("UPDATE start_attempts SET attempt_id = ?, started = 0, "
                 "create_time = ? WHERE appointment_id = ?",
                 {std::string(candidate), ToDbMicros(now), std::string(appointment_id)}));
    return std::string(candidate);
  }
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO start_attempts (appointment_id, attempt_id, started, create_time) "
               "VALUES (?, ?, 0, ?)",
               {std::string(appointment_id), std::string(candidate), ToDbMicros(now)}));
  return std::string(candidate);
}

absl::Status SchedulingStore::MarkStartAttemptStarted(Transaction& txn,
                                                      absl::string_view appointment_id,
                                                      absl::string_view attempt_id) const {
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("UPDATE start_attempts SET started = 1 "
                                 "WHERE appointment_id = ? AND attempt_id = ?",
                                 {std::string(appointment_id), std::string(attempt_id)}));
  if (changed != 1) {
    return absl::AbortedError(absl::StrCat(
        "appointment ", appointment_id,
        ": the supplies of this start are being returned (another start of it failed); start "
        "it again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SchedulingStore::AbandonStartAttempt(Transaction& txn,
                                                          absl::string_view appointment_id,
                                                          absl::string_view attempt_id) const {
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("DELETE FROM start_attempts WHERE appointment_id = ? AND "
                                 "attempt_id = ? AND started = 0",
                                 {std::string(appointment_id), std::string(attempt_id)}));
  return changed == 1;
}

// ---------------------------------------------------------------- change feed

absl::StatusOr<int64_t> SchedulingStore::NextSequence(Transaction& txn,
                                                      absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("INSERT INTO feed_heads (clinic_id, head) VALUES (?, 1) "
                             "ON CONFLICT (clinic_id) DO UPDATE SET head = feed_heads.head + 1 "
                             "RETURNING head",
                             {std::string(clinic_id)}));
  if (rows.size() != 1) return absl::InternalError("feed head upsert returned no head");
  return rows[0].Int(0);
}

absl::Status SchedulingStore::AppendChange(Transaction& txn, const v1::Change& change) const {
  return txn.Exec(
      "INSERT INTO appointment_changes (clinic_id, sequence, type, change) "
      "VALUES (?, ?, ?, ?)",
      {change.clinic_id(), change.sequence(), v1::ChangeType_Name(change.type()),
       Serialize(change)});
}

absl::Status SchedulingStore::AppendChange(Transaction& txn,
                                           const v1::Change& change_without_appointment,
                                           absl::string_view appointment_record) const {
  // Field 4 (appointment), length-delimited, after the other fields: parsers take fields in any
  // order, so this is the encoding of the whole Change.
  std::string bytes = change_without_appointment.SerializeAsString();
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
        v1::Change::kAppointmentFieldNumber,
        google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(static_cast<uint32_t>(appointment_record.size()));
    out.WriteRaw(appointment_record.data(), static_cast<int>(appointment_record.size()));
  }
  return txn.Exec(
      "INSERT INTO appointment_changes (clinic_id, sequence, type, change) "
      "VALUES (?, ?, ?, ?)",
      {change_without_appointment.clinic_id(), change_without_appointment.sequence(),
       v1::ChangeType_Name(change_without_appointment.type()), Blob{std::move(bytes)}});
}

absl::StatusOr<std::vector<v1::Change>> SchedulingStore::ListChanges(Transaction& txn,
                                                                     absl::string_view clinic_id,
                                                                     int64_t since,
                                                                     int limit) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT change FROM appointment_changes "
                                        "WHERE clinic_id = ? AND sequence > ? "
                                        "ORDER BY sequence LIMIT ?",
                                        {std::string(clinic_id), since, int64_t{limit}}));
  return ParseAll<v1::Change>(rows);
}

absl::StatusOr<std::vector<int64_t>> SchedulingStore::FeedHeads(
    Transaction& txn, const std::vector<std::string>& clinic_ids) const {
  std::vector<int64_t> heads(clinic_ids.size(), 0);
  if (clinic_ids.empty()) return heads;
  std::vector<DbValue> params(clinic_ids.begin(), clinic_ids.end());
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT clinic_id, head FROM feed_heads "
                                                     "WHERE clinic_id IN (",
                                                     SqlPlaceholders(clinic_ids.size()), ")"),
                                        params));
  for (const Row& row : rows) {
    const auto it = std::find(clinic_ids.begin(), clinic_ids.end(), row.Text(0));
    if (it != clinic_ids.end()) heads[static_cast<size_t>(it - clinic_ids.begin())] = row.Int(1);
  }
  return heads;
}

absl::StatusOr<int64_t> SchedulingStore::HeadSequence(Transaction& txn,
                                                      absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT head FROM feed_heads WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

// ---------------------------------------------------------------- change feed, as stored

absl::StatusOr<std::vector<SchedulingStore::StoredChange>> SchedulingStore::ListStoredChanges(
    Transaction& txn, absl::string_view clinic_id, int64_t since, int limit) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT sequence, change FROM appointment_changes "
                                        "WHERE clinic_id = ? AND sequence > ? "
                                        "ORDER BY sequence LIMIT ?",
                                        {std::string(clinic_id), since, int64_t{limit}}));
  std::vector<StoredChange> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back({row.Int(0), row.Text(1)});
  return out;
}

}  // namespace smp::scheduling
