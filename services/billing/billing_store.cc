#include "services/billing/billing_store.h"

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "services/billing/billing_reasons.h"

namespace smp::billing {
namespace {

// A clinic-local date as stored ("YYYY-MM-DD").
std::string DateText(const common::v1::LocalDate& date) { return DayText(FromLocalDate(date)); }

// The version part of a row read as (body, version).
template <typename Message>
absl::StatusOr<Message> Versioned(const Row& row, absl::string_view what) {
  ASSIGN_OR_RETURN(Message m, Parse<Message>(row.Text(0), what));
  m.set_etag(EtagOf(row.Int(1)));
  return m;
}

// The last key of a list page sorted by id descending: "" means from the newest.
std::string AfterId(const PageRequest& page) {
  return page.after_key.empty() ? std::string("~") : page.after_key;  // '~' sorts after ids
}

}  // namespace

// ---------------------------------------------------------------- price lists

absl::StatusOr<v1::PriceList> BillingStore::InsertPriceList(Transaction& txn,
                                                            const v1::PriceList& list,
                                                            absl::Time effective_time,
                                                            absl::Time now) const {
  v1::PriceList stored = list;
  stored.set_id(NewIdAt(now));
  *stored.mutable_effective_time() = ToProtoTimestamp(effective_time);
  *stored.mutable_create_time() = ToProtoTimestamp(now);
  absl::Status inserted = txn.Exec(
      "INSERT INTO price_lists (id, clinic_id, effective_date, effective_time, currency_code, "
      "body, create_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {stored.id(), stored.clinic_id(), DateText(stored.effective_date()),
       ToDbMicros(effective_time), stored.currency_code(), Serialize(stored), ToDbMicros(now)});
  if (absl::IsAlreadyExists(inserted)) {
    const std::string date = DateText(stored.effective_date());
    return WithErrorInfo(absl::AlreadyExistsError(absl::StrCat(
                             "clinic ", stored.clinic_id(), " already has a price list effective ",
                             date, "; add one with another date")),
                         billing_reason::kPriceListDateTaken, {{"effective_date", date}});
  }
  RETURN_IF_ERROR(inserted);
  return stored;
}

absl::StatusOr<std::optional<v1::PriceList>> BillingStore::EffectivePriceList(
    Transaction& txn, absl::string_view clinic_id, absl::Time at) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT body FROM price_lists WHERE clinic_id = ? AND "
                                        "effective_time <= ? ORDER BY effective_time DESC LIMIT 1",
                                        {std::string(clinic_id), ToDbMicros(at)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(v1::PriceList list, Parse<v1::PriceList>(rows[0].Text(0), "price list"));
  return list;
}

absl::StatusOr<std::optional<v1::PriceList>> BillingStore::AnyPriceList(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT body FROM price_lists WHERE clinic_id = ? "
                                        "ORDER BY id DESC LIMIT 1",
                                        {std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(v1::PriceList list, Parse<v1::PriceList>(rows[0].Text(0), "price list"));
  return list;
}

absl::StatusOr<std::optional<std::string>> BillingStore::GetClinicZone(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT time_zone FROM clinic_zones WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  return rows[0].Text(0);
}

absl::Status BillingStore::PutClinicZone(Transaction& txn, absl::string_view clinic_id,
                                         absl::string_view time_zone, absl::Time now) const {
  return txn.Exec(
      "INSERT INTO clinic_zones (clinic_id, time_zone, update_time) VALUES (?, ?, ?) "
      "ON CONFLICT (clinic_id) DO UPDATE SET time_zone = excluded.time_zone, "
      "update_time = excluded.update_time",
      {std::string(clinic_id), std::string(time_zone), ToDbMicros(now)});
}

absl::StatusOr<std::vector<std::string>> BillingStore::KnownClinics(Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT DISTINCT clinic_id FROM price_lists", {}));
  std::vector<std::string> out;
  for (const Row& row : rows) out.push_back(row.Text(0));
  return out;
}

absl::StatusOr<Page<v1::PriceList>> BillingStore::ListPriceLists(Transaction& txn,
                                                                 absl::string_view clinic_id,
                                                                 const PageRequest& page) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT body FROM price_lists WHERE clinic_id = ? AND "
                             "effective_date < ? ORDER BY effective_date DESC LIMIT ?",
                             {std::string(clinic_id), AfterId(page), int64_t{page.size} + 1}));
  ASSIGN_OR_RETURN(std::vector<v1::PriceList> items, ParseAll<v1::PriceList>(rows));
  return MakePage(std::move(items), page.size,
                  [](const v1::PriceList& l) { return DateText(l.effective_date()); });
}

