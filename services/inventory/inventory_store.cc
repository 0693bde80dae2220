#include "services/inventory/inventory_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/db/store_kit.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"

namespace smp::inventory {
namespace {

// A day the store wrote with DayText; the epoch day if the text was damaged (the row is still
// readable, and the date shows the damage).
absl::CivilDay StoredDay(const std::string& text) {
  return ParseDayText("stored day", text).value_or(absl::CivilDay());
}

constexpr char kLotColumns[] =
    "id, product_id, lot_number, expiry_date, serialised, status, recall_reason, create_time";

v1::Lot LotFromRow(const Row& row) {
  v1::Lot lot;
  lot.set_id(row.Text(0));
  lot.set_product_id(row.Text(1));
  lot.set_lot_number(row.Text(2));
  *lot.mutable_expiry_date() = ToLocalDate(StoredDay(row.Text(3)));
  lot.set_serialised(row.Int(4) != 0);
  lot.set_status(static_cast<v1::LotStatus>(row.Int(5)));
  lot.set_recall_reason(row.Text(6));
  *lot.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(7)));
  return lot;
}

constexpr char kUnitColumns[] =
    "serial, product_id, lot_id, clinic_id, state, appointment_id, issue_time, disposal_reason, "
    "disposal_witness, device_identifier";

v1::SerialUnit UnitFromRow(const Row& row) {
  v1::SerialUnit u;
  u.set_serial(row.Text(0));
  u.set_product_id(row.Text(1));
  u.set_lot_id(row.Text(2));
  u.set_clinic_id(row.Text(3));
  u.set_state(static_cast<v1::UnitState>(row.Int(4)));
  u.set_appointment_id(row.Text(5));
  if (row.Int(6) != 0) *u.mutable_issue_time() = ToProtoTimestamp(FromDbMicros(row.Int(6)));
  u.set_disposal_reason(row.Text(7));
  u.set_disposal_witness(row.Text(8));
  u.set_device_identifier(row.Text(9));
  return u;
}

constexpr char kLedgerColumns[] =
    "id, clinic_id, product_id, lot_id, bucket, kind, quantity_delta, serials, appointment_id, "
    "patient_id, transfer_id, reason, witness, staff_id, create_time, balance_after";

v1::LedgerEntry EntryFromRow(const Row& row) {
  v1::LedgerEntry e;
  e.set_id(row.Text(0));
  e.set_clinic_id(row.Text(1));
  e.set_product_id(row.Text(2));
  e.set_lot_id(row.Text(3));
  e.set_bucket(static_cast<v1::StockBucket>(row.Int(4)));
  e.set_kind(static_cast<v1::LedgerEntryKind>(row.Int(5)));
  e.set_quantity_delta(row.Int(6));
  if (!row.Text(7).empty()) {
    for (absl::string_view s : absl::StrSplit(row.Text(7), ',')) e.add_serials(std::string(s));
  }
  e.set_appointment_id(row.Text(8));
  e.set_patient_id(row.Text(9));
  e.set_transfer_id(row.Text(10));
  e.set_reason(row.Text(11));
  e.set_witness(row.Text(12));
  e.set_staff_id(row.Text(13));
  *e.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(14)));
  e.set_balance_after(row.Int(15));
  return e;
}

constexpr char kBottleColumns[] =
    "id, clinic_id, product_id, lot_id, state, use_by_date, open_time, opened_by, close_time, "
    "closed_by";

v1::PigmentBottle BottleFromRow(const Row& row) {
  v1::PigmentBottle b;
  b.set_id(row.Text(0));
  b.set_clinic_id(row.Text(1));
  b.set_product_id(row.Text(2));
  b.set_lot_id(row.Text(3));
  b.set_state(static_cast<v1::BottleState>(row.Int(4)));
  *b.mutable_use_by_date() = ToLocalDate(StoredDay(row.Text(5)));
  *b.mutable_open_time() = ToProtoTimestamp(FromDbMicros(row.Int(6)));
  b.set_opened_by(row.Text(7));
  if (row.Int(8) != 0) *b.mutable_close_time() = ToProtoTimestamp(FromDbMicros(row.Int(8)));
  b.set_closed_by(row.Text(9));
  return b;
}

std::string UseByText(const v1::PigmentBottle& b) {
  return DayText(FromLocalDate(b.use_by_date()));
}

}  // namespace

// ---------------------------------------------------------------- settings

absl::StatusOr<std::vector<std::string>> InventoryStore::ClinicsWithSettings(
    Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT clinic_id FROM clinic_settings ORDER BY clinic_id", {}));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back(row.Text(0));
  return out;
}

absl::StatusOr<std::optional<v1::ClinicInventorySettings>> InventoryStore::GetSettings(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT time_zone, version FROM clinic_settings WHERE clinic_id = ?",
                             {std::string(clinic_id)}));
  if (rows.empty()) return std::nullopt;
  v1::ClinicInventorySettings s;
  s.set_clinic_id(std::string(clinic_id));
  s.set_time_zone(rows[0].Text(0));
  s.set_etag(EtagOf(rows[0].Int(1)));
  return s;
}

