#include "services/inventory/inventory_migrations.h"

#include <string>

#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"

namespace smp::inventory {

// Times are INTEGER unix microseconds (UTC); calendar dates are TEXT YYYY-MM-DD; enums are their
// INTEGER proto numbers. The ledger is append-only (the store only ever INSERTs into it); `stock`
// holds each balance derived from it, and the store checks the two agree inside every write.
const std::vector<Migration>& InventoryMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {1, "settings, products, lots, units, stock, ledger, reuse attempts, transfers, reorder",
       R"sql(
CREATE TABLE clinic_settings (
  clinic_id TEXT PRIMARY KEY,
  time_zone TEXT NOT NULL,
  update_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE products (
  id TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  product BLOB NOT NULL,           -- smp.inventory.v1.Product without id, kind, times, etag
  create_time INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX products_by_kind ON products (kind, id);
CREATE TABLE lots (
  id TEXT PRIMARY KEY,
  product_id TEXT NOT NULL,
  lot_number TEXT NOT NULL,
  expiry_date TEXT NOT NULL,       -- YYYY-MM-DD, clinic-local
  serialised INTEGER NOT NULL,
  status INTEGER NOT NULL,
  recall_reason TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  UNIQUE (product_id, lot_number)
);
CREATE TABLE serial_units (
  serial TEXT PRIMARY KEY,         -- unique chain-wide: a second receipt collides here
  product_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  appointment_id TEXT NOT NULL,
  issue_time INTEGER NOT NULL,     -- 0 until issued
  disposal_reason TEXT NOT NULL,
  disposal_witness TEXT NOT NULL
);
CREATE INDEX units_by_lot ON serial_units (lot_id, clinic_id, state, serial);
CREATE TABLE stock (
  clinic_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity >= 0),
  PRIMARY KEY (clinic_id, lot_id, bucket)
);
CREATE INDEX stock_by_lot ON stock (lot_id);
CREATE INDEX stock_by_product ON stock (clinic_id, product_id);
CREATE TABLE ledger (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  quantity_delta INTEGER NOT NULL CHECK (quantity_delta <> 0),
  serials TEXT NOT NULL,           -- comma-separated (serials contain no comma)
  appointment_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  transfer_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  witness TEXT NOT NULL,
  staff_id TEXT NOT NULL,
  local_date TEXT NOT NULL,        -- the clinic-local day of create_time
  create_time INTEGER NOT NULL
);
CREATE INDEX ledger_by_clinic ON ledger (clinic_id, id);
CREATE INDEX ledger_by_balance ON ledger (clinic_id, lot_id, bucket);
CREATE INDEX ledger_by_lot ON ledger (lot_id, kind, id);
CREATE TABLE reuse_attempts (
  id TEXT PRIMARY KEY,
  serial TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  appointment_id TEXT NOT NULL,
  first_appointment_id TEXT NOT NULL,
  unit_state INTEGER NOT NULL,
  staff_id TEXT NOT NULL,
  attempt_time INTEGER NOT NULL
);
CREATE INDEX reuse_attempts_by_clinic ON reuse_attempts (clinic_id, id);
CREATE TABLE transfers (
  id TEXT PRIMARY KEY,
  source_clinic_id TEXT NOT NULL,
  destination_clinic_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  transfer BLOB NOT NULL,          -- smp.inventory.v1.Transfer without etag
  version INTEGER NOT NULL
);
CREATE INDEX transfers_by_source ON transfers (source_clinic_id, id);
CREATE INDEX transfers_by_destination ON transfers (destination_clinic_id, id);
CREATE TABLE reorder_points (
  clinic_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  reorder_level INTEGER NOT NULL,
  reorder_quantity INTEGER NOT NULL,
  PRIMARY KEY (clinic_id, product_id)
);
)sql" + std::string(kIdempotencyTableSql)},
      {2, "opened pigment bottles and their uses",
       R"sql(
CREATE TABLE bottles (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  use_by_date TEXT NOT NULL,       -- YYYY-MM-DD, clinic-local
  open_time INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  close_time INTEGER NOT NULL,     -- 0 until finished or discarded
  closed_by TEXT NOT NULL
);
CREATE INDEX bottles_by_clinic ON bottles (clinic_id, state, id);
CREATE INDEX bottles_by_lot ON bottles (lot_id, state);
CREATE TABLE bottle_uses (         -- append-only, like the ledger
  id TEXT PRIMARY KEY,
  bottle_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  appointment_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  staff_id TEXT NOT NULL,
  local_date TEXT NOT NULL,        -- the clinic-local day of the issue
  create_time INTEGER NOT NULL
);
CREATE INDEX bottle_uses_by_lot ON bottle_uses (lot_id, id);
)sql"},
      {3, "outbox of events for compliance (refused units, recalls)", std::string(kOutboxTableSql)},
      {4, "lot holds at a clinic",
       R"sql(
-- A lot put on hold at one clinic (HoldLot) and, later, released (ReleaseLotHold): every row is
-- kept, so who held and released it, when and why stays on record. At most one open row (no
-- release_time) per clinic and lot; while it is open nothing of the lot is issued there.
CREATE TABLE lot_holds (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  lot_id TEXT NOT NULL,
  hold_reason TEXT NOT NULL,
  held_by TEXT NOT NULL,
  hold_time INTEGER NOT NULL,
  release_reason TEXT NOT NULL DEFAULT '',
  released_by TEXT NOT NULL DEFAULT '',
  release_time INTEGER
);
CREATE UNIQUE INDEX lot_holds_open ON lot_holds (clinic_id, lot_id) WHERE release_time IS NULL;
)sql"},
      // Serials become unique per product and are stored in canonical form (trimmed, upper case;
      // stock_rules CanonicalSerial). Rows whose canonical forms would collide within a product
      // are not merged: they keep their serial as it was and are listed in serial_collisions
      // (logged at every start) for staff to resolve. Before this, serials were unique
      // chain-wide, so only case and blanks can collide.
      {5, "serials unique per product, canonical form, device identifiers, start issues",
       R"sql(
CREATE TABLE serial_collisions (
  product_id TEXT NOT NULL,
  serial TEXT NOT NULL,            -- as it was stored (and still is)
  canonical_serial TEXT NOT NULL,  -- the form it collides on
  PRIMARY KEY (product_id, serial)
);
INSERT INTO serial_collisions (product_id, serial, canonical_serial)
  SELECT u.product_id, u.serial, UPPER(TRIM(u.serial)) FROM serial_units u
  WHERE (SELECT COUNT(*) FROM serial_units o WHERE o.product_id = u.product_id
         AND UPPER(TRIM(o.serial)) = UPPER(TRIM(u.serial))) > 1;
CREATE TABLE serial_units_by_product (
  product_id TEXT NOT NULL,
  serial TEXT NOT NULL,            -- canonical, unique per product
  device_identifier TEXT NOT NULL, -- the product's UDI-DI at receipt ("" if none)
  lot_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  appointment_id TEXT NOT NULL,
  issue_time INTEGER NOT NULL,     -- 0 until issued
  disposal_reason TEXT NOT NULL,
  disposal_witness TEXT NOT NULL,
  PRIMARY KEY (product_id, serial)
);
INSERT INTO serial_units_by_product (product_id, serial, device_identifier, lot_id, clinic_id,
    state, appointment_id, issue_time, disposal_reason, disposal_witness)
  SELECT u.product_id,
         CASE WHEN EXISTS (SELECT 1 FROM serial_collisions c WHERE c.product_id = u.product_id
                           AND c.serial = u.serial)
              THEN u.serial ELSE UPPER(TRIM(u.serial)) END,
         '', u.lot_id, u.clinic_id, u.state, u.appointment_id, u.issue_time, u.disposal_reason,
         u.disposal_witness
  FROM serial_units u;
DROP INDEX units_by_lot;
DROP TABLE serial_units;
ALTER TABLE serial_units_by_product RENAME TO serial_units;
CREATE INDEX units_by_lot ON serial_units (lot_id, clinic_id, state, serial);
CREATE INDEX units_by_serial ON serial_units (serial);
CREATE TABLE start_issues (        -- the supply issue of each StartAppointment attempt
  appointment_id TEXT NOT NULL,
  start_attempt_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  state INTEGER NOT NULL,          -- 1 issued, 2 returned (or voided before any issue)
  fingerprint BLOB NOT NULL,       -- of the issued lines; a repeat must match it
  response BLOB NOT NULL,          -- smp.inventory.v1.IssueToProcedureResponse ("" if voided)
  staff_id TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  return_reason TEXT NOT NULL,
  return_time INTEGER NOT NULL,    -- 0 until returned
  PRIMARY KEY (appointment_id, start_attempt_id)
);
)sql"},
      // Every stock move checks its balance against the sum of the lot's ledger lines
      // (InventoryStore::ApplyMoves). With quantity_delta in the index the sum reads the index
      // alone: about 7 times faster at 250 lines than a table lookup per line (an issue late in a
      // 1,000-needle lot, inside the write transaction).
      {6, "the ledger's balance index covers the quantity",
       R"sql(
DROP INDEX ledger_by_balance;
CREATE INDEX ledger_by_balance ON ledger (clinic_id, lot_id, bucket, quantity_delta);
)sql"},
      // Each ledger line carries its balance's running total and its place among that balance's
      // lines, so a stock move compares the stock row with the last line alone instead of
      // summing every line of the lot: at 250 lines that sum was a sixth of a needle issue's
      // write (tools/bench, Session 15). Existing lines are numbered in id order (ids sort by
      // time), and their running totals are their sums so far.
      {7, "ledger lines keep their balance's running total",
       R"sql(
ALTER TABLE ledger ADD COLUMN key_line INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN balance_after INTEGER NOT NULL DEFAULT 0;
UPDATE ledger SET key_line = numbered.key_line, balance_after = numbered.balance_after
FROM (SELECT id,
             ROW_NUMBER() OVER (PARTITION BY clinic_id, lot_id, bucket ORDER BY id) AS key_line,
             SUM(quantity_delta) OVER (PARTITION BY clinic_id, lot_id, bucket ORDER BY id
                                       ROWS UNBOUNDED PRECEDING) AS balance_after
      FROM ledger) AS numbered
WHERE ledger.id = numbered.id;
DROP INDEX ledger_by_balance;
CREATE UNIQUE INDEX ledger_by_balance ON ledger (clinic_id, lot_id, bucket, key_line);
)sql"},
      // A unit found by its serial alone (the product not given) is listed by product: with the
      // product in the index, in index order, where SQLite sorted each lookup's rows in a
      // temporary B-tree (four times a needle issue, on the writer).
      {8, "units by serial in product order",
       R"sql(
DROP INDEX units_by_serial;
CREATE INDEX units_by_serial ON serial_units (serial, product_id);
)sql"},
  };
  return *migrations;
}

}  // namespace smp::inventory