// ---------------------------------------------------------------- quotes

absl::StatusOr<v1::Quote> BillingStore::InsertQuote(Transaction& txn,
                                                    const v1::Quote& quote) const {
  v1::Quote stored = quote;
  stored.clear_etag();
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO quotes (id, clinic_id, patient_id, plan_id, status, body, version) "
               "VALUES (?, ?, ?, ?, ?, ?, 1)",
               {stored.id(), stored.clinic_id(), stored.patient_id(), stored.plan_id(),
                v1::QuoteStatus_Name(stored.status()), Serialize(stored)}));
  stored.set_etag(EtagOf(1));
  return stored;
}

absl::StatusOr<v1::Quote> BillingStore::GetQuote(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT body, version FROM quotes WHERE id = ?", {std::string(id)}));
  if (rows.empty()) return NotFound("quote", id);
  return Versioned<v1::Quote>(rows[0], "quote");
}

absl::StatusOr<v1::Quote> BillingStore::UpdateQuote(Transaction& txn, const v1::Quote& quote,
                                                    int64_t expected_version) const {
  ASSIGN_OR_RETURN(v1::Quote current, GetQuote(txn, quote.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
  if (version != expected_version)
    return StaleEtagError("quote", quote.id(), expected_version, version);
  v1::Quote stored = quote;
  stored.clear_etag();
  RETURN_IF_ERROR(txn.Exec(
      "UPDATE quotes SET status = ?, body = ?, version = ? WHERE id = ?",
      {v1::QuoteStatus_Name(stored.status()), Serialize(stored), version + 1, stored.id()}));
  stored.set_etag(EtagOf(version + 1));
  return stored;
}

absl::StatusOr<std::optional<v1::Quote>> BillingStore::AcceptedQuoteForPlan(
    Transaction& txn, absl::string_view clinic_id, absl::string_view plan_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT body, version FROM quotes WHERE plan_id = ? AND "
                                        "clinic_id = ? AND status = ? ORDER BY id DESC LIMIT 1",
                                        {std::string(plan_id), std::string(clinic_id),
                                         v1::QuoteStatus_Name(v1::QUOTE_ACCEPTED)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(v1::Quote quote, Versioned<v1::Quote>(rows[0], "quote"));
  return quote;
}

// ---------------------------------------------------------------- invoices

namespace {

std::vector<DbValue> InvoiceColumns(const v1::Invoice& inv) {
  v1::Invoice stored = inv;
  stored.clear_etag();
  const int64_t issue_micros =
      inv.has_issue_time() ? ToDbMicros(FromProtoTimestamp(inv.issue_time())) : 0;
  return {inv.clinic_id(),
          inv.patient_id(),
          inv.plan_id(),
          v1::InvoiceStatus_Name(inv.status()),
          inv.number(),
          issue_micros,
          inv.totals().net().amount_minor(),
          inv.totals().tax().amount_minor(),
          inv.amount_due().amount_minor(),
          Serialize(stored)};
}

absl::StatusOr<std::vector<v1::Invoice>> InvoicesFrom(const std::vector<Row>& rows) {
  std::vector<v1::Invoice> out;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Invoice inv, Versioned<v1::Invoice>(row, "invoice"));
    out.push_back(std::move(inv));
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::Invoice> BillingStore::InsertInvoice(Transaction& txn,
                                                        const v1::Invoice& invoice) const {
  std::vector<DbValue> params = {invoice.id()};
  for (DbValue& v : InvoiceColumns(invoice)) params.push_back(std::move(v));
  RETURN_IF_ERROR(txn.Exec(
      "INSERT INTO invoices (id, clinic_id, patient_id, plan_id, status, number, issue_time, net, "
      "tax, amount_due, body, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
      params));
  v1::Invoice out = invoice;
  out.set_etag(EtagOf(1));
  return out;
}

absl::StatusOr<v1::Invoice> BillingStore::GetInvoice(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT body, version FROM invoices WHERE id = ?", {std::string(id)}));
  if (rows.empty()) return NotFound("invoice", id);
  return Versioned<v1::Invoice>(rows[0], "invoice");
}

absl::StatusOr<v1::Invoice> BillingStore::UpdateInvoice(Transaction& txn,
                                                        const v1::Invoice& invoice,
                                                        int64_t expected_version) const {
  ASSIGN_OR_RETURN(v1::Invoice current, GetInvoice(txn, invoice.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current.etag()));
  if (version != expected_version)
    return StaleEtagError("invoice", invoice.id(), expected_version, version);
  std::vector<DbValue> params = InvoiceColumns(invoice);
  params.push_back(version + 1);
  params.push_back(invoice.id());
  RETURN_IF_ERROR(txn.Exec(
      "UPDATE invoices SET clinic_id = ?, patient_id = ?, plan_id = ?, status = ?, number = ?, "
      "issue_time = ?, net = ?, tax = ?, amount_due = ?, body = ?, version = ? WHERE id = ?",
      params));
  v1::Invoice out = invoice;
  out.set_etag(EtagOf(version + 1));
  return out;
}

absl::StatusOr<int64_t> BillingStore::NextInvoiceNumber(Transaction& txn,
                                                        absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(int64_t changed,
                   txn.ExecCount("UPDATE invoice_counters SET last_number = last_number + 1 "
                                 "WHERE clinic_id = ?",
                                 {std::string(clinic_id)}));
  if (changed == 0) {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO invoice_counters (clinic_id, last_number) VALUES (?, 1)",
                             {std::string(clinic_id)}));
    return 1;
  }
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT last_number FROM invoice_counters "
                                        "WHERE clinic_id = ?",
                                        {std::string(clinic_id)}));
  return rows.at(0).Int(0);
}