absl::StatusOr<v1::ClinicInventorySettings> InventoryStore::PutSettings(
    Transaction& txn, const v1::ClinicInventorySettings& settings, int64_t expected_version,
    absl::Time now) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT version FROM clinic_settings WHERE clinic_id = ?",
                                        {settings.clinic_id()}));
  const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
  if (current != expected_version) {
    return StaleEtagError("clinic inventory settings", settings.clinic_id(), expected_version,
                          current);
  }
  if (current == 0) {
    RETURN_IF_ERROR(
        txn.Exec("INSERT INTO clinic_settings (clinic_id, time_zone, update_time, version) "
                 "VALUES (?, ?, ?, 1)",
                 {settings.clinic_id(), settings.time_zone(), ToDbMicros(now)}));
  } else {
    RETURN_IF_ERROR(
        txn.Exec("UPDATE clinic_settings SET time_zone = ?, update_time = ?, version = version + 1 "
                 "WHERE clinic_id = ?",
                 {settings.time_zone(), ToDbMicros(now), settings.clinic_id()}));
  }
  v1::ClinicInventorySettings out = settings;
  out.set_etag(EtagOf(current + 1));
  return out;
}

// ---------------------------------------------------------------- products

absl::StatusOr<v1::Product> InventoryStore::CreateProduct(Transaction& txn,
                                                          const v1::Product& product,
                                                          absl::Time now) const {
  v1::Product stored = product;
  stored.clear_id();
  stored.clear_kind();
  stored.clear_create_time();
  stored.clear_etag();
  const std::string id = NewIdAt(now);
  const v1::ProductKind kind = KindOf(product);
  RETURN_IF_ERROR(txn.Exec(
      "INSERT INTO products (id, kind, product, create_time, version) VALUES (?, ?, ?, ?, 1)",
      {id, static_cast<int64_t>(kind), Serialize(stored), ToDbMicros(now)}));
  stored.set_id(id);
  stored.set_kind(kind);
  *stored.mutable_create_time() = ToProtoTimestamp(now);
  stored.set_etag(EtagOf(1));
  return stored;
}

namespace {
absl::StatusOr<v1::Product> ProductFromRow(const Row& row) {
  ASSIGN_OR_RETURN(v1::Product p, Parse<v1::Product>(row.Text(2), "product"));
  p.set_id(row.Text(0));
  p.set_kind(static_cast<v1::ProductKind>(row.Int(1)));
  *p.mutable_create_time() = ToProtoTimestamp(FromDbMicros(row.Int(3)));
  p.set_etag(EtagOf(row.Int(4)));
  return p;
}
}  // namespace

absl::StatusOr<v1::Product> InventoryStore::GetProduct(Transaction& txn,
                                                       absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT id, kind, product, create_time, version "
                                        "FROM products WHERE id = ?",
                                        {std::string(id)}));
  if (rows.empty()) return NotFound("product", id);
  return ProductFromRow(rows[0]);
}

absl::StatusOr<Page<v1::Product>> InventoryStore::ListProducts(Transaction& txn,
                                                               v1::ProductKind kind,
                                                               const PageRequest& page) const {
  ASSIGN_OR_RETURN(
      auto rows, txn.Query("SELECT id, kind, product, create_time, version FROM products "
                           "WHERE id > ? AND (? = 0 OR kind = ?) ORDER BY id LIMIT ?",
                           {page.after_key, static_cast<int64_t>(kind), static_cast<int64_t>(kind),
                            static_cast<int64_t>(page.size + 1)}));
  std::vector<v1::Product> items;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Product p, ProductFromRow(row));
    items.push_back(std::move(p));
  }
  return MakePage(std::move(items), page.size, [](const v1::Product& p) { return p.id(); });
}

// ---------------------------------------------------------------- lots

absl::StatusOr<std::optional<v1::Lot>> InventoryStore::FindLot(Transaction& txn,
                                                               absl::string_view product_id,
                                                               absl::string_view lot_number) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kLotColumns,
                                          " FROM lots WHERE product_id = ? AND lot_number = ?"),
                             {std::string(product_id), std::string(lot_number)}));
  if (rows.empty()) return std::nullopt;
  return LotFromRow(rows[0]);
}

absl::StatusOr<v1::Lot> InventoryStore::GetLot(Transaction& txn, absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kLotColumns, " FROM lots WHERE id = ?"),
                             {std::string(id)}));
  if (rows.empty()) return NotFound("lot", id);
  return LotFromRow(rows[0]);
}

absl::StatusOr<v1::Lot> InventoryStore::CreateLot(Transaction& txn, const v1::Lot& lot,
                                                  absl::Time now) const {
  v1::Lot out = lot;
  out.set_id(NewIdAt(now));
  out.set_status(v1::LOT_STATUS_ACTIVE);
  *out.mutable_create_time() = ToProtoTimestamp(now);
  ASSIGN_OR_RETURN(absl::CivilDay expiry, ParseLocalDate("expiry_date", lot.expiry_date()));
  RETURN_IF_ERROR(txn.Exec(
      absl::StrCat("INSERT INTO lots (", kLotColumns, ") VALUES (?, ?, ?, ?, ?, ?, '', ?)"),
      {out.id(), out.product_id(), out.lot_number(), DayText(expiry),
       static_cast<int64_t>(out.serialised()), static_cast<int64_t>(out.status()),
       ToDbMicros(now)}));
  return out;
}

absl::Status InventoryStore::MarkLotRecalled(Transaction& txn, absl::string_view id,
                                             absl::string_view reason) const {
  return txn.Exec(
      "UPDATE lots SET status = ?, recall_reason = ? WHERE id = ?",
      {static_cast<int64_t>(v1::LOT_STATUS_RECALLED), std::string(reason), std::string(id)});
}

// ---------------------------------------------------------------- stock and ledger

