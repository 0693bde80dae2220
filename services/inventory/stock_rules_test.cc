#include "services/inventory/stock_rules.h"

#include <random>

#include "absl/time/civil_time.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

TEST(ApplyDeltaTest, RefusesNegativeAndZero) {
  ASSERT_OK_AND_ASSIGN(int64_t after, ApplyDelta(3, -2, "lot L"));
  EXPECT_EQ(after, 1);
  EXPECT_THAT(ApplyDelta(3, -4, "lot L").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not enough stock")));
  EXPECT_THAT(ApplyDelta(3, 0, "lot L").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Long random sequences of movements (receipts, issues, two-step transfers, quarantines,
// discards, adjustments, many of them too large) never drive a balance negative; every balance
// equals the sum of its ledger legs; a refused movement changes nothing; and the chain-wide total
// equals receipts minus what left the chain, so transit stock is counted exactly once.
TEST(StockBookPropertyTest, RandomSequencesNeverGoNegativeAndMatchTheLedger) {
  const std::vector<std::string> clinics = {"A", "B", "C"};
  const std::vector<std::string> lots = {"L1", "L2", "L3"};
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](const std::vector<std::string>& v) {
      return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
    };
    auto qty = [&] { return std::uniform_int_distribution<int64_t>(1, 12)(rng); };
    StockBook book;
    int64_t entered = 0, left = 0, refused = 0;
    for (int step = 0; step < 3000; ++step) {
      const std::string clinic = pick(clinics), lot = pick(lots);
      const StockKey avail{clinic, lot, v1::STOCK_BUCKET_AVAILABLE};
      const int64_t q = qty();
      std::vector<Leg> legs;
      int64_t in = 0, out = 0;
      switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
        case 0:  // receive
          legs = {{avail, q}};
          in = q;
          break;
        case 1:  // issue to a procedure
          legs = {{avail, -q}};
          out = q;
          break;
        case 2: {  // ship to another clinic: in transit there
          std::string to = pick(clinics);
          if (to == clinic) to = clinic == "A" ? "B" : "A";
          legs = {{avail, -q}, {{to, lot, v1::STOCK_BUCKET_IN_TRANSIT}, q}};
          break;
        }
        case 3:  // receive a transfer
          legs = {{{clinic, lot, v1::STOCK_BUCKET_IN_TRANSIT}, -q}, {avail, q}};
          break;
        case 4:  // quarantine for a recall
          legs = {{avail, -q}, {{clinic, lot, v1::STOCK_BUCKET_QUARANTINED}, q}};
          break;
        case 5:  // discard quarantined
          legs = {{{clinic, lot, v1::STOCK_BUCKET_QUARANTINED}, -q}};
          out = q;
          break;
        default:  // adjust either way
          if (rng() % 2) {
            legs = {{avail, q}};
            in = q;
          } else {
            legs = {{avail, -q}};
            out = q;
          }
      }
      const auto before = book.balances();
      const size_t entries_before = book.entries().size();
      absl::Status s = book.Apply(legs);
      if (s.ok()) {
        entered += in;
        left += out;
      } else {
        ++refused;
        ASSERT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
        ASSERT_EQ(book.balances(), before);
        ASSERT_EQ(book.entries().size(), entries_before);
      }
      int64_t total = 0;
      const bool recount = step % 100 == 0 || step == 2999;  // LedgerSum rescans every entry
      for (const auto& [key, balance] : book.balances()) {
        ASSERT_GE(balance, 0) << key.clinic_id << " " << key.lot_id;
        if (recount) {
          ASSERT_EQ(balance, book.LedgerSum(key)) << "seed " << seed << " step " << step;
        }
        total += balance;
      }
      ASSERT_EQ(total, entered - left) << "seed " << seed << " step " << step;
    }
    EXPECT_GT(refused, 0);  // the sequences did try to oversell
  }
}

TEST(StockBookTest, TransitIsCountedOnce) {
  StockBook book;
  const StockKey a{"A", "L", v1::STOCK_BUCKET_AVAILABLE};
  const StockKey b_transit{"B", "L", v1::STOCK_BUCKET_IN_TRANSIT};
  const StockKey b{"B", "L", v1::STOCK_BUCKET_AVAILABLE};
  ASSERT_OK(book.Apply({{a, 10}}));
  ASSERT_OK(book.Apply({{a, -4}, {b_transit, 4}}));
  EXPECT_EQ(book.Balance(a) + book.Balance(b_transit) + book.Balance(b), 10);
  ASSERT_OK(book.Apply({{b_transit, -4}, {b, 4}}));
  EXPECT_EQ(book.Balance(a) + book.Balance(b_transit) + book.Balance(b), 10);
  EXPECT_EQ(book.Balance(b_transit), 0);
  // A second receipt of the same shipment cannot happen: nothing is left in transit.
  EXPECT_THAT(book.Apply({{b_transit, -4}, {b, 4}}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// "Expires within 1 day" counts the clinic's local days: at 2026-01-15 11:30 UTC it is already
// 16 January 00:30 in Auckland, so a lot expiring on the 17th is within a day there (a UTC day
// would stop at the 16th) and not in London (still the 15th).
TEST(ExpiryTest, WithinDaysCountsTheClinicsLocalDays) {
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 1, 15, 11, 30, 0), absl::UTCTimeZone());
  const absl::CivilDay expiry(2026, 1, 17);
  EXPECT_TRUE(ExpiresWithin(expiry, now, Zone("Pacific/Auckland"), 1));
  EXPECT_FALSE(ExpiresWithin(expiry, now, Zone("Europe/London"), 1));
  EXPECT_TRUE(ExpiresWithin(expiry, now, Zone("Europe/London"), 2));
  EXPECT_FALSE(ExpiresWithin(expiry, now, Zone("Pacific/Auckland"), 0));
  // Already expired lots are within any window.
  EXPECT_TRUE(ExpiresWithin(absl::CivilDay(2026, 1, 1), now, Zone("Europe/London"), 0));
}

// A lot expiring 2026-03-10 is usable through that day in each clinic's own calendar.
// 2026-03-11 03:30 UTC is still 10 March in New York (23:30 EDT) but already 11 March in London.
// 2026-03-10 23:30 UTC is already 11 March in Tokyo but 10 March in London.
TEST(ExpiryTest, BoundaryDayInTwoTimeZones) {
  const absl::CivilDay expiry(2026, 3, 10);
  const absl::TimeZone new_york = Zone("America/New_York");
  const absl::TimeZone london = Zone("Europe/London");
  const absl::TimeZone tokyo = Zone("Asia/Tokyo");
  const absl::Time late_utc =
      absl::FromCivil(absl::CivilSecond(2026, 3, 11, 3, 30, 0), absl::UTCTimeZone());
  EXPECT_FALSE(IsExpiredAt(expiry, late_utc, new_york));
  EXPECT_TRUE(IsExpiredAt(expiry, late_utc, london));
  const absl::Time evening_utc =
      absl::FromCivil(absl::CivilSecond(2026, 3, 10, 23, 30, 0), absl::UTCTimeZone());
  EXPECT_FALSE(IsExpiredAt(expiry, evening_utc, london));
  EXPECT_TRUE(IsExpiredAt(expiry, evening_utc, tokyo));
  // The last second of the expiry day and the first of the next, in New York.
  EXPECT_FALSE(IsExpiredAt(
      expiry, absl::FromCivil(absl::CivilSecond(2026, 3, 10, 23, 59, 59), new_york), new_york));
  EXPECT_TRUE(IsExpiredAt(
      expiry, absl::FromCivil(absl::CivilSecond(2026, 3, 11, 0, 0, 0), new_york), new_york));

  LotView lot{"01LOT", "P-77", expiry, v1::LOT_STATUS_ACTIVE, false};
  EXPECT_OK(CheckLotIssuable(lot, LocalDay(late_utc, new_york)));
  EXPECT_THAT(CheckLotIssuable(lot, LocalDay(late_utc, london)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired on 2026-03-10")));
  lot.status = v1::LOT_STATUS_RECALLED;
  EXPECT_THAT(CheckLotIssuable(lot, LocalDay(late_utc, new_york)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("recalled")));
  EXPECT_EQ(ErrorReason(CheckLotIssuable(lot, LocalDay(late_utc, new_york))), reason::kRecalled);
}

LotCandidate Candidate(const std::string& id, absl::CivilDay expiry, int64_t available,
                       v1::LotStatus status = v1::LOT_STATUS_ACTIVE) {
  return LotCandidate{LotView{id, id, expiry, status, false}, available};
}

TEST(SuggestFefoTest, FirstExpiryFirstOutNeverBeforeTheProcedure) {
  const absl::CivilDay today(2026, 5, 1);
  const absl::CivilDay procedure(2026, 5, 20);
  std::vector<LotCandidate> lots = {
      Candidate("late", absl::CivilDay(2027, 1, 1), 10),
      Candidate("before-procedure", absl::CivilDay(2026, 5, 19), 10),
      Candidate("on-procedure-day", absl::CivilDay(2026, 5, 20), 2),
      Candidate("expired", absl::CivilDay(2026, 4, 30), 10),
      Candidate("recalled", absl::CivilDay(2026, 6, 1), 10, v1::LOT_STATUS_RECALLED),
      Candidate("empty", absl::CivilDay(2026, 6, 1), 0),
      Candidate("middle", absl::CivilDay(2026, 8, 1), 3),
  };
  std::vector<Draw> draws = SuggestFefo(lots, today, procedure, 7);
  ASSERT_EQ(draws.size(), 3u);
  EXPECT_EQ(draws[0].lot_id, "on-procedure-day");
  EXPECT_EQ(draws[0].quantity, 2);
  EXPECT_EQ(draws[1].lot_id, "middle");
  EXPECT_EQ(draws[1].quantity, 3);
  EXPECT_EQ(draws[2].lot_id, "late");
  EXPECT_EQ(draws[2].quantity, 2);
  // Short stock: covers what it can.
  draws = SuggestFefo(lots, today, procedure, 100);
  int64_t covered = 0;
  for (const Draw& d : draws) covered += d.quantity;
  EXPECT_EQ(covered, 15);
}

TEST(BottleUseByTest, ShorterOfLotExpiryAndOpenedShelfLife) {
  const absl::CivilDay opened(2026, 3, 1);
  // Shelf life ends first.
  EXPECT_EQ(BottleUseBy(absl::CivilDay(2027, 1, 31), opened, 30), absl::CivilDay(2026, 3, 31));
  // The lot expires first.
  EXPECT_EQ(BottleUseBy(absl::CivilDay(2026, 3, 10), opened, 30), absl::CivilDay(2026, 3, 10));
  // Both on the same day.
  EXPECT_EQ(BottleUseBy(absl::CivilDay(2026, 3, 31), opened, 30), absl::CivilDay(2026, 3, 31));
  // No opened shelf life: the lot's expiry.
  EXPECT_EQ(BottleUseBy(absl::CivilDay(2027, 1, 31), opened, 0), absl::CivilDay(2027, 1, 31));
}

// The opening day is the clinic's local day: the same instant opens a bottle on different days in
// Sydney and Los Angeles, and each is usable through its use-by day and not the day after.
TEST(BottleUseByTest, ClinicTimeZoneAndBoundaryDay) {
  const absl::Time opened = absl::FromCivil(absl::CivilSecond(2026, 3, 1, 20, 0, 0),
                                            absl::UTCTimeZone());  // Mar 2 07:00 in Sydney
  const absl::CivilDay sydney = LocalDay(opened, Zone("Australia/Sydney"));
  const absl::CivilDay los_angeles = LocalDay(opened, Zone("America/Los_Angeles"));
  EXPECT_EQ(sydney, absl::CivilDay(2026, 3, 2));
  EXPECT_EQ(los_angeles, absl::CivilDay(2026, 3, 1));
  const absl::CivilDay expiry(2027, 1, 1);
  EXPECT_EQ(BottleUseBy(expiry, sydney, 7), absl::CivilDay(2026, 3, 9));
  EXPECT_EQ(BottleUseBy(expiry, los_angeles, 7), absl::CivilDay(2026, 3, 8));

  BottleView b{"b1", "A", v1::BOTTLE_STATE_OPEN, BottleUseBy(expiry, sydney, 7)};
  EXPECT_OK(CheckBottleIssuable(b, "A", absl::CivilDay(2026, 3, 9)));  // boundary day: usable
  EXPECT_THAT(CheckBottleIssuable(b, "A", absl::CivilDay(2026, 3, 10)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("use-by date 2026-03-09")));
}

TEST(BottleTest, RefusesClosedQuarantinedAndOtherClinic) {
  const absl::CivilDay day(2026, 3, 1);
  BottleView b{"b1", "A", v1::BOTTLE_STATE_OPEN, day};
  EXPECT_OK(CheckBottleIssuable(b, "A", day));
  EXPECT_THAT(CheckBottleIssuable(b, "B", day),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("held at clinic A")));
  b.state = v1::BOTTLE_STATE_FINISHED;
  EXPECT_THAT(CheckBottleIssuable(b, "A", day),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("finished")));
  b.state = v1::BOTTLE_STATE_DISCARDED;
  EXPECT_THAT(CheckBottleIssuable(b, "A", day),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("discarded")));
  b.state = v1::BOTTLE_STATE_QUARANTINED;
  EXPECT_THAT(CheckBottleIssuable(b, "A", day),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("recalled")));

  EXPECT_OK(CheckBottleTransition("b1", v1::BOTTLE_STATE_OPEN, v1::BOTTLE_STATE_FINISHED));
  EXPECT_OK(CheckBottleTransition("b1", v1::BOTTLE_STATE_OPEN, v1::BOTTLE_STATE_QUARANTINED));
  EXPECT_OK(CheckBottleTransition("b1", v1::BOTTLE_STATE_QUARANTINED, v1::BOTTLE_STATE_DISCARDED));
  EXPECT_THAT(CheckBottleTransition("b1", v1::BOTTLE_STATE_QUARANTINED, v1::BOTTLE_STATE_FINISHED),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckBottleTransition("b1", v1::BOTTLE_STATE_FINISHED, v1::BOTTLE_STATE_OPEN),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckBottleTransition("b1", v1::BOTTLE_STATE_DISCARDED, v1::BOTTLE_STATE_DISCARDED),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(UnitStateTest, NoTransitionGoesBack) {
  EXPECT_OK(CheckUnitTransition("S1", v1::UNIT_STATE_IN_STOCK, v1::UNIT_STATE_ISSUED));
  EXPECT_OK(CheckUnitTransition("S1", v1::UNIT_STATE_ISSUED, v1::UNIT_STATE_DISPOSED_SHARPS));
  EXPECT_OK(CheckUnitTransition("S1", v1::UNIT_STATE_IN_STOCK, v1::UNIT_STATE_QUARANTINED));
  EXPECT_OK(CheckUnitTransition("S1", v1::UNIT_STATE_QUARANTINED, v1::UNIT_STATE_DESTROYED));
  EXPECT_THAT(CheckUnitTransition("S1", v1::UNIT_STATE_ISSUED, v1::UNIT_STATE_ISSUED),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("single use")));
  for (v1::UnitState from : {v1::UNIT_STATE_ISSUED, v1::UNIT_STATE_DISPOSED_SHARPS,
                             v1::UNIT_STATE_QUARANTINED, v1::UNIT_STATE_DESTROYED}) {
    EXPECT_THAT(CheckUnitTransition("S1", from, v1::UNIT_STATE_IN_STOCK),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_THAT(CheckUnitTransition("S1", v1::UNIT_STATE_DISPOSED_SHARPS, v1::UNIT_STATE_ISSUED),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

v1::Product Needle() {
  v1::Product p;
  p.set_name("3RL 0.30 cartridge");
  p.set_unit(v1::UNIT_OF_MEASURE_EACH);
  p.set_single_use(true);
  p.mutable_needle_cartridge()->set_configuration("3RL");
  p.mutable_needle_cartridge()->set_needle_diameter_um(300);
  return p;
}

TEST(ValidateProductTest, ChecksEachKind) {
  EXPECT_OK(ValidateProduct(Needle()));
  EXPECT_EQ(KindOf(Needle()), v1::PRODUCT_KIND_NEEDLE_CARTRIDGE);
  v1::Product p = Needle();
  p.set_single_use(false);
  EXPECT_THAT(ValidateProduct(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product.single_use")));
  p = Needle();
  p.mutable_needle_cartridge()->set_configuration("3rl");
  EXPECT_THAT(ValidateProduct(p), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("needle_cartridge.configuration")));
  p = Needle();
  p.mutable_needle_cartridge()->set_needle_diameter_um(20);
  EXPECT_THAT(ValidateProduct(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needle_diameter_um")));
  v1::Product pigment;
  pigment.set_name("Espresso");
  pigment.set_unit(v1::UNIT_OF_MEASURE_BOTTLE);
  pigment.mutable_pigment()->set_brand("Acme");
  pigment.mutable_pigment()->set_shade("Dark Espresso");
  pigment.mutable_pigment()->set_opened_shelf_life_days(365);
  EXPECT_OK(ValidateProduct(pigment));
  pigment.mutable_pigment()->set_shade("");
  EXPECT_THAT(ValidateProduct(pigment),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pigment.shade")));
  v1::Product none;
  none.set_name("x");
  none.set_unit(v1::UNIT_OF_MEASURE_EACH);
  EXPECT_THAT(ValidateProduct(none),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product.spec")));
}

TEST(ValidateSerialsTest, RefusesDuplicatesOversizeAndBadCharacters) {
  google::protobuf::RepeatedPtrField<std::string> serials;
  EXPECT_OK(ValidateSerials("serials", serials, true));
  EXPECT_THAT(ValidateSerials("serials", serials, false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  *serials.Add() = "(01)0888(21)A1";
  *serials.Add() = "(01)0888(21)A1";
  EXPECT_THAT(ValidateSerials("serials", serials, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serials[1]")));
  serials.Clear();
  *serials.Add() = "bad serial";
  EXPECT_THAT(ValidateSerials("serials", serials, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serials[0]")));
  serials.Clear();
  for (int i = 0; i <= kMaxSerials; ++i) *serials.Add() = "S" + std::to_string(i);
  EXPECT_THAT(ValidateSerials("serials", serials, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most")));
}

}  // namespace
}  // namespace smp::inventory
