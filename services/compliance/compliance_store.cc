#include "services/compliance/compliance_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/db/store_kit.h"
#include "common/status/status_macros.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "services/compliance/audit_chain.h"
#include "services/compliance/compliance_rules.h"

namespace smp::compliance {
namespace {

constexpr char kAuditColumns[] =
    "sequence, time, actor_id, actor_roles, action, method, entity_type, entity_id, detail, "
    "previous_hash, hash";

v1::AuditEntry AuditFromRow(const Row& row) {
  v1::AuditEntry e;
  e.set_sequence(row.Int(0));
  *e.mutable_time() = ToProtoTimestamp(FromDbMicros(row.Int(1)));
  e.set_actor_id(row.Text(2));
  if (!row.Text(3).empty()) {
    for (absl::string_view role : absl::StrSplit(row.Text(3), ',')) {
      e.add_actor_roles(std::string(role));
    }
  }
  v1::AuditAction action = v1::AUDIT_ACTION_UNSPECIFIED;
  v1::AuditAction_Parse(row.Text(4), &action);  // an unknown name fails the hash check
  e.set_action(action);
  e.set_method(row.Text(5));
  e.set_entity_type(row.Text(6));
  e.set_entity_id(row.Text(7));
  e.set_detail(row.Text(8));
  e.set_previous_hash(row.Text(9));
  e.set_hash(row.Text(10));
  return e;
}

}  // namespace

absl::StatusOr<v1::Credential> ComplianceStore::AddCredential(Transaction& txn, v1::Credential c,
                                                              absl::Time now) const {
  c.set_id(NewIdAt(now));
  *c.mutable_create_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO credentials (id, practitioner_id, kind, valid_until, record) "
               "VALUES (?, ?, ?, ?, ?)",
               {c.id(), c.practitioner_id(), v1::CredentialKind_Name(c.kind()),
                DayText(FromLocalDate(c.valid_until())), Serialize(c)}));
  return c;
}

absl::StatusOr<std::vector<v1::Credential>> ComplianceStore::CredentialsOf(
    Transaction& txn, absl::string_view practitioner_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM credentials WHERE practitioner_id = ? "
                                        "ORDER BY id DESC",
                                        {std::string(practitioner_id)}));
  return ParseAll<v1::Credential>(rows);
}

absl::StatusOr<v1::Permit> ComplianceStore::AddPermit(Transaction& txn, v1::Permit p,
                                                      absl::Time now) const {
  p.set_id(NewIdAt(now));
  *p.mutable_create_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO permits (id, clinic_id, kind, valid_until, record) "
               "VALUES (?, ?, ?, ?, ?)",
               {p.id(), p.clinic_id(), v1::PermitKind_Name(p.kind()),
                DayText(FromLocalDate(p.valid_until())), Serialize(p)}));
  return p;
}

absl::StatusOr<std::vector<v1::Permit>> ComplianceStore::PermitsOf(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM permits WHERE clinic_id = ? "
                                        "ORDER BY id DESC",
                                        {std::string(clinic_id)}));
  return ParseAll<v1::Permit>(rows);
}

absl::StatusOr<std::vector<v1::Credential>> ComplianceStore::CredentialsEndingBy(
    Transaction& txn, absl::CivilDay until) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM credentials WHERE valid_until <= ? "
                                        "ORDER BY valid_until, id",
                                        {DayText(until)}));
  return ParseAll<v1::Credential>(rows);
}

absl::StatusOr<std::vector<v1::Permit>> ComplianceStore::PermitsEndingBy(
    Transaction& txn, absl::CivilDay until) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM permits WHERE valid_until <= ? "
                                        "ORDER BY valid_until, id",
                                        {DayText(until)}));
  return ParseAll<v1::Permit>(rows);
}

absl::StatusOr<v1::Consent> ComplianceStore::AddConsent(Transaction& txn, v1::Consent c,
                                                        absl::Time now) const {
  c.set_id(NewIdAt(now));
  *c.mutable_record_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(txn.Exec("INSERT INTO consents (id, patient_id, record) VALUES (?, ?, ?)",
                           {c.id(), c.patient_id(), Serialize(c)}));
  return c;
}

absl::StatusOr<v1::Consent> ComplianceStore::GetConsent(Transaction& txn,
                                                        absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT record FROM consents WHERE id = ?", {std::string(id)}));
  return ParseOne<v1::Consent>(rows, "consent", id);
}