absl::StatusOr<int64_t> InventoryStore::Balance(Transaction& txn, const StockKey& key) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT quantity FROM stock WHERE clinic_id = ? AND lot_id = ? "
                             "AND bucket = ?",
                             {key.clinic_id, key.lot_id, static_cast<int64_t>(key.bucket)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

absl::StatusOr<std::vector<v1::LedgerEntry>> InventoryStore::ApplyMoves(
    Transaction& txn, const std::vector<StockMove>& moves, const EntryMeta& meta,
    absl::Time now) const {
  std::vector<v1::LedgerEntry> entries;
  for (const StockMove& move : moves) {
    const StockKey& key = move.leg.key;
    const std::vector<DbValue> key_params = {key.clinic_id, key.lot_id,
                                             static_cast<int64_t>(key.bucket)};
    ASSIGN_OR_RETURN(int64_t before, Balance(txn, key));
    // The balance is derived from the ledger: the stock row must equal the running total of the
    // key's last line, so no write path can make them disagree (the ledger is append-only, and
    // every line's total was checked the same way when it was written).
    ASSIGN_OR_RETURN(auto last, txn.Query("SELECT key_line, balance_after FROM ledger WHERE "
                                          "clinic_id = ? AND lot_id = ? AND bucket = ? "
                                          "ORDER BY key_line DESC LIMIT 1",
                                          key_params));
    const int64_t last_line = last.empty() ? 0 : last[0].Int(0);
    const int64_t ledger_balance = last.empty() ? 0 : last[0].Int(1);
    if (ledger_balance != before) {
      return absl::DataLossError(
          absl::StrCat("stock of lot ", key.lot_id, " at clinic ", key.clinic_id, " (", before,
                       ") disagrees with its ledger (", ledger_balance, ")"));
    }
    ASSIGN_OR_RETURN(
        int64_t after,
        ApplyDelta(before, move.leg.delta,
                   absl::StrCat("lot ", key.lot_id, " (",
                                absl::AsciiStrToLower(absl::StripPrefix(
                                    v1::StockBucket_Name(key.bucket), "STOCK_BUCKET_")),
                                ") at clinic ", key.clinic_id)));
    RETURN_IF_ERROR(txn.Exec(
        "INSERT INTO stock (clinic_id, lot_id, bucket, product_id, quantity) VALUES (?, ?, ?, ?, "
        "?) "
        "ON CONFLICT (clinic_id, lot_id, bucket) DO UPDATE SET quantity = excluded.quantity",
        {key.clinic_id, key.lot_id, static_cast<int64_t>(key.bucket), move.product_id, after}));
    v1::LedgerEntry e;
    e.set_id(NewIdAt(now));
    e.set_kind(meta.kind);
    e.set_clinic_id(key.clinic_id);
    e.set_product_id(move.product_id);
    e.set_lot_id(key.lot_id);
    e.set_bucket(key.bucket);
    e.set_quantity_delta(move.leg.delta);
    e.set_balance_after(after);
    for (const std::string& s : move.serials) e.add_serials(s);
    e.set_appointment_id(meta.appointment_id);
    e.set_patient_id(meta.patient_id);
    e.set_transfer_id(meta.transfer_id);
    e.set_reason(meta.reason);
    e.set_witness(meta.witness);
    e.set_staff_id(meta.staff_id);
    *e.mutable_create_time() = ToProtoTimestamp(now);
    absl::Status appended = txn.Exec(
        absl::StrCat("INSERT INTO ledger (", kLedgerColumns,
                     ", local_date, key_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?)"),
        {e.id(), e.clinic_id(), e.product_id(), e.lot_id(), static_cast<int64_t>(e.bucket()),
         static_cast<int64_t>(e.kind()), e.quantity_delta(), absl::StrJoin(move.serials, ","),
         e.appointment_id(), e.patient_id(), e.transfer_id(), e.reason(), e.witness(), e.staff_id(),
         ToDbMicros(now), after, DayText(meta.local_day), last_line + 1});
    if (absl::IsAlreadyExists(appended)) {
      // Another writer (a replica on PostgreSQL) appended to this balance since it was read: the
      // whole transaction runs again (PostgreSQL reports most such races as 40001 itself).
      return SerializationConflictError(absl::StrCat("the ledger of lot ", key.lot_id,
                                                     " at clinic ", key.clinic_id,
                                                     " gained a line concurrently"));
    }
    RETURN_IF_ERROR(appended);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<std::vector<v1::StockLevel>> InventoryStore::ListStock(Transaction& txn,
                                                                      absl::string_view clinic_id,
                                                                      absl::string_view product_id,
                                                                      bool include_empty) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT s.lot_id, s.product_id, s.bucket, s.quantity, l.lot_number, "
                "l.expiry_date, l.status FROM stock s JOIN lots l ON l.id = s.lot_id "
                "WHERE s.clinic_id = ? AND (? = '' OR s.product_id = ?) "
                "ORDER BY s.product_id, l.expiry_date, s.lot_id",
                {std::string(clinic_id), std::string(product_id), std::string(product_id)}));
  std::vector<v1::StockLevel> levels;
  std::map<std::string, size_t> index;
  for (const Row& row : rows) {
    auto [it, added] = index.emplace(row.Text(0), levels.size());
    if (added) {
      v1::StockLevel level;
      level.set_clinic_id(std::string(clinic_id));
      level.set_lot_id(row.Text(0));
      level.set_product_id(row.Text(1));
      level.set_lot_number(row.Text(4));
      *level.mutable_expiry_date() = ToLocalDate(StoredDay(row.Text(5)));
      level.set_lot_status(static_cast<v1::LotStatus>(row.Int(6)));
      levels.push_back(std::move(level));
    }
    v1::StockLevel& level = levels[it->second];
    switch (static_cast<v1::StockBucket>(row.Int(2))) {
      case v1::STOCK_BUCKET_AVAILABLE:
        level.set_available(row.Int(3));
        break;
      case v1::STOCK_BUCKET_QUARANTINED:
        level.set_quarantined(row.Int(3));
        break;
      case v1::STOCK_BUCKET_IN_TRANSIT:
        level.set_in_transit(row.Int(3));
        break;
      default:
        return absl::DataLossError("stock row with an unknown bucket");
    }
  }
  if (!include_empty) {
    std::erase_if(levels, [](const v1::StockLevel& l) {
      return l.available() == 0 && l.quarantined() == 0 && l.in_transit() == 0;
    });
  }
  return levels;
}

