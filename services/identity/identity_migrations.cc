#include "services/identity/identity_migrations.h"

#include "common/db/idempotency.h"

namespace smp::identity {

// Times are INTEGER unix microseconds (UTC); versions start at 1 and grow by one per change.
const std::vector<Migration>& IdentityMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {1, "clinics, staff, memberships, events, idempotency keys",
       R"sql(
CREATE TABLE clinics (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  phone TEXT NOT NULL,
  address_lines TEXT NOT NULL,  -- newline-separated
  locality TEXT NOT NULL,
  administrative_area TEXT NOT NULL,
  postal_code TEXT NOT NULL,
  region_code TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE staff (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'DISABLED')),
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE staff_roles (
  staff_id TEXT NOT NULL REFERENCES staff (id),
  role TEXT NOT NULL,
  PRIMARY KEY (staff_id, role)
);
CREATE TABLE staff_clinics (
  staff_id TEXT NOT NULL REFERENCES staff (id),
  clinic_id TEXT NOT NULL REFERENCES clinics (id),
  PRIMARY KEY (staff_id, clinic_id)
);
CREATE INDEX staff_clinics_by_clinic ON staff_clinics (clinic_id, staff_id);
-- Who changed which account or clinic, and why (disable reasons, password resets).
CREATE TABLE identity_events (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  actor_staff_id TEXT NOT NULL,
  action TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql" + std::string(kIdempotencyTableSql)},
  };
  return *migrations;
}

}  // namespace smp::identity
