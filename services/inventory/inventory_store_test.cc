#include "services/inventory/inventory_store.h"

#include <random>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/inventory/inventory_migrations.h"

namespace smp::inventory {
namespace {

// A new database with only the first `applied` of inventory's migrations.
absl::StatusOr<std::unique_ptr<Database>> DatabaseWithMigrations(size_t applied, absl::Time now) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, ::smp::testing::OpenNewTestDatabase());
  const std::vector<Migration> first(InventoryMigrations().begin(),
                                     InventoryMigrations().begin() + applied);
  RETURN_IF_ERROR(ApplyMigrations(*db, first, now));
  return db;
}

class InventoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, ::smp::testing::OpenNewTestDatabase());
    ASSERT_OK(ApplyMigrations(*db_, InventoryMigrations(), now_));
  }

  // One adjustment of `delta` units to `key`, in a transaction of its own: its ledger line.
  absl::StatusOr<v1::LedgerEntry> Adjust(const StockKey& key, int64_t delta) {
    EntryMeta meta;
    meta.kind = v1::LEDGER_ENTRY_KIND_ADJUST;
    meta.local_day = absl::CivilDay(2027, 1, 15);
    v1::LedgerEntry line;
    RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {{{key, delta}, "P", {}}}, meta, now_));
      line = entries.at(0);
      return absl::OkStatus();
    }));
    return line;
  }

  std::unique_ptr<Database> db_;
  InventoryStore store_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

// The store's balances, after a long random sequence of movements in which many are refused
// (and rolled back), are never negative and equal the SUM of their ledger lines in SQL.
TEST_F(InventoryStoreTest, RandomMovesKeepStockEqualToLedgerSum) {
  std::mt19937 rng(7);
  const std::vector<std::string> clinics = {"CA", "CB"};
  const std::vector<std::string> lots = {"L1", "L2"};
  StockBook model;
  int refused = 0;
  for (int step = 0; step < 600; ++step) {
    const std::string clinic = clinics[rng() % 2], lot = lots[rng() % 2];
    const int64_t q = 1 + rng() % 8;
    std::vector<StockMove> moves;
    switch (rng() % 4) {
      case 0:
        moves = {{{{clinic, lot, v1::STOCK_BUCKET_AVAILABLE}, q}, "P", {}}};
        break;
      case 1:
        moves = {{{{clinic, lot, v1::STOCK_BUCKET_AVAILABLE}, -q}, "P", {}}};
        break;
      case 2: {
        const std::string to = clinic == "CA" ? "CB" : "CA";
        moves = {{{{clinic, lot, v1::STOCK_BUCKET_AVAILABLE}, -q}, "P", {}},
                 {{{to, lot, v1::STOCK_BUCKET_IN_TRANSIT}, q}, "P", {}}};
        break;
      }
      default:
        moves = {{{{clinic, lot, v1::STOCK_BUCKET_IN_TRANSIT}, -q}, "P", {}},
                 {{{clinic, lot, v1::STOCK_BUCKET_AVAILABLE}, q}, "P", {}}};
    }
    EntryMeta meta;
    meta.kind = v1::LEDGER_ENTRY_KIND_ADJUST;
    meta.local_day = absl::CivilDay(2027, 1, 15);
    absl::Status s = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
      return store_.ApplyMoves(txn, moves, meta, now_).status();
    });
    std::vector<Leg> legs;
    for (const StockMove& m : moves) legs.push_back(m.leg);
    absl::Status expected = model.Apply(legs);
    ASSERT_EQ(s.code(), expected.code()) << s << " vs " << expected;
    if (!s.ok()) ++refused;
  }
  EXPECT_GT(refused, 0);
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    auto rows = txn.Query(
        "SELECT s.clinic_id, s.lot_id, s.bucket, s.quantity, "
        "(SELECT COALESCE(SUM(quantity_delta), 0) FROM ledger l WHERE l.clinic_id = s.clinic_id "
        "AND l.lot_id = s.lot_id AND l.bucket = s.bucket) FROM stock s");
    if (!rows.ok()) return rows.status();
    EXPECT_FALSE(rows->empty());
    for (const Row& row : *rows) {
      EXPECT_GE(row.Int(3), 0);
      EXPECT_EQ(row.Int(3), row.Int(4)) << row.Text(0) << " " << row.Text(1);
      const StockKey key{row.Text(0), row.Text(1), static_cast<v1::StockBucket>(row.Int(2))};
      EXPECT_EQ(row.Int(3), model.Balance(key));
    }
    // Every line's running total is the sum of its balance's lines up to it, numbered 1, 2, ...
    auto lines = txn.Query(
        "SELECT l.key_line, l.balance_after, (SELECT SUM(o.quantity_delta) FROM ledger o WHERE "
        "o.clinic_id = l.clinic_id AND o.lot_id = l.lot_id AND o.bucket = l.bucket AND "
        "o.key_line <= l.key_line), (SELECT COUNT(*) FROM ledger o WHERE o.clinic_id = l.clinic_id "
        "AND o.lot_id = l.lot_id AND o.bucket = l.bucket AND o.key_line <= l.key_line) FROM ledger "
        "l");
    if (!lines.ok()) return lines.status();
    EXPECT_GT(lines->size(), 100u);
    for (const Row& row : *lines) {
      EXPECT_EQ(row.Int(1), row.Int(2)) << "line " << row.Int(0);
      EXPECT_EQ(row.Int(0), row.Int(3));
    }
    return absl::OkStatus();
  }));
}