absl::StatusOr<std::vector<std::pair<StockKey, int64_t>>> InventoryStore::BalancesOfLot(
    Transaction& txn, absl::string_view lot_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT clinic_id, bucket, quantity FROM stock "
                                        "WHERE lot_id = ? AND quantity > 0 "
                                        "ORDER BY clinic_id, bucket",
                                        {std::string(lot_id)}));
  std::vector<std::pair<StockKey, int64_t>> out;
  for (const Row& row : rows) {
    out.push_back(
        {StockKey{row.Text(0), std::string(lot_id), static_cast<v1::StockBucket>(row.Int(1))},
         row.Int(2)});
  }
  return out;
}

absl::StatusOr<std::vector<LotCandidate>> InventoryStore::AvailableLots(
    Transaction& txn, absl::string_view clinic_id, absl::string_view product_id) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT l.id, l.lot_number, l.expiry_date, l.status, l.serialised, s.quantity "
                "FROM stock s JOIN lots l ON l.id = s.lot_id WHERE s.clinic_id = ? AND "
                "s.product_id = ? AND s.bucket = ? AND s.quantity > 0",
                {std::string(clinic_id), std::string(product_id),
                 static_cast<int64_t>(v1::STOCK_BUCKET_AVAILABLE)}));
  std::vector<LotCandidate> out;
  for (const Row& row : rows) {
    LotCandidate c;
    c.lot.id = row.Text(0);
    c.lot.lot_number = row.Text(1);
    c.lot.expiry = StoredDay(row.Text(2));
    c.lot.status = static_cast<v1::LotStatus>(row.Int(3));
    c.lot.serialised = row.Int(4) != 0;
    c.available = row.Int(5);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<Page<v1::LedgerEntry>> InventoryStore::ListLedger(Transaction& txn,
                                                                 absl::string_view clinic_id,
                                                                 absl::string_view lot_id,
                                                                 const PageRequest& page) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kLedgerColumns,
                                          " FROM ledger WHERE clinic_id = ? AND id > ? AND "
                                          "(? = '' OR lot_id = ?) ORDER BY id LIMIT ?"),
                             {std::string(clinic_id), page.after_key, std::string(lot_id),
                              std::string(lot_id), static_cast<int64_t>(page.size + 1)}));
  std::vector<v1::LedgerEntry> items;
  for (const Row& row : rows) items.push_back(EntryFromRow(row));
  return MakePage(std::move(items), page.size, [](const v1::LedgerEntry& e) { return e.id(); });
}

absl::StatusOr<std::vector<v1::LotUse>> InventoryStore::LotUses(Transaction& txn,
                                                                absl::string_view lot_id) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT appointment_id, clinic_id, local_date, patient_id, "
                "quantity_delta, serials, id, kind FROM ledger WHERE lot_id = ? AND kind IN (?, ?) "
                "ORDER BY id",
                {std::string(lot_id), static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_ISSUE),
                 static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_RETURN)}));
  ASSIGN_OR_RETURN(auto bottle_rows,
                   txn.Query("SELECT appointment_id, clinic_id, local_date, patient_id, "
                             "bottle_id, id FROM bottle_uses WHERE lot_id = ? ORDER BY id",
                             {std::string(lot_id)}));
  std::vector<v1::LotUse> uses;
  std::map<std::string, size_t> index;  // appointment id -> position
  auto use_of = [&](const Row& row) -> v1::LotUse& {
    auto [it, added] = index.emplace(row.Text(0), uses.size());
    if (added) {
      v1::LotUse use;
      use.set_appointment_id(row.Text(0));
      use.set_clinic_id(row.Text(1));
      *use.mutable_date() = ToLocalDate(StoredDay(row.Text(2)));
      use.set_patient_id(row.Text(3));
      uses.push_back(std::move(use));
    }
    v1::LotUse& use = uses[it->second];
    if (use.patient_id().empty()) use.set_patient_id(row.Text(3));
    return use;
  };
  // Issue lines and bottle uses merged by id (both time-sortable), so procedures come oldest first.
  size_t next_bottle = 0;
  for (const Row& row : rows) {
    for (; next_bottle < bottle_rows.size() && bottle_rows[next_bottle].Text(5) < row.Text(6);
         ++next_bottle) {
      use_of(bottle_rows[next_bottle]).add_bottle_ids(bottle_rows[next_bottle].Text(4));
    }
    v1::LotUse& use = use_of(row);
    use.set_quantity(use.quantity() - row.Int(4));
    if (row.Text(5).empty()) continue;
    for (absl::string_view s : absl::StrSplit(row.Text(5), ',')) {
      if (row.Int(7) == v1::LEDGER_ENTRY_KIND_ISSUE) {
        use.add_serials(std::string(s));
        continue;
      }
      // Returned (the start failed): the unit never touched the patient.
      auto* serials = use.mutable_serials();
      auto it = std::find(serials->begin(), serials->end(), s);
      if (it != serials->end()) serials->erase(it);
    }
  }
  for (; next_bottle < bottle_rows.size(); ++next_bottle) {
    use_of(bottle_rows[next_bottle]).add_bottle_ids(bottle_rows[next_bottle].Text(4));
  }
  // A procedure whose whole issue was returned did not use the lot.
  std::erase_if(uses, [](const v1::LotUse& u) {
    return u.quantity() == 0 && u.serials().empty() && u.bottle_ids().empty();
  });
  return uses;
}

