#include "services/billing/billing_migrations.h"

#include <string>

#include "common/db/idempotency.h"

namespace smp::billing {

// Times are INTEGER unix microseconds (UTC); amounts INTEGER minor units of the row's clinic
// currency. Each document is also stored whole as serialised protobuf (`body`); the columns are
// what is searched, summed or constrained.
const std::vector<Migration>& BillingMigrations() {
  static const std::vector<Migration>* const migrations = new std::vector<Migration>{
      {1, "price lists, quotes, invoices, credit notes, payments, refunds, charge events",
       R"sql(
CREATE TABLE price_lists (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  effective_date TEXT NOT NULL,    -- YYYY-MM-DD, clinic-local
  effective_time INTEGER NOT NULL, -- the instant that day begins in the clinic's zone
  currency_code TEXT NOT NULL,
  body BLOB NOT NULL,              -- smp.billing.v1.PriceList
  create_time INTEGER NOT NULL,
  UNIQUE (clinic_id, effective_date)
);
CREATE INDEX price_lists_by_time ON price_lists (clinic_id, effective_time);
CREATE TABLE quotes (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  status TEXT NOT NULL,
  body BLOB NOT NULL,              -- smp.billing.v1.Quote without etag
  version INTEGER NOT NULL
);
CREATE INDEX quotes_by_plan ON quotes (plan_id, status);
CREATE TABLE invoices (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  status TEXT NOT NULL,
  number INTEGER NOT NULL,         -- 0 until issued
  issue_time INTEGER NOT NULL,     -- 0 until issued
  net INTEGER NOT NULL,
  tax INTEGER NOT NULL,
  amount_due INTEGER NOT NULL,
  body BLOB NOT NULL,              -- smp.billing.v1.Invoice without etag
  version INTEGER NOT NULL
);
-- Two issued invoices of a clinic can never share a number, whatever the concurrency.
CREATE UNIQUE INDEX invoice_numbers ON invoices (clinic_id, number) WHERE number > 0;
CREATE INDEX invoices_by_clinic ON invoices (clinic_id, id);
CREATE INDEX invoices_by_patient ON invoices (clinic_id, patient_id, id);
CREATE INDEX invoices_by_issue ON invoices (clinic_id, issue_time);
-- The last number issued per clinic; advanced inside the issuing transaction, so a rolled-back
-- issue gives its number back and committed numbers have no gaps.
CREATE TABLE invoice_counters (
  clinic_id TEXT PRIMARY KEY,
  last_number INTEGER NOT NULL
);
CREATE TABLE credit_notes (
  id TEXT PRIMARY KEY,
  invoice_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  body BLOB NOT NULL               -- smp.billing.v1.CreditNote
);
CREATE INDEX credit_notes_by_clinic ON credit_notes (clinic_id, create_time);
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,        -- '' for a deposit
  plan_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  body BLOB NOT NULL               -- smp.billing.v1.Payment
);
CREATE INDEX payments_by_clinic ON payments (clinic_id, id);
CREATE INDEX payments_by_patient ON payments (clinic_id, patient_id, id);
CREATE INDEX payments_by_invoice ON payments (invoice_id, id);
CREATE INDEX payments_by_time ON payments (clinic_id, create_time);
CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  payment_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  body BLOB NOT NULL               -- smp.billing.v1.Refund
);
CREATE INDEX refunds_by_clinic ON refunds (clinic_id, create_time);
CREATE TABLE deposit_applications (
  id TEXT PRIMARY KEY,
  deposit_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  create_time INTEGER NOT NULL
);
-- Charges from scheduling's events, idempotent by event id: the first result is kept.
CREATE TABLE charge_events (
  event_id TEXT PRIMARY KEY,
  result BLOB NOT NULL,            -- smp.billing.v1.ChargeEventResult
  create_time INTEGER NOT NULL
);
)sql" + std::string(kIdempotencyTableSql)},
      {2, "deposit un-applications (who, why), patient credit balances, clinic zones", R"sql(
-- A deposit application taken back is a row with a negative amount, naming who and why.
ALTER TABLE deposit_applications ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deposit_applications ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX deposit_applications_by_pair ON deposit_applications (deposit_id, invoice_id);
-- A patient's credit at a clinic: + from a credit note on a paid invoice, - when spent on an
-- invoice or refunded. The balance is the sum; it never goes below zero (checked in the write
-- transaction).
CREATE TABLE patient_credits (
  id TEXT PRIMARY KEY,
  clinic_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  kind TEXT NOT NULL,              -- CREDIT_NOTE, APPLIED, REFUNDED
  source_id TEXT NOT NULL,         -- the credit note, invoice or refund
  recorded_by TEXT NOT NULL,
  create_time INTEGER NOT NULL
);
CREATE INDEX patient_credits_by_patient ON patient_credits (clinic_id, patient_id);
-- The clinic's IANA time zone as identity (the one source) last gave it; it overrides the zone a
-- price list was saved with, and stays in use while identity is down.
CREATE TABLE clinic_zones (
  clinic_id TEXT PRIMARY KEY,
  time_zone TEXT NOT NULL,
  update_time INTEGER NOT NULL
);
)sql"},
  };
  return *migrations;
}

}  // namespace smp::billing