TEST_F(InventoryStoreTest, DuplicateSerialIsRefusedPerProduct) {
  v1::SerialUnit unit;
  unit.set_serial("SN-1");
  unit.set_product_id("P");
  unit.set_lot_id("L");
  unit.set_clinic_id("CA");
  unit.set_state(v1::UNIT_STATE_IN_STOCK);
  ASSERT_OK(
      db_->Run(TxMode::kWrite, [&](Transaction& txn) { return store_.InsertUnit(txn, unit); }));
  unit.set_clinic_id("CB");
  EXPECT_THAT(
      db_->Run(TxMode::kWrite, [&](Transaction& txn) { return store_.InsertUnit(txn, unit); }),
      smp::testing::StatusIs(absl::StatusCode::kAlreadyExists));
  // Another maker's product may use the same serial: two units, told apart by product.
  unit.set_product_id("Q");
  ASSERT_OK(
      db_->Run(TxMode::kWrite, [&](Transaction& txn) { return store_.InsertUnit(txn, unit); }));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto both, store_.FindUnits(txn, "SN-1", ""));
    EXPECT_EQ(both.size(), 2u);
    ASSIGN_OR_RETURN(auto one, store_.FindUnits(txn, "SN-1", "Q"));
    EXPECT_EQ(one.size(), 1u);
    return absl::OkStatus();
  }));
}

// The balance check of every stock move (ApplyMoves) reads the key's last ledger line through
// the ledger's balance index, without sorting and without reading the other lines: an issue late
// in a large lot costs what the first one did.
TEST_F(InventoryStoreTest, TheBalanceCheckReadsOneLedgerLine) {
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    if (txn.dialect() == SqlDialect::kPostgresql) {
      ASSIGN_OR_RETURN(auto index, txn.Query("SELECT indexdef FROM pg_indexes WHERE "
                                             "indexname = 'ledger_by_balance'",
                                             {}));
      EXPECT_EQ(index.size(), 1u);
      if (!index.empty()) {
        EXPECT_NE(index[0].Text(0).find("UNIQUE"), std::string::npos) << index[0].Text(0);
        EXPECT_NE(index[0].Text(0).find("key_line"), std::string::npos) << index[0].Text(0);
      }
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto plan, txn.Query("EXPLAIN QUERY PLAN SELECT key_line, balance_after FROM "
                                          "ledger WHERE clinic_id = ? AND lot_id = ? AND "
                                          "bucket = ? ORDER BY key_line DESC LIMIT 1",
                                          {std::string("CA"), std::string("L1"), int64_t{1}}));
    std::string steps;
    for (const Row& row : plan) steps += row.Text(3) + "\n";
    EXPECT_NE(steps.find("USING INDEX ledger_by_balance"), std::string::npos) << steps;
    EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;
    return absl::OkStatus();
  }));
}