absl::StatusOr<std::pair<std::map<std::string, int64_t>, int64_t>> InventoryStore::UsageSince(
    Transaction& txn, absl::string_view clinic_id, absl::Time since) const {
  // Issues net of returns (a start that failed put its units back).
  const std::vector<DbValue> params = {
      std::string(clinic_id), static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_ISSUE),
      static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_RETURN), ToDbMicros(since)};
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT product_id, -SUM(quantity_delta) FROM ledger "
                             "WHERE clinic_id = ? AND kind IN (?, ?) AND create_time >= ? "
                             "GROUP BY product_id HAVING SUM(quantity_delta) <> 0",
                             params));
  std::map<std::string, int64_t> units;
  for (const Row& row : rows) units[row.Text(0)] = row.Int(1);
  ASSIGN_OR_RETURN(auto count,
                   txn.Query("SELECT COUNT(*) FROM (SELECT appointment_id FROM ledger "
                             "WHERE clinic_id = ? AND kind IN (?, ?) AND create_time >= ? "
                             "GROUP BY appointment_id HAVING SUM(quantity_delta) <> 0) drew",
                             params));
  return std::make_pair(std::move(units), count[0].Int(0));
}

absl::StatusOr<std::map<std::string, int64_t>> InventoryStore::NeedleUnitsIssuedOn(
    Transaction& txn, absl::string_view clinic_id, absl::CivilDay day) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT l.appointment_id, -SUM(l.quantity_delta) FROM ledger l JOIN products p "
                "ON p.id = l.product_id WHERE l.clinic_id = ? AND l.kind IN (?, ?) "
                "AND l.local_date = ? AND p.kind = ? GROUP BY l.appointment_id "
                "HAVING SUM(l.quantity_delta) <> 0",
                {std::string(clinic_id), static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_ISSUE),
                 static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_RETURN), DayText(day),
                 static_cast<int64_t>(v1::PRODUCT_KIND_NEEDLE_CARTRIDGE)}));
  std::map<std::string, int64_t> out;
  for (const Row& row : rows) out[row.Text(0)] = row.Int(1);
  return out;
}

// ---------------------------------------------------------------- serial units

absl::Status InventoryStore::InsertUnit(Transaction& txn, const v1::SerialUnit& u) const {
  absl::Status s = txn.Exec(absl::StrCat("INSERT INTO serial_units (", kUnitColumns,
                                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            {u.serial(), u.product_id(), u.lot_id(), u.clinic_id(),
                             static_cast<int64_t>(u.state()), u.appointment_id(), int64_t{0},
                             u.disposal_reason(), u.disposal_witness(), u.device_identifier()});
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("serial ", u.serial(), " of product ",
                                                 u.product_id(), " is already known: refused"));
  }
  return s;
}

absl::StatusOr<std::vector<v1::SerialUnit>> InventoryStore::FindUnits(
    Transaction& txn, absl::string_view serial, absl::string_view product_id) const {
  // "" matches every product.
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(absl::StrCat("SELECT ", kUnitColumns,
                             " FROM serial_units WHERE serial = ? AND "
                             "(? = '' OR product_id = ?) ORDER BY product_id"),
                {std::string(serial), std::string(product_id), std::string(product_id)}));
  std::vector<v1::SerialUnit> out;
  for (const Row& row : rows) out.push_back(UnitFromRow(row));
  return out;
}

absl::Status InventoryStore::UpdateUnit(Transaction& txn, const v1::SerialUnit& u,
                                        v1::UnitState expected) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount(
          "UPDATE serial_units SET clinic_id = ?, state = ?, appointment_id = ?, "
          "issue_time = ?, disposal_reason = ?, disposal_witness = ? "
          "WHERE product_id = ? AND serial = ? AND state = ?",
          {u.clinic_id(), static_cast<int64_t>(u.state()), u.appointment_id(),
           u.has_issue_time() ? ToDbMicros(FromProtoTimestamp(u.issue_time())) : int64_t{0},
           u.disposal_reason(), u.disposal_witness(), u.product_id(), u.serial(),
           static_cast<int64_t>(expected)}));
  if (changed != 1) {
    return absl::AbortedError(absl::StrCat("unit ", u.serial(), " changed concurrently; retry"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> InventoryStore::SerialCollisions(
    Transaction& txn) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT product_id, serial FROM serial_collisions "
                                        "ORDER BY product_id, serial"));
  std::vector<std::pair<std::string, std::string>> out;
  for (const Row& row : rows) out.emplace_back(row.Text(0), row.Text(1));
  return out;
}

