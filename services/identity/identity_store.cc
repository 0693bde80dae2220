#include "services/identity/identity_store.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "services/identity/identity_reasons.h"

namespace smp::identity {
namespace {

constexpr char kClinicColumns[] =
    "id, name, time_zone, phone, address_lines, locality, administrative_area, postal_code, "
    "region_code, create_time, update_time, version";

v1::Clinic ClinicFromRow(const Row& row) {
  v1::Clinic c;
  c.set_id(row.Text(0));
  c.set_name(row.Text(1));
  c.set_time_zone(row.Text(2));
  c.set_phone(row.Text(3));
  v1::PostalAddress* a = c.mutable_address();
  if (!row.Text(4).empty()) {
    for (absl::string_view line : absl::StrSplit(row.Text(4), '\n')) {
      a->add_address_lines(std::string(line));
    }
  }
  a->set_locality(row.Text(5));
  a->set_administrative_area(row.Text(6));
  a->set_postal_code(row.Text(7));
  a->set_region_code(row.Text(8));
  *c.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(9)));
  *c.mutable_update_time() = ToProtoTimestamp(FromDbMicros(row.Int(10)));
  c.set_etag(EtagOf(row.Int(11)));
  return c;
}

constexpr char kStaffColumns[] =
    "id, username, display_name, email, state, create_time, update_time, version";

v1::Staff StaffFromRow(const Row& row) {
  v1::Staff s;
  s.set_id(row.Text(0));
  s.set_username(row.Text(1));
  s.set_display_name(row.Text(2));
  s.set_email(row.Text(3));
  s.set_state(row.Text(4) == "ACTIVE" ? v1::STAFF_STATE_ACTIVE : v1::STAFF_STATE_DISABLED);
  *s.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(5)));
  *s.mutable_update_time() = ToProtoTimestamp(FromDbMicros(row.Int(6)));
  s.set_etag(EtagOf(row.Int(7)));
  return s;
}

// Turns an UPDATE ... WHERE version = ? that matched nothing into NOT_FOUND or ABORTED.
absl::Status VersionConflict(Transaction& txn, absl::string_view table, absl::string_view kind,
                             absl::string_view id, int64_t expected_version) {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(absl::StrCat("SELECT version FROM ", table, " WHERE id = ?"), {std::string(id)}));
  if (rows.empty()) return NotFound(kind, id);
  return StaleEtagError(kind, id, expected_version, rows[0].Int(0));
}

// The keyset of every identity list: ids, which are time-sortable.
template <typename T>
std::string IdOf(const T& item) {
  return item.id();
}

}  // namespace

absl::StatusOr<v1::Clinic> IdentityStore::CreateClinic(Transaction& txn, const v1::Clinic& clinic,
                                                       absl::Time now) const {
  v1::Clinic stored = clinic;
  stored.set_id(NewIdAt(now));
  const v1::PostalAddress& a = clinic.address();
  RETURN_IF_ERROR(
      txn.Exec(absl::StrCat("INSERT INTO clinics (", kClinicColumns,
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"),
               {stored.id(), clinic.name(), clinic.time_zone(), clinic.phone(),
                absl::StrJoin(a.address_lines(), "\n"), a.locality(), a.administrative_area(),
                a.postal_code(), a.region_code(), ToDbMicros(now), ToDbMicros(now)}));
  return GetClinic(txn, stored.id());
}

absl::StatusOr<v1::Clinic> IdentityStore::GetClinic(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kClinicColumns, " FROM clinics WHERE id = ?"),
                             {std::string(id)}));
  if (rows.empty()) return NotFound("clinic", id);
  return ClinicFromRow(rows[0]);
}

absl::StatusOr<Page<v1::Clinic>> IdentityStore::ListClinics(
    Transaction& txn, const PageRequest& page,
    const std::optional<std::vector<std::string>>& only) const {
  std::vector<DbValue> params = {page.after_key};
  std::string sql = absl::StrCat("SELECT ", kClinicColumns, " FROM clinics WHERE id > ?");
  if (only.has_value()) {
    if (only->empty()) return Page<v1::Clinic>{};
    absl::StrAppend(&sql, " AND id IN (", SqlPlaceholders(only->size()), ")");
    for (const std::string& id : *only) params.emplace_back(id);
  }
  absl::StrAppend(&sql, " ORDER BY id LIMIT ?");
  params.emplace_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  std::vector<v1::Clinic> clinics;
  for (const Row& row : rows) clinics.push_back(ClinicFromRow(row));
  return MakePage(std::move(clinics), page.size, IdOf<v1::Clinic>);
}