// Each ledger line records its balance's running total and its place among the key's lines.
TEST_F(InventoryStoreTest, LedgerLinesCarryTheirRunningBalance) {
  const StockKey key{"CA", "L1", v1::STOCK_BUCKET_AVAILABLE};
  std::vector<int64_t> reported;
  for (int64_t delta : {5, -2, 7, -10}) {
    ASSERT_OK_AND_ASSIGN(v1::LedgerEntry line, Adjust(key, delta));
    reported.push_back(line.balance_after());
  }
  EXPECT_EQ(reported, (std::vector<int64_t>{5, 3, 10, 0}));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT key_line, balance_after FROM ledger "
                                          "ORDER BY key_line",
                                          {}));
    std::vector<std::pair<int64_t, int64_t>> lines;
    for (const Row& row : rows) lines.emplace_back(row.Int(0), row.Int(1));
    EXPECT_EQ(lines, (std::vector<std::pair<int64_t, int64_t>>{{1, 5}, {2, 3}, {3, 10}, {4, 0}}));
    ASSIGN_OR_RETURN(auto listed, store_.ListLedger(txn, "CA", {}, PageRequest{10, ""}));
    EXPECT_EQ(listed.items.size(), 4u);
    if (!listed.items.empty()) {
      EXPECT_EQ(listed.items.back().balance_after(), 0);
    }
    return absl::OkStatus();
  }));
}

// A stock row changed outside the ledger, or a ledger line appended without its stock, is found
// at the next move of that balance: DATA_LOSS, and the move writes nothing.
TEST_F(InventoryStoreTest, StockThatDisagreesWithItsLedgerIsDataLoss) {
  const StockKey key{"CA", "L1", v1::STOCK_BUCKET_AVAILABLE};
  auto move = [&](int64_t delta) { return Adjust(key, delta).status(); };
  auto ledger_lines = [&]() -> int64_t {
    int64_t n = -1;
    EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM ledger", {}));
      n = rows[0].Int(0);
      return absl::OkStatus();
    }));
    return n;
  };
  ASSERT_OK(move(10));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("UPDATE stock SET quantity = quantity + 1", {});
  }));
  EXPECT_THAT(move(-1), smp::testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(ledger_lines(), 1);
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("UPDATE stock SET quantity = quantity - 1", {});
  }));
  ASSERT_OK(move(-1));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec(
        "INSERT INTO ledger (id, clinic_id, product_id, lot_id, bucket, kind, quantity_delta, "
        "serials, appointment_id, patient_id, transfer_id, reason, witness, staff_id, "
        "create_time, balance_after, local_date, key_line) VALUES ('X', 'CA', 'P', 'L1', ?, ?, "
        "3, '', '', '', '', '', '', '', 0, 12, '2027-01-15', 3)",
        {static_cast<int64_t>(v1::STOCK_BUCKET_AVAILABLE),
         static_cast<int64_t>(v1::LEDGER_ENTRY_KIND_ADJUST)});
  }));
  EXPECT_THAT(move(-1), smp::testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(ledger_lines(), 3);
}

