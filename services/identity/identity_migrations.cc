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
      {2, "pending session revocations, failed logins",
       R"sql(
-- A change that must end an account's sessions (disable, roles or clinics, password reset) adds a
-- row in its own transaction; the row goes once Redis has revoked the sessions made before
-- change_time, right away or later by the background task.
CREATE TABLE pending_revocations (
  id TEXT PRIMARY KEY,
  staff_id TEXT NOT NULL,
  action TEXT NOT NULL,
  change_time INTEGER NOT NULL
);
CREATE INDEX pending_revocations_by_staff ON pending_revocations (staff_id);
-- Failed logins, one row per (hour, kind, subject) with a count, so a flood cannot grow the table
-- faster than the number of distinct subjects. kind: 'account' (subject: an existing username),
-- 'unknown_account' (subject: '*'; what was typed is not kept, it may be a password), 'address'
-- (subject: the client address, IPv6 by /64).
CREATE TABLE login_failures (
  window_start INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  failures INTEGER NOT NULL,
  first_time INTEGER NOT NULL,
  last_time INTEGER NOT NULL,
  PRIMARY KEY (window_start, kind, subject)
);
)sql"},
      {3, "a pending revocation may spare the session that asked for it",
       R"sql(
-- ChangePassword ends the account's other sessions, not the caller's: the caller's session id.
-- Empty: every session made before change_time goes.
ALTER TABLE pending_revocations ADD COLUMN spare_session_id TEXT NOT NULL DEFAULT '';
)sql"},
  };
  return *migrations;
}

}  // namespace smp::identity