absl::Status ComplianceStore::UpdateConsent(Transaction& txn, const v1::Consent& c) const {
  return txn.Exec("UPDATE consents SET record = ? WHERE id = ?", {Serialize(c), c.id()});
}

absl::StatusOr<std::vector<v1::Consent>> ComplianceStore::ConsentsOf(
    Transaction& txn, absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM consents WHERE patient_id = ? "
                                        "ORDER BY id DESC",
                                        {std::string(patient_id)}));
  return ParseAll<v1::Consent>(rows);
}

absl::StatusOr<v1::Screening> ComplianceStore::AddScreening(Transaction& txn, v1::Screening s,
                                                            absl::Time now) const {
  s.set_id(NewIdAt(now));
  *s.mutable_record_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO screenings (id, patient_id, clinic_id, screened_time, record) "
               "VALUES (?, ?, ?, ?, ?)",
               {s.id(), s.patient_id(), s.clinic_id(),
                ToDbMicros(FromProtoTimestamp(s.screened_time())), Serialize(s)}));
  return s;
}

absl::StatusOr<v1::Screening> ComplianceStore::GetScreening(Transaction& txn,
                                                            absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT record FROM screenings WHERE id = ?", {std::string(id)}));
  return ParseOne<v1::Screening>(rows, "screening", id);
}

absl::Status ComplianceStore::UpdateScreening(Transaction& txn, const v1::Screening& s) const {
  return txn.Exec("UPDATE screenings SET record = ? WHERE id = ?", {Serialize(s), s.id()});
}

absl::StatusOr<std::vector<v1::Screening>> ComplianceStore::ScreeningsOf(
    Transaction& txn, absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM screenings WHERE patient_id = ? "
                                        "ORDER BY screened_time DESC, id DESC",
                                        {std::string(patient_id)}));
  return ParseAll<v1::Screening>(rows);
}

namespace {

// "?, ?, ..." for `values`, appended to `params`.
std::string Placeholders(const std::vector<std::string>& values, std::vector<DbValue>& params) {
  std::string out;
  for (const std::string& v : values) {
    absl::StrAppend(&out, out.empty() ? "?" : ", ?");
    params.emplace_back(v);
  }
  return out;
}

// Rows of (key, record), each record parsed into the message `into` gives for its key.
template <typename Message>
absl::Status ParseEachInto(const std::vector<Row>& rows,
                           absl::FunctionRef<Message*(const std::string& key)> into) {
  for (const Row& row : rows) RETURN_IF_ERROR(ParseInto(row.Text(1), "record", into(row.Text(0))));
  return absl::OkStatus();
}

}  // namespace

absl::Status ComplianceStore::ConsentsOfPatients(
    Transaction& txn, const std::vector<std::string>& patient_ids,
    absl::FunctionRef<v1::Consent*(const std::string& patient_id)> into) const {
  if (patient_ids.empty()) return absl::OkStatus();
  std::vector<DbValue> params;
  const std::string in = Placeholders(patient_ids, params);
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT patient_id, record FROM consents "
                                                     "WHERE patient_id IN (",
                                                     in, ") ORDER BY patient_id, id DESC"),
                                        params));
  return ParseEachInto<v1::Consent>(rows, into);
}

absl::Status ComplianceStore::ScreeningsOfPatients(
    Transaction& txn, const std::vector<std::string>& patient_ids,
    absl::FunctionRef<v1::Screening*(const std::string& patient_id)> into) const {
  if (patient_ids.empty()) return absl::OkStatus();
  std::vector<DbValue> params;
  const std::string in = Placeholders(patient_ids, params);
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT patient_id, record FROM screenings "
                                          "WHERE patient_id IN (",
                                          in, ") ORDER BY patient_id, screened_time DESC, id DESC"),
                             params));
  return ParseEachInto<v1::Screening>(rows, into);
}

absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>>
ComplianceStore::UsesOfSerials(Transaction& txn, const std::vector<std::string>& serials) const {
  absl::flat_hash_map<std::string, std::vector<std::string>> uses;
  if (serials.empty()) return uses;
  std::vector<DbValue> params;
  const std::string in = Placeholders(serials, params);
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT serial, procedure_id FROM "
                                                     "needle_uses WHERE serial IN (",
                                                     in, ") ORDER BY serial, procedure_id"),
                                        params));
  for (const Row& row : rows) uses[row.Text(0)].push_back(row.Text(1));
  return uses;
}

absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>>
ComplianceStore::ReusesOfSerials(Transaction& txn, const std::vector<std::string>& serials) const {
  absl::flat_hash_map<std::string, std::vector<std::string>> uses;
  if (serials.empty()) return uses;
  std::vector<DbValue> params;
  const std::string in = Placeholders(serials, params);
  ASSIGN_OR_RETURN(auto reused,
                   txn.Query(absl::StrCat("SELECT serial FROM reused_serials WHERE serial IN (", in,
                                          ") ORDER BY serial"),
                             params));
  std::vector<std::string> found;
  found.reserve(reused.size());
  for (const Row& row : reused) found.push_back(row.Text(0));
  return UsesOfSerials(txn, found);
}

absl::StatusOr<std::vector<v1::LotRecall>> ComplianceStore::RecallsOf(
    Transaction& txn, const std::vector<std::pair<std::string, std::string>>& lots) const {
  if (lots.empty()) return std::vector<v1::LotRecall>{};
  std::vector<DbValue> params;
  std::string where;
  for (const auto& [product_id, lot] : lots) {
    absl::StrAppend(&where, where.empty() ? "" : " OR ", "(product_id = ? AND lot = ?)");
    params.emplace_back(product_id);
    params.emplace_back(lot);
  }
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT record FROM lot_recalls WHERE ", where,
                                                     " ORDER BY product_id, lot"),
                                        params));
  return ParseAll<v1::LotRecall>(rows);
}

namespace {

// One page of the records of `table` whose `column` is `value`, newest (highest id) first, keyed
// by id. `table` and `column` are this file's constants, never input.
template <typename Message>
absl::StatusOr<Page<Message>> PageById(Transaction& txn, absl::string_view table,
                                       absl::string_view column, absl::string_view value,
                                       const PageRequest& page) {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(absl::StrCat("SELECT record FROM ", table, " WHERE ", column,
                             " = ? AND (? = '' OR id < ?) "
                             "ORDER BY id DESC LIMIT ?"),
                {std::string(value), page.after_key, page.after_key, int64_t{page.size + 1}}));
  ASSIGN_OR_RETURN(auto all, ParseAll<Message>(rows));
  return MakePage(std::move(all), page.size, [](const Message& m) { return m.id(); });
}

// "<micros>/<id>", the key of the screenings list (newest first).
std::string ScreeningKey(const v1::Screening& s) {
  return absl::StrCat(ToDbMicros(FromProtoTimestamp(s.screened_time())), "/", s.id());
}

}  // namespace

absl::StatusOr<Page<v1::Credential>> ComplianceStore::ListCredentials(
    Transaction& txn, absl::string_view practitioner_id, const PageRequest& page) const {
  return PageById<v1::Credential>(txn, "credentials", "practitioner_id", practitioner_id, page);
}

absl::StatusOr<Page<v1::Permit>> ComplianceStore::ListPermits(Transaction& txn,
                                                              absl::string_view clinic_id,
                                                              const PageRequest& page) const {
  return PageById<v1::Permit>(txn, "permits", "clinic_id", clinic_id, page);
}

absl::StatusOr<Page<v1::Consent>> ComplianceStore::ListConsents(Transaction& txn,
                                                                absl::string_view patient_id,
                                                                const PageRequest& page) const {
  return PageById<v1::Consent>(txn, "consents", "patient_id", patient_id, page);
}

absl::StatusOr<Page<v1::Screening>> ComplianceStore::ListScreenings(Transaction& txn,
                                                                    absl::string_view patient_id,
                                                                    const PageRequest& page) const {
  int64_t after_time = INT64_MAX;
  std::string after_id;
  if (!page.after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page.after_key, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_time)) {
      return absl::InternalError("bad screening page key");
    }
    after_id = parts[1];
  }
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM screenings WHERE patient_id = ? AND "
                                        "(? = '' OR (screened_time, id) < (?, ?)) "
                                        "ORDER BY screened_time DESC, id DESC LIMIT ?",
                                        {std::string(patient_id), page.after_key, after_time,
                                         after_id, int64_t{page.size + 1}}));
  ASSIGN_OR_RETURN(auto all, ParseAll<v1::Screening>(rows));
  return MakePage(std::move(all), page.size, ScreeningKey);
}