// Migration 7 numbers the existing ledger lines of each balance in id order and gives each its
// running total, so the first move after it checks against the right balance.
TEST(InventoryMigrationTest, ExistingLedgerLinesGetTheirRunningBalance) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, DatabaseWithMigrations(6, now));
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    // Two balances, their lines interleaved; ids in time order.
    const struct {
      const char* id;
      const char* lot;
      int64_t delta;
    } lines[] = {{"01A", "L1", 10},
                 {"01B", "L2", 4},
                 {"01C", "L1", -3},
                 {"01D", "L1", -2},
                 {"01E", "L2", -4}};
    for (const auto& line : lines) {
      RETURN_IF_ERROR(txn.Exec(
          "INSERT INTO ledger (id, clinic_id, product_id, lot_id, bucket, kind, quantity_delta, "
          "serials, appointment_id, patient_id, transfer_id, reason, witness, staff_id, "
          "local_date, create_time) VALUES (?, 'CA', 'P', ?, ?, 1, ?, '', '', '', '', '', '', "
          "'', '2027-01-15', 0)",
          {std::string(line.id), std::string(line.lot),
           static_cast<int64_t>(v1::STOCK_BUCKET_AVAILABLE), line.delta}));
    }
    RETURN_IF_ERROR(
        txn.Exec("INSERT INTO stock (clinic_id, lot_id, bucket, product_id, quantity) "
                 "VALUES ('CA', 'L1', ?, 'P', 5), ('CA', 'L2', ?, 'P', 0)",
                 {static_cast<int64_t>(v1::STOCK_BUCKET_AVAILABLE),
                  static_cast<int64_t>(v1::STOCK_BUCKET_AVAILABLE)}));
    return absl::OkStatus();
  }));
  ASSERT_OK(ApplyMigrations(*db, InventoryMigrations(), now));
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     txn.Query("SELECT id, key_line, balance_after FROM ledger ORDER BY id", {}));
    std::vector<std::tuple<std::string, int64_t, int64_t>> got;
    for (const Row& row : rows) got.emplace_back(row.Text(0), row.Int(1), row.Int(2));
    EXPECT_EQ(got,
              (std::vector<std::tuple<std::string, int64_t, int64_t>>{
                  {"01A", 1, 10}, {"01B", 1, 4}, {"01C", 2, 7}, {"01D", 3, 5}, {"01E", 2, 0}}));
    return absl::OkStatus();
  }));
  InventoryStore store;
  EntryMeta meta;
  meta.kind = v1::LEDGER_ENTRY_KIND_ADJUST;
  meta.local_day = absl::CivilDay(2027, 1, 15);
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(
        auto entries,
        store.ApplyMoves(txn, {{{{"CA", "L1", v1::STOCK_BUCKET_AVAILABLE}, -1}, "P", {}}}, meta,
                         now));
    EXPECT_EQ(entries.at(0).balance_after(), 4);
    return absl::OkStatus();
  }));
}

// Migration 4 puts existing serials in canonical form, except those that would collide within a
// product: they keep their spelling and are listed for staff, never merged.
TEST(InventoryMigrationTest, SerialsAreCanonicalisedAndCollisionsReported) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, DatabaseWithMigrations(3, now));
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (const char* serial : {"udi-0001", "UDI-0001", "abc-7", "Zed"}) {
      RETURN_IF_ERROR(
          txn.Exec("INSERT INTO serial_units (serial, product_id, lot_id, clinic_id, state, "
                   "appointment_id, issue_time, disposal_reason, disposal_witness) "
                   "VALUES (?, 'P', 'L', 'CA', 1, '', 0, '', '')",
                   {std::string(serial)}));
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(ApplyMigrations(*db, InventoryMigrations(), now));
  InventoryStore store;
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto collisions, store.SerialCollisions(txn));
    EXPECT_EQ(collisions, (std::vector<std::pair<std::string, std::string>>{{"P", "UDI-0001"},
                                                                            {"P", "udi-0001"}}));
    ASSIGN_OR_RETURN(auto abc, store.FindUnits(txn, "ABC-7", ""));
    EXPECT_EQ(abc.size(), 1u);
    ASSIGN_OR_RETURN(auto zed, store.FindUnits(txn, "ZED", "P"));
    EXPECT_EQ(zed.size(), 1u);
    ASSIGN_OR_RETURN(auto kept, store.FindUnits(txn, "udi-0001", "P"));
    EXPECT_EQ(kept.size(), 1u);  // kept as it was, not merged into UDI-0001
    ASSIGN_OR_RETURN(auto old_spelling, store.FindUnits(txn, "abc-7", ""));
    EXPECT_TRUE(old_spelling.empty());
    return absl::OkStatus();
  }));
}