absl::StatusOr<std::vector<std::string>> InventoryStore::InStockSerials(Transaction& txn,
                                                                        absl::string_view clinic_id,
                                                                        absl::string_view lot_id,
                                                                        int64_t limit) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT serial FROM serial_units WHERE lot_id = ? AND clinic_id = ? "
                             "AND state = ? ORDER BY serial LIMIT ?",
                             {std::string(lot_id), std::string(clinic_id),
                              static_cast<int64_t>(v1::UNIT_STATE_IN_STOCK), limit}));
  std::vector<std::string> out;
  for (const Row& row : rows) out.push_back(row.Text(0));
  return out;
}

absl::StatusOr<std::vector<v1::SerialUnit>> InventoryStore::InStockUnitsOfLot(
    Transaction& txn, absl::string_view lot_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kUnitColumns,
                                          " FROM serial_units WHERE lot_id = ? AND "
                                          "state = ? ORDER BY serial"),
                             {std::string(lot_id), static_cast<int64_t>(v1::UNIT_STATE_IN_STOCK)}));
  std::vector<v1::SerialUnit> out;
  for (const Row& row : rows) out.push_back(UnitFromRow(row));
  return out;
}

// ---------------------------------------------------------------- pigment bottles

absl::Status InventoryStore::InsertBottle(Transaction& txn, const v1::PigmentBottle& b) const {
  return txn.Exec(
      absl::StrCat("INSERT INTO bottles (", kBottleColumns,
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      {b.id(), b.clinic_id(), b.product_id(), b.lot_id(), static_cast<int64_t>(b.state()),
       UseByText(b), ToDbMicros(FromProtoTimestamp(b.open_time())), b.opened_by(), int64_t{0},
       b.closed_by()});
}

absl::StatusOr<v1::PigmentBottle> InventoryStore::GetBottle(Transaction& txn,
                                                            absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query(absl::StrCat("SELECT ", kBottleColumns, " FROM bottles WHERE id = ?"),
                             {std::string(id)}));
  if (rows.empty()) return NotFound("bottle", id);
  return BottleFromRow(rows[0]);
}

absl::Status InventoryStore::UpdateBottle(Transaction& txn, const v1::PigmentBottle& b,
                                          v1::BottleState expected) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount(
          "UPDATE bottles SET state = ?, close_time = ?, closed_by = ? WHERE id = ? AND state = ?",
          {static_cast<int64_t>(b.state()),
           b.has_close_time() ? ToDbMicros(FromProtoTimestamp(b.close_time())) : int64_t{0},
           b.closed_by(), b.id(), static_cast<int64_t>(expected)}));
  if (changed != 1) {
    return absl::AbortedError(absl::StrCat("bottle ", b.id(), " changed concurrently; retry"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<v1::PigmentBottle>> InventoryStore::UnclosedBottles(
    Transaction& txn, absl::string_view clinic_id, const PageRequest& page) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(absl::StrCat("SELECT ", kBottleColumns,
                             " FROM bottles WHERE clinic_id = ? AND state IN (?, ?) AND id > ? "
                             "ORDER BY id LIMIT ?"),
                {std::string(clinic_id), static_cast<int64_t>(v1::BOTTLE_STATE_OPEN),
                 static_cast<int64_t>(v1::BOTTLE_STATE_QUARANTINED), page.after_key,
                 static_cast<int64_t>(page.size + 1)}));
  std::vector<v1::PigmentBottle> out;
  for (const Row& row : rows) out.push_back(BottleFromRow(row));
  return MakePage(std::move(out), page.size, [](const v1::PigmentBottle& b) { return b.id(); });
}

absl::StatusOr<int64_t> InventoryStore::QuarantineBottlesOfLot(Transaction& txn,
                                                               absl::string_view lot_id) const {
  return txn.ExecCount("UPDATE bottles SET state = ? WHERE lot_id = ? AND state = ?",
                       {static_cast<int64_t>(v1::BOTTLE_STATE_QUARANTINED), std::string(lot_id),
                        static_cast<int64_t>(v1::BOTTLE_STATE_OPEN)});
}

absl::Status InventoryStore::RecordBottleUse(Transaction& txn, const v1::PigmentBottle& b,
                                             const EntryMeta& meta, absl::Time now) const {
  return txn.Exec(
      "INSERT INTO bottle_uses (id, bottle_id, lot_id, clinic_id, appointment_id, patient_id, "
      "staff_id, local_date, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {NewIdAt(now), b.id(), b.lot_id(), b.clinic_id(), meta.appointment_id, meta.patient_id,
       meta.staff_id, DayText(meta.local_day), ToDbMicros(now)});
}

// ---------------------------------------------------------------- transfers

absl::StatusOr<v1::Transfer> InventoryStore::CreateTransfer(Transaction& txn,
                                                            const v1::Transfer& transfer,
                                                            absl::Time now) const {
  v1::Transfer stored = transfer;
  stored.set_id(NewIdAt(now));
  stored.clear_etag();
  RETURN_IF_ERROR(txn.Exec(
      "INSERT INTO transfers (id, source_clinic_id, destination_clinic_id, status, transfer, "
      "version) VALUES (?, ?, ?, ?, ?, 1)",
      {stored.id(), stored.source_clinic_id(), stored.destination_clinic_id(),
       static_cast<int64_t>(stored.status()), Serialize(stored)}));
  stored.set_etag(EtagOf(1));
  return stored;
}