absl::StatusOr<Page<v1::Invoice>> BillingStore::ListInvoices(Transaction& txn,
                                                             absl::string_view clinic_id,
                                                             absl::string_view patient_id,
                                                             const PageRequest& page) const {
  std::string sql = "SELECT body, version FROM invoices WHERE clinic_id = ? AND id < ?";
  std::vector<DbValue> params = {std::string(clinic_id), AfterId(page)};
  if (!patient_id.empty()) {
    absl::StrAppend(&sql, " AND patient_id = ?");
    params.push_back(std::string(patient_id));
  }
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");
  params.push_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  ASSIGN_OR_RETURN(std::vector<v1::Invoice> items, InvoicesFrom(rows));
  return MakePage(std::move(items), page.size, [](const v1::Invoice& i) { return i.id(); });
}

absl::StatusOr<std::vector<v1::Invoice>> BillingStore::PatientInvoices(
    Transaction& txn, absl::string_view clinic_id, absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT body, version FROM invoices WHERE clinic_id = ? AND "
                             "patient_id = ? AND number > 0 AND status <> ? ORDER BY id",
                             {std::string(clinic_id), std::string(patient_id),
                              v1::InvoiceStatus_Name(v1::INVOICE_VOID)}));
  return InvoicesFrom(rows);
}

