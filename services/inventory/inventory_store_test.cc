#include "services/inventory/inventory_store.h"

#include <random>

#include "common/db/migrations.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "services/inventory/inventory_migrations.h"

namespace smp::inventory {
namespace {

class InventoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        db_, OpenSqliteDatabase(::testing::TempDir() + "/inventory_store_" + NewId() + ".sqlite"));
    ASSERT_OK(ApplyMigrations(*db_, InventoryMigrations(), now_));
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
    return absl::OkStatus();
  }));
}

TEST_F(InventoryStoreTest, DuplicateSerialIsRefusedChainWide) {
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
}

}  // namespace
}  // namespace smp::inventory