absl::StatusOr<v1::Clinic> IdentityStore::UpdateClinic(Transaction& txn, const v1::Clinic& updated,
                                                       int64_t expected_version,
                                                       absl::Time now) const {
  const v1::PostalAddress& a = updated.address();
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount(
          "UPDATE clinics SET name = ?, time_zone = ?, phone = ?, address_lines = ?, "
          "locality = ?, administrative_area = ?, postal_code = ?, region_code = ?, "
          "update_time = ?, version = version + 1 WHERE id = ? AND version = ?",
          {updated.name(), updated.time_zone(), updated.phone(),
           absl::StrJoin(a.address_lines(), "\n"), a.locality(), a.administrative_area(),
           a.postal_code(), a.region_code(), ToDbMicros(now), updated.id(), expected_version}));
  if (changed == 0)
    return VersionConflict(txn, "clinics", "clinic", updated.id(), expected_version);
  return GetClinic(txn, updated.id());
}

absl::Status IdentityStore::CheckClinicsExist(Transaction& txn, const v1::Staff& staff,
                                              absl::string_view prefix) const {
  for (int i = 0; i < staff.clinic_ids_size(); ++i) {
    ASSIGN_OR_RETURN(auto rows,
                     txn.Query("SELECT 1 FROM clinics WHERE id = ?", {staff.clinic_ids(i)}));
    if (rows.empty()) {
      const std::string field = absl::StrCat(prefix, ".clinic_ids[", i, "]");
      return WithErrorInfo(
          absl::NotFoundError(absl::StrCat(field, ": clinic ", staff.clinic_ids(i), " not found")),
          identity_reason::kUnknownClinic, {{"clinic_id", staff.clinic_ids(i)}, {"field", field}});
    }
  }
  return absl::OkStatus();
}

absl::Status IdentityStore::WriteGrants(Transaction& txn, const v1::Staff& staff) const {
  RETURN_IF_ERROR(txn.Exec("DELETE FROM staff_roles WHERE staff_id = ?", {staff.id()}));
  RETURN_IF_ERROR(txn.Exec("DELETE FROM staff_clinics WHERE staff_id = ?", {staff.id()}));
  for (int role : staff.roles()) {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO staff_roles (staff_id, role) VALUES (?, ?)",
                             {staff.id(), common::v1::Role_Name(role)}));
  }
  for (const std::string& clinic : staff.clinic_ids()) {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO staff_clinics (staff_id, clinic_id) VALUES (?, ?)",
                             {staff.id(), clinic}));
  }
  return absl::OkStatus();
}

absl::Status IdentityStore::LoadGrants(Transaction& txn, v1::Staff& staff) const {
  ASSIGN_OR_RETURN(auto roles, txn.Query("SELECT role FROM staff_roles WHERE staff_id = ? "
                                         "ORDER BY role",
                                         {staff.id()}));
  for (const Row& row : roles) {
    common::v1::Role role;
    if (!common::v1::Role_Parse(row.Text(0), &role)) {
      return absl::InternalError(
          absl::StrCat("staff ", staff.id(), " has unknown stored role ", row.Text(0)));
    }
    staff.add_roles(role);
  }
  ASSIGN_OR_RETURN(auto clinics, txn.Query("SELECT clinic_id FROM staff_clinics "
                                           "WHERE staff_id = ? ORDER BY clinic_id",
                                           {staff.id()}));
  for (const Row& row : clinics) staff.add_clinic_ids(row.Text(0));
  return absl::OkStatus();
}

absl::StatusOr<v1::Staff> IdentityStore::CreateStaff(Transaction& txn, const v1::Staff& staff,
                                                     const std::string& password_hash,
                                                     absl::Time now) const {
  v1::Staff stored = staff;
  stored.set_id(NewIdAt(now));
  absl::Status inserted = txn.Exec(
      "INSERT INTO staff (id, username, display_name, email, password_hash, state, create_time, "
      "update_time, version) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, 1)",
      {stored.id(), staff.username(), staff.display_name(), staff.email(), password_hash,
       ToDbMicros(now), ToDbMicros(now)});
  if (absl::IsAlreadyExists(inserted)) {
    return WithErrorInfo(absl::AlreadyExistsError(absl::StrCat(
                             "staff.username: \"", staff.username(), "\" is already taken")),
                         identity_reason::kUsernameTaken, {{"username", staff.username()}});
  }
  RETURN_IF_ERROR(inserted);
  RETURN_IF_ERROR(WriteGrants(txn, stored));
  return GetStaff(txn, stored.id());
}

absl::StatusOr<v1::Staff> IdentityStore::GetStaff(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kStaffColumns, " FROM staff WHERE id = ?"),
                             {std::string(id)}));
  if (rows.empty()) return NotFound("staff", id);
  v1::Staff staff = StaffFromRow(rows[0]);
  RETURN_IF_ERROR(LoadGrants(txn, staff));
  return staff;
}