absl::StatusOr<std::vector<IssuedAmounts>> BillingStore::IssuedInvoices(Transaction& txn,
                                                                        absl::string_view clinic_id,
                                                                        absl::Time from,
                                                                        absl::Time to) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT net, tax, amount_due, issue_time FROM invoices WHERE "
                             "clinic_id = ? AND number > 0 AND status <> ? AND issue_time >= ? "
                             "AND issue_time < ?",
                             {std::string(clinic_id), v1::InvoiceStatus_Name(v1::INVOICE_VOID),
                              ToDbMicros(from), ToDbMicros(to)}));
  std::vector<IssuedAmounts> out;
  for (const Row& row : rows) {
    out.push_back({row.Int(0), row.Int(1), row.Int(2), FromDbMicros(row.Int(3))});
  }
  return out;
}

// ---------------------------------------------------------------- credit notes, payments, refunds

absl::StatusOr<v1::CreditNote> BillingStore::InsertCreditNote(Transaction& txn,
                                                              const v1::CreditNote& note,
                                                              absl::Time now) const {
  v1::CreditNote stored = note;
  stored.set_id(NewIdAt(now));
  *stored.mutable_create_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO credit_notes (id, invoice_id, clinic_id, amount, create_time, body) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               {stored.id(), stored.invoice_id(), stored.clinic_id(),
                stored.amount().amount_minor(), ToDbMicros(now), Serialize(stored)}));
  return stored;
}

absl::StatusOr<v1::Payment> BillingStore::InsertPayment(Transaction& txn,
                                                        const v1::Payment& payment,
                                                        absl::Time now) const {
  v1::Payment stored = payment;
  stored.set_id(NewIdAt(now));
  *stored.mutable_create_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(txn.Exec(
      "INSERT INTO payments (id, clinic_id, patient_id, invoice_id, plan_id, amount, create_time, "
      "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {stored.id(), stored.clinic_id(), stored.patient_id(), stored.invoice_id(), stored.plan_id(),
       stored.amount().amount_minor(), ToDbMicros(now), Serialize(stored)}));
  return stored;
}

absl::StatusOr<v1::Payment> BillingStore::GetPayment(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT body FROM payments WHERE id = ?", {std::string(id)}));
  return ParseOne<v1::Payment>(rows, "payment", id);
}

absl::Status BillingStore::UpdatePayment(Transaction& txn, const v1::Payment& payment) const {
  return txn.Exec("UPDATE payments SET body = ? WHERE id = ?", {Serialize(payment), payment.id()});
}

absl::StatusOr<Page<v1::Payment>> BillingStore::ListPayments(Transaction& txn,
                                                             absl::string_view clinic_id,
                                                             absl::string_view invoice_id,
                                                             absl::string_view patient_id,
                                                             const PageRequest& page) const {
  std::string sql = "SELECT body FROM payments WHERE clinic_id = ? AND id < ?";
  std::vector<DbValue> params = {std::string(clinic_id), AfterId(page)};
  if (!invoice_id.empty()) {
    absl::StrAppend(&sql, " AND invoice_id = ?");
    params.push_back(std::string(invoice_id));
  }
  if (!patient_id.empty()) {
    absl::StrAppend(&sql, " AND patient_id = ?");
    params.push_back(std::string(patient_id));
  }
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");
  params.push_back(int64_t{page.size} + 1);
  ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
  ASSIGN_OR_RETURN(std::vector<v1::Payment> items, ParseAll<v1::Payment>(rows));
  return MakePage(std::move(items), page.size, [](const v1::Payment& p) { return p.id(); });
}

absl::StatusOr<std::vector<v1::Payment>> BillingStore::PatientDeposits(
    Transaction& txn, absl::string_view clinic_id, absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT body FROM payments WHERE clinic_id = ? AND "
                                        "patient_id = ? AND invoice_id = '' ORDER BY id",
                                        {std::string(clinic_id), std::string(patient_id)}));
  return ParseAll<v1::Payment>(rows);
}

absl::StatusOr<std::vector<v1::Payment>> BillingStore::PlanDeposits(
    Transaction& txn, absl::string_view clinic_id, absl::string_view plan_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT body FROM payments WHERE clinic_id = ? AND "
                                        "plan_id = ? AND invoice_id = '' ORDER BY id",
                                        {std::string(clinic_id), std::string(plan_id)}));
  return ParseAll<v1::Payment>(rows);
}