// Bottle uses are merged with the lot's issue lines per procedure, oldest first; quarantining a
// lot's bottles touches only its open ones; a stale state update is ABORTED.
TEST_F(InventoryStoreTest, BottleUsesAppearInLotUsesAndRecallQuarantinesOpenBottles) {
  v1::PigmentBottle open;
  open.set_id("B1");
  open.set_clinic_id("CA");
  open.set_product_id("P");
  open.set_lot_id("L");
  open.set_state(v1::BOTTLE_STATE_OPEN);
  *open.mutable_use_by_date() = ToLocalDate(absl::CivilDay(2027, 2, 1));
  v1::PigmentBottle finished = open;
  finished.set_id("B2");
  finished.set_state(v1::BOTTLE_STATE_FINISHED);
  EntryMeta meta;
  meta.kind = v1::LEDGER_ENTRY_KIND_ISSUE;
  meta.local_day = absl::CivilDay(2027, 1, 15);
  EntryMeta receive;
  receive.kind = v1::LEDGER_ENTRY_KIND_RECEIVE;
  receive.local_day = meta.local_day;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(store_.InsertBottle(txn, open));
    RETURN_IF_ERROR(store_.InsertBottle(txn, finished));
    meta.appointment_id = "A1";
    meta.patient_id = "P1";
    RETURN_IF_ERROR(store_.RecordBottleUse(txn, open, meta, now_));
    meta.appointment_id = "A2";
    meta.patient_id = "";
    RETURN_IF_ERROR(store_
                        .ApplyMoves(txn, {{{{"CA", "L", v1::STOCK_BUCKET_AVAILABLE}, 5}, "P", {}}},
                                    receive, now_)
                        .status());
    RETURN_IF_ERROR(store_
                        .ApplyMoves(txn, {{{{"CA", "L", v1::STOCK_BUCKET_AVAILABLE}, -2}, "P", {}}},
                                    meta, now_ + absl::Seconds(1))
                        .status());
    meta.appointment_id = "A1";
    return store_.RecordBottleUse(txn, open, meta, now_ + absl::Seconds(2));
  }));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto uses, store_.LotUses(txn, "L"));
    EXPECT_EQ(uses.size(), 2u);
    if (uses.size() != 2u) return absl::OkStatus();
    EXPECT_EQ(uses[0].appointment_id(), "A1");
    EXPECT_EQ(uses[0].patient_id(), "P1");
    EXPECT_EQ(uses[0].quantity(), 0);
    EXPECT_EQ(uses[0].bottle_ids_size(), 2);
    EXPECT_EQ(uses[1].appointment_id(), "A2");
    EXPECT_EQ(uses[1].quantity(), 2);
    EXPECT_EQ(uses[1].bottle_ids_size(), 0);

    ASSIGN_OR_RETURN(int64_t quarantined, store_.QuarantineBottlesOfLot(txn, "L"));
    EXPECT_EQ(quarantined, 1);
    ASSIGN_OR_RETURN(v1::PigmentBottle b1, store_.GetBottle(txn, "B1"));
    EXPECT_EQ(b1.state(), v1::BOTTLE_STATE_QUARANTINED);
    ASSIGN_OR_RETURN(v1::PigmentBottle b2, store_.GetBottle(txn, "B2"));
    EXPECT_EQ(b2.state(), v1::BOTTLE_STATE_FINISHED);
    ASSIGN_OR_RETURN(Page<v1::PigmentBottle> unclosed,
                     store_.UnclosedBottles(txn, "CA", PageRequest{}));
    EXPECT_EQ(unclosed.items.size(), 1u);
    b1.set_state(v1::BOTTLE_STATE_DISCARDED);
    EXPECT_THAT(store_.UpdateBottle(txn, b1, v1::BOTTLE_STATE_OPEN),
                smp::testing::StatusIs(absl::StatusCode::kAborted));
    EXPECT_THAT(store_.GetBottle(txn, "B9").status(),
                smp::testing::StatusIs(absl::StatusCode::kNotFound));
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace smp::inventory
