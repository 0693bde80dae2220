#include "services/scheduling/scheduling_migrations.h"

#include <string>

#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"

namespace smp::scheduling {

// Times are INTEGER unix microseconds (UTC). Nested settings that are only ever read whole (opening
// hours, weekly shifts, plan terms) are stored as serialised protobuf; everything that is searched,
// joined or checked for conflicts has its own column.
const std::vector<Migration>& SchedulingMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {1, "patients, clinic resources, plans, appointments, occupancy, change feed",
       R"sql(
CREATE TABLE clinic_schedules (
  clinic_id TEXT PRIMARY KEY,
  time_zone TEXT NOT NULL,
  settings BLOB NOT NULL,          -- smp.scheduling.v1.ClinicSchedule
  update_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE patients (
  id TEXT PRIMARY KEY,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  birth_date TEXT NOT NULL,        -- YYYY-MM-DD or ''
  phone TEXT NOT NULL,
  email TEXT NOT NULL,
  preferred_clinic_id TEXT NOT NULL,
  search_text TEXT NOT NULL,       -- lower-case names, phone, email for SearchPatients
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX patients_by_clinic ON patients (preferred_clinic_id, id);
CREATE TABLE chairs (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  name TEXT NOT NULL,
  active INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX chairs_by_clinic ON chairs (clinic_id, id);
CREATE TABLE working_hours (
  practitioner_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  hours BLOB NOT NULL,             -- smp.scheduling.v1.WorkingHours
  version INTEGER NOT NULL,
  PRIMARY KEY (practitioner_id, clinic_id)
);
CREATE INDEX working_hours_by_clinic ON working_hours (clinic_id, practitioner_id);
CREATE TABLE schedule_exceptions (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  practitioner_id TEXT NOT NULL,   -- '' for a closure
  kind TEXT NOT NULL,
  exception BLOB NOT NULL,         -- smp.scheduling.v1.ScheduleException
  start_time INTEGER NOT NULL,     -- the local span as instants, for overlap queries
  end_time INTEGER NOT NULL
);
CREATE INDEX exceptions_by_clinic ON schedule_exceptions (clinic_id, start_time);
CREATE TABLE treatment_plans (
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  status TEXT NOT NULL,
  plan BLOB NOT NULL,              -- smp.scheduling.v1.TreatmentPlan without sessions
  create_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX plans_by_patient ON treatment_plans (patient_id, id);
CREATE TABLE appointments (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  practitioner_id TEXT NOT NULL,
  chair_id TEXT NOT NULL,
  type TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  session_number INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  block_end_time INTEGER NOT NULL, -- end_time plus the clinic's cleaning buffer
  status TEXT NOT NULL,
  hold_expire_time INTEGER NOT NULL,
  record BLOB NOT NULL,            -- the full smp.scheduling.v1.Appointment as last written
  version INTEGER NOT NULL
);
CREATE INDEX appointments_by_clinic ON appointments (clinic_id, start_time, id);
CREATE INDEX appointments_by_practitioner ON appointments (practitioner_id, start_time);
CREATE INDEX appointments_by_chair ON appointments (chair_id, start_time);
CREATE INDEX appointments_by_patient ON appointments (patient_id, start_time);
CREATE INDEX appointments_by_plan ON appointments (plan_id);
-- The guarantee against double booking: every 5-minute granule of a blocking appointment's block
-- (start to end plus buffer) owns one row per resource (practitioner, chair). Two overlapping blocks
-- on one resource collide on the primary key, whatever the isolation level or the number of
-- replicas writing.
CREATE TABLE occupancy (
  resource_id TEXT NOT NULL,
  granule INTEGER NOT NULL,        -- unix time / 300 s
  appointment_id TEXT NOT NULL,
  PRIMARY KEY (resource_id, granule)
);
CREATE INDEX occupancy_by_appointment ON occupancy (appointment_id);
CREATE TABLE feed_heads (
  clinic_id TEXT PRIMARY KEY,
  head INTEGER NOT NULL
);
CREATE TABLE appointment_changes (
  clinic_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  type TEXT NOT NULL,
  change BLOB NOT NULL,            -- smp.scheduling.v1.Change
  PRIMARY KEY (clinic_id, sequence)
);
)sql" + std::string(kIdempotencyTableSql)},
      {2, "outbox of events for other services", kOutboxTableSql},
      {3, "unique live plan session numbers, patients as a booked resource",
       R"sql(
-- A live (not cancelled, missed or stopped) session number is unique within its plan, so two
-- bookings of the same plan cannot both take it.
CREATE UNIQUE INDEX appointments_live_plan_session ON appointments (plan_id, session_number)
  WHERE plan_id <> '' AND status NOT IN ('CANCELLED', 'NOSHOW', 'APPOINTMENT_STATUS_STOPPED');
-- Patients are a booked resource chain-wide: every appointment that still lies ahead takes its
-- patient's granules (start to end, no buffer) under the key 'patient:' || patient_id. Overlaps
-- booked before this migration keep their first granule holder.
WITH RECURSIVE granules (resource_id, granule, last_granule, appointment_id) AS (
  SELECT 'patient:' || patient_id, start_time / 300000000, (end_time + 299999999) / 300000000, id
  FROM appointments WHERE status IN ('PROPOSED', 'BOOKED', 'ARRIVED', 'IN_PROGRESS')
  UNION ALL
  SELECT resource_id, granule + 1, last_granule, appointment_id FROM granules
  WHERE granule + 1 < last_granule
)
INSERT INTO occupancy (resource_id, granule, appointment_id)
SELECT resource_id, granule, appointment_id FROM granules WHERE granule < last_granule
ON CONFLICT DO NOTHING;
)sql"},
      // The start attempt whose supply issue a StartAppointment rides on (inventory keys the issue
      // on it); started once the appointment moved with it, deleted when its issue is returned.
      {4, "start attempts of appointments (supply issue keys)", R"sql(
CREATE TABLE start_attempts (
  appointment_id TEXT PRIMARY KEY,
  attempt_id TEXT NOT NULL,
  started INTEGER NOT NULL,        -- 1 once the start committed with it
  create_time INTEGER NOT NULL
);
)sql"},
      // What a booking checks before its write transaction (the clinic's schedule, chairs, working
      // hours and exceptions, a practitioner's leave at other clinics) carries this version: a
      // booking re-reads only it under the write lock (appointments themselves are excluded by the
      // occupancy keys). Bumped by every write of those, in the same transaction.
      {5, "calendar settings version per clinic", R"sql(
CREATE TABLE calendar_versions (
  clinic_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);
)sql"},
      // The hold sweep (every --hold_sweep_interval) looks for lapsed holds. Without this index
      // it read the whole appointment book, every appointment ever booked with its record, each
      // time; only held appointments are in it.
      {6, "held appointments indexed for the hold sweep", R"sql(
CREATE INDEX appointments_held ON appointments (clinic_id, hold_expire_time)
  WHERE status = 'PROPOSED';
)sql"},
      // Every booking writes about 42 occupancy rows (a one-hour consultation: its granules of
      // practitioner, chair and patient) and one change. As rowid tables each of those rows went
      // into three B-trees (the rows, the primary key, and for occupancy its appointment index);
      // keyed by their primary key WITHOUT ROWID they go into one fewer. (PostgreSQL ignores the
      // clause: TranslateSchema drops it.) An appointment is in the plan index only with a plan:
      // most bookings (consultations, touch-ups) have none, and each added a '' entry.
      {7, "occupancy and the change feed keyed by their primary key; plan index only for plans",
       R"sql(
CREATE TABLE occupancy_by_key (
  resource_id TEXT NOT NULL,
  granule INTEGER NOT NULL,        -- unix time / 300 s
  appointment_id TEXT NOT NULL,
  PRIMARY KEY (resource_id, granule)
) WITHOUT ROWID;
INSERT INTO occupancy_by_key (resource_id, granule, appointment_id)
  SELECT resource_id, granule, appointment_id FROM occupancy;
DROP TABLE occupancy;
ALTER TABLE occupancy_by_key RENAME TO occupancy;
CREATE INDEX occupancy_by_appointment ON occupancy (appointment_id);
CREATE TABLE appointment_changes_by_key (
  clinic_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  type TEXT NOT NULL,
  change BLOB NOT NULL,            -- smp.scheduling.v1.Change
  PRIMARY KEY (clinic_id, sequence)
) WITHOUT ROWID;
INSERT INTO appointment_changes_by_key (clinic_id, sequence, type, change)
  SELECT clinic_id, sequence, type, change FROM appointment_changes;
DROP TABLE appointment_changes;
ALTER TABLE appointment_changes_by_key RENAME TO appointment_changes;
DROP INDEX appointments_by_plan;
CREATE INDEX appointments_by_plan ON appointments (plan_id) WHERE plan_id <> '';
)sql"},
  };
  return *migrations;
}

}  // namespace smp::scheduling