absl::StatusOr<std::vector<std::string>> ComplianceStore::ReportClinics(Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT clinic_id FROM procedure_records UNION "
                                        "SELECT clinic_id FROM incidents ORDER BY 1"));
  std::vector<std::string> clinics;
  for (const Row& row : rows) clinics.push_back(row.Text(0));
  return clinics;
}

absl::StatusOr<v1::ProcedureRecord> ComplianceStore::AddProcedure(Transaction& txn,
                                                                  v1::ProcedureRecord r,
                                                                  absl::Time now) const {
  r.set_id(NewIdAt(now));
  *r.mutable_create_time() = ToProtoTimestamp(now);
  absl::Status inserted = txn.Exec(
      "INSERT INTO procedure_records (id, appointment_id, clinic_id, patient_id, practitioner_id, "
      "performed_date, performed_time, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {r.id(), r.appointment_id(), r.clinic_id(), r.patient_id(), r.practitioner_id(),
       DayText(FromLocalDate(r.performed_date())),
       ToDbMicros(FromProtoTimestamp(r.performed_time())), Serialize(r)});
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(absl::StrCat("record.appointment_id: appointment ",
                                                 r.appointment_id(),
                                                 " already has a procedure record"));
  }
  RETURN_IF_ERROR(inserted);
  for (const v1::NeedleUse& n : r.needles()) {
    if (n.serial().empty()) continue;
    RETURN_IF_ERROR(txn.Exec("INSERT INTO needle_uses (procedure_id, serial) VALUES (?, ?)",
                             {r.id(), n.serial()}));
    // A serial already in another procedure (or twice in this one) is a reuse.
    ASSIGN_OR_RETURN(auto uses,
                     txn.Query("SELECT COUNT(*) FROM needle_uses WHERE serial = ?", {n.serial()}));
    if (uses.at(0).Int(0) > 1) {
      RETURN_IF_ERROR(
          txn.Exec("INSERT INTO reused_serials (serial) VALUES (?) ON CONFLICT (serial) DO NOTHING",
                   {n.serial()}));
    }
  }
  return r;
}

std::string ComplianceStore::ProcedureKey(const v1::ProcedureRecord& r) {
  return absl::StrCat(DayText(FromLocalDate(r.performed_date())), "/",
                      ToDbMicros(FromProtoTimestamp(r.performed_time())), "/", r.id());
}

namespace {

// The stored records of ListProcedures' page.
absl::StatusOr<std::vector<Row>> ProcedurePage(Transaction& txn,
                                               const std::vector<std::string>& clinics,
                                               absl::CivilDay first, absl::CivilDay last,
                                               absl::string_view after_key, int limit) {
  // The first page starts before every procedure of the first day.
  std::string after_date = DayText(first), after_id;
  int64_t after_time = INT64_MIN;
  if (!after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(after_key, '/');
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &after_time)) {
      return absl::InternalError("bad procedure page key");
    }
    if (parts[0] >= after_date) {  // (a key before the period starts it from its first day)
      after_date = parts[0];
      after_id = parts[2];
    } else {
      after_time = INT64_MIN;
    }
  }
  std::vector<DbValue> params = {after_date, after_time, after_id, DayText(last)};
  std::string in;
  for (const std::string& c : clinics) {
    absl::StrAppend(&in, in.empty() ? "?" : ", ?");
    params.emplace_back(c);
  }
  params.emplace_back(int64_t{limit});
  // Walks procedures_by_time from the page key and stops after `limit` rows of the clinics
  // (on SQLite "+clinic_id" keeps the planner off the clinic index, which would read and sort
  // every remaining procedure for each page; PostgreSQL has no unary + on text, nor needs it).
  const char* clinic_column = txn.dialect() == SqlDialect::kSqlite ? "+clinic_id" : "clinic_id";
  return txn.Query(absl::StrCat("SELECT record FROM procedure_records "
                                "WHERE (performed_date, performed_time, id) > (?, ?, ?) AND "
                                "performed_date <= ? AND ",
                                clinic_column, " IN (", in,
                                ") ORDER BY performed_date, performed_time, id LIMIT ?"),
                   params);
}

}  // namespace