absl::StatusOr<std::optional<StaffCredentials>> IdentityStore::FindByUsername(
    Transaction& txn, absl::string_view username) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kStaffColumns,
                                          ", password_hash FROM staff WHERE username = ?"),
                             {std::string(username)}));
  if (rows.empty()) return std::nullopt;
  StaffCredentials found{StaffFromRow(rows[0]), rows[0].Text(8)};
  RETURN_IF_ERROR(LoadGrants(txn, found.staff));
  return found;
}

absl::StatusOr<std::string> IdentityStore::GetPasswordHash(Transaction& txn,
                                                           absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT password_hash FROM staff WHERE id = ?", {std::string(id)}));
  if (rows.empty()) return NotFound("staff", id);
  return rows[0].Text(0);
}

absl::StatusOr<Page<v1::Staff>> IdentityStore::ListStaff(
    Transaction& txn, const PageRequest& page,
    const std::optional<std::vector<std::string>>& in_clinics) const {
  std::vector<DbValue> params = {page.after_key};
  std::string sql = absl::StrCat("SELECT ", kStaffColumns, " FROM staff WHERE id > ?");
  if (in_clinics.has_value()) {
    if (in_clinics->empty()) return Page<v1::Staff>{};
    absl::StrAppend(&sql, " AND id IN (SELECT staff_id FROM staff_clinics WHERE clinic_id IN (",
                    SqlPlaceholders(in_clinics->size()), "))");
    for (const std::string& id : *in_clinics) params.emplace_back(id);
  }
  absl::StrAppend(&sql, " ORDER BY id LIMIT ?");
  params.emplace_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  std::vector<v1::Staff> staff;
  for (const Row& row : rows) {
    staff.push_back(StaffFromRow(row));
    RETURN_IF_ERROR(LoadGrants(txn, staff.back()));
  }
  return MakePage(std::move(staff), page.size, IdOf<v1::Staff>);
}

absl::StatusOr<v1::Staff> IdentityStore::UpdateStaffProfile(Transaction& txn,
                                                            const v1::Staff& updated,
                                                            int64_t expected_version,
                                                            absl::Time now) const {
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("UPDATE staff SET display_name = ?, email = ?, update_time = ?, "
                                 "version = version + 1 WHERE id = ? AND version = ?",
                                 {updated.display_name(), updated.email(), ToDbMicros(now),
                                  updated.id(), expected_version}));
  if (changed == 0) return VersionConflict(txn, "staff", "staff", updated.id(), expected_version);
  RETURN_IF_ERROR(WriteGrants(txn, updated));
  return GetStaff(txn, updated.id());
}

absl::StatusOr<v1::Staff> IdentityStore::SetStaffState(Transaction& txn, absl::string_view id,
                                                       v1::StaffState state, absl::Time now) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount("UPDATE staff SET state = ?, update_time = ?, version = version + 1 "
                    "WHERE id = ?",
                    {std::string(state == v1::STAFF_STATE_ACTIVE ? "ACTIVE" : "DISABLED"),
                     ToDbMicros(now), std::string(id)}));
  if (changed == 0) return NotFound("staff", id);
  return GetStaff(txn, id);
}

absl::Status IdentityStore::SetPasswordHash(Transaction& txn, absl::string_view id,
                                            const std::string& hash, absl::Time now) const {
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("UPDATE staff SET password_hash = ?, update_time = ?, "
                                 "version = version + 1 WHERE id = ?",
                                 {hash, ToDbMicros(now), std::string(id)}));
  if (changed == 0) return NotFound("staff", id);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IdentityStore::CountStaff(Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM staff"));
  return rows.at(0).Int(0);
}

absl::StatusOr<int64_t> IdentityStore::CountActiveAdmins(Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT COUNT(*) FROM staff JOIN staff_roles ON staff_id = id "
                             "WHERE state = 'ACTIVE' AND role = 'ROLE_ADMIN'"));
  return rows.at(0).Int(0);
}

absl::Status IdentityStore::RecordEvent(Transaction& txn, absl::string_view actor_staff_id,
                                        absl::string_view action, absl::string_view subject_id,
                                        absl::string_view detail, absl::Time now) const {
  return txn.Exec(
      "INSERT INTO identity_events (id, time, actor_staff_id, action, subject_id, detail) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {NewIdAt(now), ToDbMicros(now), std::string(actor_staff_id), std::string(action),
       std::string(subject_id), std::string(detail)});
}

absl::Status IdentityStore::AddPendingRevocation(Transaction& txn, absl::string_view staff_id,
                                                 absl::string_view action, absl::Time now,
                                                 absl::string_view spare_session_id) const {
  return txn.Exec(
      "INSERT INTO pending_revocations (id, staff_id, action, change_time, spare_session_id) "
      "VALUES (?, ?, ?, ?, ?)",
      {NewIdAt(now), std::string(staff_id), std::string(action), ToDbMicros(now),
       std::string(spare_session_id)});
}