absl::StatusOr<v1::Refund> BillingStore::InsertRefund(Transaction& txn, const v1::Refund& refund,
                                                      absl::Time now) const {
  v1::Refund stored = refund;
  stored.set_id(NewIdAt(now));
  *stored.mutable_create_time() = ToProtoTimestamp(now);
  RETURN_IF_ERROR(
      txn.Exec("INSERT INTO refunds (id, payment_id, clinic_id, amount, create_time, body) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               {stored.id(), stored.payment_id(), stored.clinic_id(),
                stored.amount().amount_minor(), ToDbMicros(now), Serialize(stored)}));
  return stored;
}

absl::Status BillingStore::InsertDepositApplication(Transaction& txn, absl::string_view deposit_id,
                                                    absl::string_view invoice_id, int64_t amount,
                                                    absl::Time now, absl::string_view recorded_by,
                                                    absl::string_view reason) const {
  return txn.Exec(
      "INSERT INTO deposit_applications (id, deposit_id, invoice_id, amount, create_time, "
      "recorded_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {NewIdAt(now), std::string(deposit_id), std::string(invoice_id), amount, ToDbMicros(now),
       std::string(recorded_by), std::string(reason)});
}

absl::StatusOr<int64_t> BillingStore::AppliedToInvoice(Transaction& txn,
                                                       absl::string_view deposit_id,
                                                       absl::string_view invoice_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COALESCE(SUM(amount), 0) FROM "
                                        "deposit_applications WHERE deposit_id = ? AND "
                                        "invoice_id = ?",
                                        {std::string(deposit_id), std::string(invoice_id)}));
  return rows.at(0).Int(0);
}

// ---------------------------------------------------------------- patient credit

absl::Status BillingStore::InsertPatientCredit(Transaction& txn, absl::string_view clinic_id,
                                               absl::string_view patient_id, int64_t amount,
                                               absl::string_view kind, absl::string_view source_id,
                                               absl::string_view recorded_by,
                                               absl::Time now) const {
  return txn.Exec(
      "INSERT INTO patient_credits (id, clinic_id, patient_id, amount, kind, source_id, "
      "recorded_by, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {NewIdAt(now), std::string(clinic_id), std::string(patient_id), amount, std::string(kind),
       std::string(source_id), std::string(recorded_by), ToDbMicros(now)});
}

absl::StatusOr<int64_t> BillingStore::PatientCreditBalance(Transaction& txn,
                                                           absl::string_view clinic_id,
                                                           absl::string_view patient_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COALESCE(SUM(amount), 0) FROM patient_credits "
                                        "WHERE clinic_id = ? AND patient_id = ?",
                                        {std::string(clinic_id), std::string(patient_id)}));
  return rows.at(0).Int(0);
}

absl::StatusOr<std::vector<int64_t>> BillingStore::AmountsCreated(Transaction& txn,
                                                                  absl::string_view table,
                                                                  absl::string_view clinic_id,
                                                                  absl::Time from,
                                                                  absl::Time to) const {
  if (table != "credit_notes" && table != "payments" && table != "refunds") {
    return absl::InternalError(absl::StrCat("no amounts table ", table));
  }
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT amount FROM ", table,
                                          " WHERE clinic_id = ? AND create_time >= ? AND "
                                          "create_time < ?"),
                             {std::string(clinic_id), ToDbMicros(from), ToDbMicros(to)}));
  std::vector<int64_t> out;
  for (const Row& row : rows) out.push_back(row.Int(0));
  return out;
}

// ---------------------------------------------------------------- charge events

absl::Status BillingStore::InsertChargeEvent(Transaction& txn, const v1::ChargeEventResult& result,
                                             absl::Time now) const {
  return txn.Exec("INSERT INTO charge_events (event_id, result, create_time) VALUES (?, ?, ?)",
                  {result.event_id(), Serialize(result), ToDbMicros(now)});
}

}  // namespace smp::billing