absl::StatusOr<std::vector<v1::ProcedureRecord>> ComplianceStore::ListProcedures(
    Transaction& txn, const std::vector<std::string>& clinics, absl::CivilDay first,
    absl::CivilDay last, absl::string_view after_key, int limit) const {
  ASSIGN_OR_RETURN(auto rows, ProcedurePage(txn, clinics, first, last, after_key, limit));
  return ParseAll<v1::ProcedureRecord>(rows);
}

absl::StatusOr<std::vector<v1::ProcedureRecord*>> ComplianceStore::ListProcedures(
    Transaction& txn, const std::vector<std::string>& clinics, absl::CivilDay first,
    absl::CivilDay last, absl::string_view after_key, int limit,
    google::protobuf::Arena* arena) const {
  ASSIGN_OR_RETURN(auto rows, ProcedurePage(txn, clinics, first, last, after_key, limit));
  std::vector<v1::ProcedureRecord*> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    auto* record = google::protobuf::Arena::CreateMessage<v1::ProcedureRecord>(arena);
    if (!record->ParseFromString(row.Text(0))) {
      return absl::DataLossError("stored record does not parse");
    }
    out.push_back(record);
  }
  return out;
}

absl::StatusOr<v1::Incident> ComplianceStore::AddIncident(Transaction& txn, v1::Incident i,
                                                          absl::Time now) const {
  i.set_id(NewIdAt(now));
  *i.mutable_record_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO incidents (id, clinic_id, appointment_id, kind, "
               "occurred_time, record) VALUES (?, ?, ?, ?, ?, ?)",
               {i.id(), i.clinic_id(), i.appointment_id(), v1::IncidentKind_Name(i.kind()),
                ToDbMicros(FromProtoTimestamp(i.occurred_time())), Serialize(i)}));
  return i;
}

absl::StatusOr<v1::Incident> ComplianceStore::GetIncident(Transaction& txn,
                                                          absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT record FROM incidents WHERE id = ?", {std::string(id)}));
  return ParseOne<v1::Incident>(rows, "incident", id);
}

absl::Status ComplianceStore::UpdateIncident(Transaction& txn, const v1::Incident& i) const {
  return txn.Exec("UPDATE incidents SET record = ? WHERE id = ?", {Serialize(i), i.id()});
}

absl::Status ComplianceStore::AddRecall(Transaction& txn, const v1::LotRecall& r) const {
  absl::Status inserted = txn.Exec(
      "INSERT INTO lot_recalls (product_id, lot, recall_time, record) VALUES (?, ?, ?, ?)",
      {r.product_id(), r.lot(), ToDbMicros(FromProtoTimestamp(r.recall_time())), Serialize(r)});
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(
        absl::StrCat("the recall of lot ", r.lot(), " of product ", r.product_id(), " is on file"));
  }
  return inserted;
}

std::string ComplianceStore::IncidentKey(const v1::Incident& i) {
  return absl::StrCat(ToDbMicros(FromProtoTimestamp(i.occurred_time())), "/", i.id());
}

absl::StatusOr<std::vector<v1::Incident>> ComplianceStore::ListIncidents(
    Transaction& txn, const std::vector<ClinicSpan>& spans, const std::vector<int>& kinds,
    absl::string_view after_key, int limit) const {
  if (spans.empty()) return std::vector<v1::Incident>{};
  int64_t after_time = INT64_MIN;
  std::string after_id;
  if (!after_key.empty()) {
    std::vector<std::string> parts = absl::StrSplit(after_key, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_time)) {
      return absl::InternalError("bad incident page key");
    }
    after_id = parts[1];
  }
  std::vector<DbValue> params = {after_time, after_id};
  std::string where;
  for (const ClinicSpan& span : spans) {
    absl::StrAppend(&where, where.empty() ? "" : " OR ",
                    "(clinic_id = ? AND occurred_time >= ? AND occurred_time < ?)");
    params.emplace_back(span.clinic_id);
    params.emplace_back(ToDbMicros(span.from));
    params.emplace_back(ToDbMicros(span.until));
  }
  std::string kind_filter;
  for (int kind : kinds) {
    absl::StrAppend(&kind_filter, kind_filter.empty() ? " AND kind IN (?" : ", ?");
    params.emplace_back(v1::IncidentKind_Name(kind));
  }
  if (!kind_filter.empty()) kind_filter += ")";
  params.emplace_back(int64_t{limit});
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT record FROM incidents WHERE "
                                                     "(occurred_time, id) > (?, ?) AND (",
                                                     where, ")", kind_filter,
                                                     " ORDER BY occurred_time, id LIMIT ?"),
                                        params));
  return ParseAll<v1::Incident>(rows);
}