absl::StatusOr<std::vector<PendingRevocation>> IdentityStore::ListPendingRevocations(
    Transaction& txn, absl::string_view staff_id, int limit) const {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      txn.Query("SELECT id, staff_id, action, change_time, spare_session_id "
                "FROM pending_revocations WHERE ? = '' OR staff_id = ? ORDER BY id LIMIT ?",
                {std::string(staff_id), std::string(staff_id), int64_t{limit}}));
  std::vector<PendingRevocation> pending;
  for (const Row& row : rows) {
    pending.push_back(
        {row.Text(0), row.Text(1), row.Text(2), FromDbMicros(row.Int(3)), row.Text(4)});
  }
  return pending;
}

absl::Status IdentityStore::DeletePendingRevocations(Transaction& txn,
                                                     const std::vector<std::string>& ids) const {
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(txn.Exec("DELETE FROM pending_revocations WHERE id = ?", {id}));
  }
  return absl::OkStatus();
}

absl::Status IdentityStore::SetPendingRevocationsTime(Transaction& txn,
                                                      const std::vector<std::string>& ids,
                                                      absl::Time time) const {
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(txn.Exec("UPDATE pending_revocations SET change_time = ? WHERE id = ?",
                             {ToDbMicros(time), id}));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IdentityStore::CountPendingRevocations(Transaction& txn) const {
  ASSIGN_OR_RETURN(std::vector<Row> rows, txn.Query("SELECT COUNT(*) FROM pending_revocations"));
  return rows.at(0).Int(0);
}

absl::Status IdentityStore::AddLoginFailure(Transaction& txn, absl::string_view kind,
                                            absl::string_view subject, absl::Duration window,
                                            absl::Time now) const {
  const absl::Time window_start = absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), window);
  return txn.Exec(
      "INSERT INTO login_failures (window_start, kind, subject, failures, first_time, last_time) "
      "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (window_start, kind, subject) DO UPDATE SET "
      "failures = login_failures.failures + 1, last_time = excluded.last_time",
      {ToDbMicros(window_start), std::string(kind), std::string(subject), ToDbMicros(now),
       ToDbMicros(now)});
}

absl::StatusOr<std::vector<LoginFailureRow>> IdentityStore::ListLoginFailures(
    Transaction& txn, absl::Time since) const {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   txn.Query("SELECT window_start, kind, subject, failures, first_time, last_time "
                             "FROM login_failures WHERE window_start >= ? "
                             "ORDER BY window_start DESC, kind, subject",
                             {ToDbMicros(since)}));
  std::vector<LoginFailureRow> out;
  for (const Row& row : rows) {
    out.push_back({FromDbMicros(row.Int(0)), row.Text(1), row.Text(2), row.Int(3),
                   FromDbMicros(row.Int(4)), FromDbMicros(row.Int(5))});
  }
  return out;
}

std::string LoginFailureKey(const LoginFailureRow& row) {
  return absl::StrCat(ToDbMicros(row.window_start), "|", row.kind, "|", row.subject);
}

absl::StatusOr<Page<LoginFailureRow>> IdentityStore::ListLoginFailurePage(
    Transaction& txn, absl::Time start, absl::Time end, const PageRequest& page) const {
  // The key is "<window micros>|<kind>|<subject>"; the subject may hold '|', the others not.
  int64_t after_window = std::numeric_limits<int64_t>::min();
  std::string after_kind, after_subject;
  if (!page.after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page.after_key, absl::MaxSplits('|', 2));
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &after_window)) {
      return absl::InvalidArgumentError("page_token: is not valid");
    }
    after_kind = parts[1];
    after_subject = parts[2];
  }
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   txn.Query("SELECT window_start, kind, subject, failures, first_time, last_time "
                             "FROM login_failures WHERE window_start >= ? AND window_start < ? "
                             "AND (window_start, kind, subject) > (?, ?, ?) "
                             "ORDER BY window_start, kind, subject LIMIT ?",
                             {ToDbMicros(start), ToDbMicros(end), after_window, after_kind,
                              after_subject, int64_t{page.size} + 1}));
  std::vector<LoginFailureRow> out;
  for (const Row& row : rows) {
    out.push_back({FromDbMicros(row.Int(0)), row.Text(1), row.Text(2), row.Int(3),
                   FromDbMicros(row.Int(4)), FromDbMicros(row.Int(5))});
  }
  return MakePage(std::move(out), page.size, LoginFailureKey);
}

absl::StatusOr<int64_t> IdentityStore::PurgeLoginFailures(Transaction& txn,
                                                          absl::Time cutoff) const {
  return txn.ExecCount("DELETE FROM login_failures WHERE window_start < ?", {ToDbMicros(cutoff)});
}

}  // namespace smp::identity
