#include "services/compliance/compliance_migrations.h"

#include <string>

#include "common/db/idempotency.h"

namespace smp::compliance {

// Records are stored whole (serialised protobuf) beside the columns they are looked up by. The
// audit log is the exception: every field is its own column, so what is hashed is what anyone
// reading the table sees.
const std::vector<Migration>& ComplianceMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {1, "credentials, permits, consents, screenings, procedures, incidents, audit log",
       R"sql(
CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  practitioner_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  valid_until TEXT NOT NULL,        -- YYYY-MM-DD, for the expiry watch
  record BLOB NOT NULL
);
CREATE INDEX credentials_by_practitioner ON credentials (practitioner_id);
CREATE INDEX credentials_by_expiry ON credentials (valid_until);
CREATE TABLE permits (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX permits_by_clinic ON permits (clinic_id);
CREATE INDEX permits_by_expiry ON permits (valid_until);
CREATE TABLE consents (
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX consents_by_patient ON consents (patient_id);
CREATE TABLE screenings (
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  screened_time INTEGER NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX screenings_by_clinic ON screenings (clinic_id, screened_time);
CREATE TABLE lot_recalls (
  product_id TEXT NOT NULL,
  lot TEXT NOT NULL,
  recall_time INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (product_id, lot)
);
CREATE TABLE retention_policies (
  clinic_id TEXT PRIMARY KEY,
  policy BLOB NOT NULL             -- smp.compliance.v1.RetentionPolicy
);
CREATE INDEX screenings_by_patient ON screenings (patient_id, screened_time);
CREATE TABLE procedure_records (
  id TEXT PRIMARY KEY,
  appointment_id TEXT NOT NULL UNIQUE,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  practitioner_id TEXT NOT NULL,
  performed_date TEXT NOT NULL,     -- clinic-local YYYY-MM-DD
  performed_time INTEGER NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX procedures_by_clinic_date ON procedure_records (clinic_id, performed_date, performed_time);
CREATE TABLE needle_uses (
  procedure_id TEXT NOT NULL,
  serial TEXT NOT NULL
);
CREATE INDEX needle_uses_by_serial ON needle_uses (serial);
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  appointment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  occurred_time INTEGER NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX incidents_by_clinic ON incidents (clinic_id, occurred_time);
CREATE INDEX incidents_by_appointment ON incidents (appointment_id);
CREATE TABLE audit_log (
  sequence INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_roles TEXT NOT NULL,        -- comma-separated role names
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  previous_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql" + std::string(kIdempotencyTableSql)},
      // Reports page through procedures in (date, time, id) order across clinics: this index
      // serves each page from where the last one ended (the clinic index needed a sort of every
      // remaining procedure per page, quadratic in the report's size).
      {2, "procedures by time, for report paging",
       "CREATE INDEX procedures_by_time ON procedure_records "
       "(performed_date, performed_time, id);"},
      {3, "reads audited in aggregate",
       R"sql(
-- Reads audited in aggregate (issue 13): the first read of an entity by a caller through a method
-- in an hour is an audit entry; the later ones of that hour are counted here, and once the hour
-- is over the count goes into the audit log as one entry and the row is deleted.
CREATE TABLE read_tallies (
  window_start INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_roles TEXT NOT NULL,  -- comma-separated role names
  method TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  reads INTEGER NOT NULL,
  first_time INTEGER NOT NULL,
  last_time INTEGER NOT NULL,
  PRIMARY KEY (window_start, actor_id, method, entity_type, entity_id)
);
)sql"},
      // Retention keeps a tombstone of a destroyed screening instead of deleting the row (reports
      // over the past must still see that a screening was on file); the column marks the ones
      // whose content is gone, so the purge does not take them again.
      {4, "screenings: destroyed_time of tombstones",
       "ALTER TABLE screenings ADD COLUMN destroyed_time INTEGER;"},
      // A report asks, for every needle serial of a page, which procedures recorded it: with the
      // procedure id in the index that is answered from the index alone (the serial-only index
      // also read each use's table row). It serves every lookup the old one did.
      {5, "needle uses by serial and procedure, for report paging",
       "CREATE INDEX needle_uses_by_serial_procedure ON needle_uses (serial, procedure_id);"
       "DROP INDEX needle_uses_by_serial;"},
      // Checkpoints were only handed to the caller; the console's audit page lists them with their
      // verification status, so each is kept as signed (count is unique: a checkpoint is signed
      // over the audit entry that records it).
      {6, "signed audit checkpoints",
       R"sql(
CREATE TABLE audit_checkpoints (
  count INTEGER PRIMARY KEY,
  head_hash TEXT NOT NULL,
  signed_time INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL,
  created_by TEXT NOT NULL
);
)sql"},
      // A report asks, for each needle serial of a page, whether another procedure recorded it:
      // probing the needle-use index for every serial was a seventh of a 100-clinic year's report
      // (a page miss for most). Serials recorded in more than one procedure (a finding, so few)
      // are kept here as they are recorded, and only those are looked up.
      {7, "needle serials recorded in more than one procedure",
       R"sql(
CREATE TABLE reused_serials (
  serial TEXT PRIMARY KEY
);
INSERT INTO reused_serials (serial)
  SELECT serial FROM needle_uses GROUP BY serial HAVING COUNT(*) > 1;
)sql"},
  };
  return *migrations;
}

}  // namespace smp::compliance