absl::StatusOr<std::string> ComplianceStore::ProcedureOfAppointment(
    Transaction& txn, absl::string_view appointment_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT id FROM procedure_records WHERE appointment_id = ?",
                                        {std::string(appointment_id)}));
  return rows.empty() ? std::string() : rows.front().Text(0);
}

absl::StatusOr<std::string> ComplianceStore::TimeZoneOf(Transaction& txn,
                                                        absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::RetentionPolicy> policy, GetRetention(txn, clinic_id));
  return policy.has_value() ? policy->time_zone() : std::string();
}

absl::StatusOr<std::vector<std::string>> ComplianceStore::KnownTimeZones(Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT policy FROM retention_policies"));
  ASSIGN_OR_RETURN(auto all, ParseAll<v1::RetentionPolicy>(rows));
  std::vector<std::string> zones;
  for (const v1::RetentionPolicy& p : all) {
    if (!p.time_zone().empty()) zones.push_back(p.time_zone());
  }
  return zones;
}

absl::StatusOr<std::optional<v1::RetentionPolicy>> ComplianceStore::GetRetention(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT policy FROM retention_policies WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  return Parse<v1::RetentionPolicy>(rows.front().Text(0), "retention policy");
}

absl::Status ComplianceStore::PutRetention(Transaction& txn, const v1::RetentionPolicy& p) const {
  return txn.Exec(
      "INSERT INTO retention_policies (clinic_id, policy) VALUES (?, ?) "
      "ON CONFLICT (clinic_id) DO UPDATE SET policy = excluded.policy",
      {p.clinic_id(), Serialize(p)});
}

absl::StatusOr<std::vector<v1::RetentionPolicy>> ComplianceStore::DestructionRules(
    Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT policy FROM retention_policies ORDER BY clinic_id"));
  ASSIGN_OR_RETURN(auto all, ParseAll<v1::RetentionPolicy>(rows));
  std::vector<v1::RetentionPolicy> rules;
  for (auto& p : all) {
    if (p.destroy_health_questionnaire_after_years() > 0) rules.push_back(std::move(p));
  }
  return rules;
}

absl::StatusOr<std::vector<v1::Screening>> ComplianceStore::ScreeningsTakenBefore(
    Transaction& txn, absl::string_view clinic_id, absl::Time before) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT record FROM screenings WHERE clinic_id = ? AND "
                                        "screened_time < ? AND destroyed_time IS NULL "
                                        "ORDER BY screened_time, id",
                                        {std::string(clinic_id), ToDbMicros(before)}));
  return ParseAll<v1::Screening>(rows);
}

absl::Status ComplianceStore::DestroyScreening(Transaction& txn,
                                               const v1::Screening& tombstone) const {
  return txn.Exec("UPDATE screenings SET record = ?, destroyed_time = ? WHERE id = ?",
                  {Serialize(tombstone), ToDbMicros(FromProtoTimestamp(tombstone.destroyed_time())),
                   tombstone.id()});
}

absl::StatusOr<int64_t> ComplianceStore::RedactStoredScreenings(
    Transaction& txn, const std::vector<v1::Screening>& tombstones) const {
  if (tombstones.empty()) return 0;
  absl::flat_hash_map<std::string, const v1::Screening*> by_id;
  for (const v1::Screening& t : tombstones) by_id[t.id()] = &t;
  // Keys are scoped "<method>|<caller>" (common/db/idempotency.cc).
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT scope, request_id, response FROM idempotency_keys "
                                        "WHERE scope LIKE 'RecordScreening|%' OR "
                                        "scope LIKE 'OverrideScreening|%'"));
  int64_t replaced = 0;
  for (const Row& row : rows) {
    v1::Screening stored;
    if (!stored.ParseFromString(row.Text(2))) continue;
    auto it = by_id.find(stored.id());
    if (it == by_id.end()) continue;
    RETURN_IF_ERROR(
        txn.Exec("UPDATE idempotency_keys SET response = ? WHERE scope = ? AND request_id = ?",
                 {Serialize(*it->second), row.Text(0), row.Text(1)}));
    ++replaced;
  }
  return replaced;
}