namespace {
absl::StatusOr<v1::Transfer> TransferFromRow(const Row& row) {
  ASSIGN_OR_RETURN(v1::Transfer t, Parse<v1::Transfer>(row.Text(0), "transfer"));
  t.set_etag(EtagOf(row.Int(1)));
  return t;
}
}  // namespace

absl::StatusOr<v1::Transfer> InventoryStore::GetTransfer(Transaction& txn,
                                                         absl::string_view id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT transfer, version FROM transfers WHERE id = ?",
                                        {std::string(id)}));
  if (rows.empty()) return NotFound("transfer", id);
  return TransferFromRow(rows[0]);
}

absl::StatusOr<v1::Transfer> InventoryStore::UpdateTransfer(Transaction& txn,
                                                            const v1::Transfer& transfer,
                                                            int64_t expected_version) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT version FROM transfers WHERE id = ?", {transfer.id()}));
  if (rows.empty()) return NotFound("transfer", transfer.id());
  if (rows[0].Int(0) != expected_version) {
    return StaleEtagError("transfer", transfer.id(), expected_version, rows[0].Int(0));
  }
  v1::Transfer stored = transfer;
  stored.clear_etag();
  RETURN_IF_ERROR(
      txn.Exec("UPDATE transfers SET status = ?, transfer = ?, version = version + 1 WHERE id = ?",
               {static_cast<int64_t>(stored.status()), Serialize(stored), stored.id()}));
  stored.set_etag(EtagOf(expected_version + 1));
  return stored;
}

absl::StatusOr<Page<v1::Transfer>> InventoryStore::ListTransfers(Transaction& txn,
                                                                 absl::string_view clinic_id,
                                                                 const PageRequest& page) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT transfer, version FROM transfers WHERE "
                             "(source_clinic_id = ? OR destination_clinic_id = ?) AND "
                             "(? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                             {std::string(clinic_id), std::string(clinic_id), page.after_key,
                              page.after_key, static_cast<int64_t>(page.size + 1)}));
  std::vector<v1::Transfer> items;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Transfer t, TransferFromRow(row));
    items.push_back(std::move(t));
  }
  return MakePage(std::move(items), page.size, [](const v1::Transfer& t) { return t.id(); });
}

// ---------------------------------------------------------------- reorder points

absl::Status InventoryStore::PutReorderPoint(Transaction& txn,
                                             const v1::ReorderPoint& point) const {
  if (point.reorder_level() == 0) {
    return txn.Exec("DELETE FROM reorder_points WHERE clinic_id = ? AND product_id = ?",
                    {point.clinic_id(), point.product_id()});
  }
  return txn.Exec(
      "INSERT INTO reorder_points (clinic_id, product_id, reorder_level, reorder_quantity) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (clinic_id, product_id) DO UPDATE SET "
      "reorder_level = excluded.reorder_level, reorder_quantity = excluded.reorder_quantity",
      {point.clinic_id(), point.product_id(), point.reorder_level(), point.reorder_quantity()});
}

absl::StatusOr<std::vector<v1::ReorderPoint>> InventoryStore::ReorderPoints(
    Transaction& txn, absl::string_view clinic_id) const {
  ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT product_id, reorder_level, reorder_quantity FROM "
                                        "reorder_points WHERE clinic_id = ? ORDER BY product_id",
                                        {std::string(clinic_id)}));
  std::vector<v1::ReorderPoint> out;
  for (const Row& row : rows) {
    v1::ReorderPoint p;
    p.set_clinic_id(std::string(clinic_id));
    p.set_product_id(row.Text(0));
    p.set_reorder_level(row.Int(1));
    p.set_reorder_quantity(row.Int(2));
    out.push_back(std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------- reuse attempts

// ---------------------------------------------------------------- start issues

namespace {

constexpr char kStartIssueColumns[] =
    "appointment_id, start_attempt_id, clinic_id, state, fingerprint, response, staff_id, "
    "create_time, return_reason";

absl::StatusOr<StartIssue> StartIssueFromRow(const Row& row) {
  StartIssue issue;
  issue.appointment_id = row.Text(0);
  issue.start_attempt_id = row.Text(1);
  issue.clinic_id = row.Text(2);
  issue.state = static_cast<StartIssue::State>(row.Int(3));
  issue.fingerprint = row.Text(4);
  if (!issue.response.ParseFromString(row.Text(5))) {
    return absl::DataLossError(
        absl::StrCat("start issue of appointment ", issue.appointment_id, " does not parse"));
  }
  issue.staff_id = row.Text(6);
  issue.create_time = FromDbMicros(row.Int(7));
  issue.return_reason = row.Text(8);
  return issue;
}

}  // namespace

absl::StatusOr<std::optional<StartIssue>> InventoryStore::GetStartIssue(
    Transaction& txn, absl::string_view appointment_id, absl::string_view start_attempt_id) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(
          absl::StrCat("SELECT ", kStartIssueColumns,
                       " FROM start_issues WHERE appointment_id = ? AND start_attempt_id = ?"),
          {std::string(appointment_id), std::string(start_attempt_id)}));
  if (rows.empty()) return std::nullopt;
  return StartIssueFromRow(rows[0]);
}

absl::StatusOr<std::optional<StartIssue>> InventoryStore::ActiveStartIssue(
    Transaction& txn, absl::string_view appointment_id) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query(absl::StrCat("SELECT ", kStartIssueColumns,
                             " FROM start_issues WHERE appointment_id = ? AND "
                             "state = ? ORDER BY create_time LIMIT 1"),
                {std::string(appointment_id), static_cast<int64_t>(StartIssue::State::kIssued)}));
  if (rows.empty()) return std::nullopt;
  return StartIssueFromRow(rows[0]);
}