absl::StatusOr<AuditHead> ComplianceStore::Head(Transaction& txn) const {
  ASSIGN_OR_RETURN(
      auto rows, txn.Query("SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1"));
  if (rows.empty()) return AuditHead{0, GenesisHash()};
  return AuditHead{rows[0].Int(0), rows[0].Text(1)};
}

absl::StatusOr<v1::AuditEntry> ComplianceStore::AppendAudit(Transaction& txn,
                                                            v1::AuditEntry entry) const {
  ASSIGN_OR_RETURN(AuditHead head, Head(txn));
  entry.set_sequence(head.count + 1);
  entry.set_previous_hash(head.hash);
  // Hash exactly what is stored: microsecond times.
  *entry.mutable_time() =
      ToProtoTimestamp(FromDbMicros(ToDbMicros(FromProtoTimestamp(entry.time()))));
  entry.set_hash(EntryHash(entry));
  RETURN_IF_ERROR(
      txn.Exec(absl::StrCat("INSERT INTO audit_log (", kAuditColumns,
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
               {entry.sequence(), ToDbMicros(FromProtoTimestamp(entry.time())), entry.actor_id(),
                absl::StrJoin(entry.actor_roles(), ","), v1::AuditAction_Name(entry.action()),
                entry.method(), entry.entity_type(), entry.entity_id(), entry.detail(),
                entry.previous_hash(), entry.hash()}));
  return entry;
}

absl::StatusOr<std::vector<v1::AuditEntry>> ComplianceStore::ListAudit(Transaction& txn,
                                                                       int64_t since,
                                                                       int limit) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT ", kAuditColumns,
                                                     " FROM audit_log WHERE sequence > ? "
                                                     "ORDER BY sequence LIMIT ?"),
                                        {since, int64_t{limit}}));
  std::vector<v1::AuditEntry> entries;
  for (const Row& row : rows) entries.push_back(AuditFromRow(row));
  return entries;
}

absl::StatusOr<std::optional<v1::AuditEntry>> ComplianceStore::GetAudit(Transaction& txn,
                                                                        int64_t sequence) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query(absl::StrCat("SELECT ", kAuditColumns,
                                                     " FROM audit_log WHERE sequence = ?"),
                                        {sequence}));
  if (rows.empty()) return std::nullopt;
  return AuditFromRow(rows[0]);
}

absl::Status ComplianceStore::AddCheckpoint(Transaction& txn, const v1::Checkpoint& checkpoint,
                                            absl::string_view created_by) const {
  return txn.Exec(
      "INSERT INTO audit_checkpoints (count, head_hash, signed_time, public_key, signature, "
      "created_by) VALUES (?, ?, ?, ?, ?, ?)",
      {checkpoint.count(), checkpoint.head_hash(),
       ToDbMicros(FromProtoTimestamp(checkpoint.signed_time())), checkpoint.public_key(),
       checkpoint.signature(), std::string(created_by)});
}

absl::StatusOr<Page<v1::CheckpointStatus>> ComplianceStore::ListCheckpoints(
    Transaction& txn, const PageRequest& page) const {
  int64_t before = INT64_MAX;
  if (!page.after_key.empty() && !absl::SimpleAtoi(page.after_key, &before)) {
    return absl::InternalError("bad checkpoint page key");
  }
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT count, head_hash, signed_time, public_key, "
                                        "signature, created_by FROM audit_checkpoints "
                                        "WHERE count < ? ORDER BY count DESC LIMIT ?",
                                        {before, int64_t{page.size} + 1}));
  std::vector<v1::CheckpointStatus> found;
  for (const Row& row : rows) {
    v1::CheckpointStatus status;
    v1::Checkpoint& c = *status.mutable_checkpoint();
    c.set_count(row.Int(0));
    c.set_head_hash(row.Text(1));
    *c.mutable_signed_time() = ToProtoTimestamp(FromDbMicros(row.Int(2)));
    c.set_public_key(row.Text(3));
    c.set_signature(row.Text(4));
    status.set_created_by(row.Text(5));
    found.push_back(std::move(status));
  }
  return MakePage(std::move(found), page.size, [](const v1::CheckpointStatus& s) {
    return absl::StrCat(s.checkpoint().count());
  });
}

absl::StatusOr<std::vector<std::string>> ComplianceStore::ClinicsOfPatient(
    Transaction& txn, absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT clinic_id FROM screenings WHERE patient_id = ? "
                             "UNION SELECT clinic_id FROM procedure_records WHERE patient_id = ?",
                             {std::string(patient_id), std::string(patient_id)}));
  std::vector<std::string> clinics;
  for (const auto& row : rows) clinics.push_back(row.Text(0));
  ASSIGN_OR_RETURN(std::vector<v1::Consent> consents, ConsentsOf(txn, patient_id));
  for (const v1::Consent& c : consents) clinics.push_back(c.clinic_id());
  std::sort(clinics.begin(), clinics.end());
  clinics.erase(std::unique(clinics.begin(), clinics.end()), clinics.end());
  return clinics;
}

absl::StatusOr<std::vector<std::string>> ComplianceStore::ClinicsOfAppointment(
    Transaction& txn, absl::string_view appointment_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT clinic_id FROM procedure_records WHERE appointment_id = ? "
                             "UNION SELECT clinic_id FROM incidents WHERE appointment_id = ? "
                             "ORDER BY 1",
                             {std::string(appointment_id), std::string(appointment_id)}));
  std::vector<std::string> clinics;
  for (const auto& row : rows) clinics.push_back(row.Text(0));
  return clinics;
}

absl::StatusOr<int64_t> ComplianceStore::TallyRead(Transaction& txn, const ReadTally& tally,
                                                   absl::Time now) const {
  const std::vector<DbValue> key = {ToDbMicros(tally.window_start), tally.actor_id, tally.method,
                                    tally.entity_type, tally.entity_id};
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO read_tallies (window_start, actor_id, method, entity_type, entity_id, "
               "actor_roles, reads, first_time, last_time) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
               "ON CONFLICT (window_start, actor_id, method, entity_type, entity_id) DO UPDATE SET "
               "reads = read_tallies.reads + 1, last_time = excluded.last_time",
               {key[0], key[1], key[2], key[3], key[4], absl::StrJoin(tally.actor_roles, ","),
                ToDbMicros(now), ToDbMicros(now)}));
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT reads FROM read_tallies WHERE window_start = ? "
                                        "AND actor_id = ? AND method = ? AND entity_type = ? "
                                        "AND entity_id = ?",
                                        key));
  if (rows.empty()) return absl::InternalError("a read tally just written is missing");
  return rows[0].Int(0);
}

absl::StatusOr<std::vector<ReadTally>> ComplianceStore::ListReadTallies(Transaction& txn,
                                                                        absl::Time before,
                                                                        int limit) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT window_start, actor_id, actor_roles, method, entity_type, entity_id, "
                "reads, first_time, last_time FROM read_tallies WHERE window_start < ? "
                "ORDER BY window_start, actor_id, method, entity_type, entity_id LIMIT ?",
                {ToDbMicros(before), int64_t{limit}}));
  std::vector<ReadTally> tallies;
  for (const Row& row : rows) {
    ReadTally t;
    t.window_start = FromDbMicros(row.Int(0));
    t.actor_id = row.Text(1);
    if (!row.Text(2).empty()) t.actor_roles = absl::StrSplit(row.Text(2), ',');
    t.method = row.Text(3);
    t.entity_type = row.Text(4);
    t.entity_id = row.Text(5);
    t.reads = row.Int(6);
    t.first_time = FromDbMicros(row.Int(7));
    t.last_time = FromDbMicros(row.Int(8));
    tallies.push_back(std::move(t));
  }
  return tallies;
}

absl::Status ComplianceStore::DeleteReadTally(Transaction& txn, const ReadTally& tally) const {
  return txn.Exec(
      "DELETE FROM read_tallies WHERE window_start = ? AND actor_id = ? AND method = ? "
      "AND entity_type = ? AND entity_id = ?",
      {ToDbMicros(tally.window_start), tally.actor_id, tally.method, tally.entity_type,
       tally.entity_id});
}

}  // namespace smp::compliance