absl::Status InventoryStore::InsertStartIssue(Transaction& txn, const StartIssue& issue) const {
  return txn.Exec(
      absl::StrCat("INSERT INTO start_issues (", kStartIssueColumns,
                   ", return_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      {issue.appointment_id, issue.start_attempt_id, issue.clinic_id,
       static_cast<int64_t>(issue.state), issue.fingerprint, Serialize(issue.response),
       issue.staff_id, ToDbMicros(issue.create_time), issue.return_reason,
       issue.state == StartIssue::State::kReturned ? ToDbMicros(issue.create_time) : int64_t{0}});
}

absl::Status InventoryStore::MarkStartIssueReturned(Transaction& txn,
                                                    absl::string_view appointment_id,
                                                    absl::string_view start_attempt_id,
                                                    absl::string_view reason,
                                                    absl::Time now) const {
  ASSIGN_OR_RETURN(
      int64_t changed,
      txn.ExecCount("UPDATE start_issues SET state = ?, return_reason = ?, return_time = ? "
                    "WHERE appointment_id = ? AND start_attempt_id = ? AND state = ?",
                    {static_cast<int64_t>(StartIssue::State::kReturned), std::string(reason),
                     ToDbMicros(now), std::string(appointment_id), std::string(start_attempt_id),
                     static_cast<int64_t>(StartIssue::State::kIssued)}));
  if (changed != 1) {
    return absl::AbortedError(absl::StrCat("the start issue of appointment ", appointment_id,
                                           " changed concurrently; retry"));
  }
  return absl::OkStatus();
}

absl::Status InventoryStore::RecordReuseAttempt(Transaction& txn, const v1::ReuseAttempt& a) const {
  return txn.Exec(
      "INSERT INTO reuse_attempts (id, serial, clinic_id, appointment_id, first_appointment_id, "
      "unit_state, staff_id, attempt_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {a.id(), a.serial(), a.clinic_id(), a.appointment_id(), a.first_appointment_id(),
       static_cast<int64_t>(a.unit_state()), a.staff_id(),
       ToDbMicros(FromProtoTimestamp(a.attempt_time()))});
}

absl::StatusOr<Page<v1::ReuseAttempt>> InventoryStore::ListReuseAttempts(
    Transaction& txn, absl::string_view clinic_id, const PageRequest& page) const {
  ASSIGN_OR_RETURN(
      auto rows,
      txn.Query("SELECT id, serial, clinic_id, appointment_id, first_appointment_id, "
                "unit_state, staff_id, attempt_time FROM reuse_attempts "
                "WHERE clinic_id = ? AND id > ? ORDER BY id LIMIT ?",
                {std::string(clinic_id), page.after_key, static_cast<int64_t>(page.size + 1)}));
  std::vector<v1::ReuseAttempt> items;
  for (const Row& row : rows) {
    v1::ReuseAttempt a;
    a.set_id(row.Text(0));
    a.set_serial(row.Text(1));
    a.set_clinic_id(row.Text(2));
    a.set_appointment_id(row.Text(3));
    a.set_first_appointment_id(row.Text(4));
    a.set_unit_state(static_cast<v1::UnitState>(row.Int(5)));
    a.set_staff_id(row.Text(6));
    *a.mutable_attempt_time() = ToProtoTimestamp(FromDbMicros(row.Int(7)));
    items.push_back(std::move(a));
  }
  return MakePage(std::move(items), page.size, [](const v1::ReuseAttempt& a) { return a.id(); });
}

absl::StatusOr<std::optional<v1::LotHold>> InventoryStore::OpenLotHold(
    Transaction& txn, absl::string_view clinic_id, absl::string_view lot_id) const {
  ASSIGN_OR_RETURN(auto rows,
                   txn.Query("SELECT hold_reason, held_by, hold_time FROM lot_holds "
                             "WHERE clinic_id = ? AND lot_id = ? AND release_time IS NULL",
                             {std::string(clinic_id), std::string(lot_id)}));
  if (rows.empty()) return std::nullopt;
  v1::LotHold hold;
  hold.set_lot_id(std::string(lot_id));
  hold.set_clinic_id(std::string(clinic_id));
  hold.set_held(true);
  hold.set_hold_reason(rows[0].Text(0));
  hold.set_held_by(rows[0].Text(1));
  *hold.mutable_hold_time() = ToProtoTimestamp(FromDbMicros(rows[0].Int(2)));
  return hold;
}

absl::Status InventoryStore::AddLotHold(Transaction& txn, const v1::LotHold& hold) const {
  const absl::Time when = FromProtoTimestamp(hold.hold_time());
  return txn.Exec(
      "INSERT INTO lot_holds (id, clinic_id, lot_id, hold_reason, held_by, hold_time) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {NewIdAt(when), hold.clinic_id(), hold.lot_id(), hold.hold_reason(), hold.held_by(),
       ToDbMicros(when)});
}

absl::Status InventoryStore::ReleaseLotHold(Transaction& txn, const v1::LotHold& released) const {
  return txn.Exec(
      "UPDATE lot_holds SET release_reason = ?, released_by = ?, release_time = ? "
      "WHERE clinic_id = ? AND lot_id = ? AND release_time IS NULL",
      {released.release_reason(), released.released_by(),
       ToDbMicros(FromProtoTimestamp(released.release_time())), released.clinic_id(),
       released.lot_id()});
}

}  // namespace smp::inventory
