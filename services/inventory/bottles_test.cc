#include "services/inventory/bottles.h"

#include "services/inventory/inventory_test_env.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class BottlesTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    pigment_ = CreateProduct(PigmentSpec(/*shelf_life_days=*/30));
    lot_ = Receive(Receipt(clinic_a_, pigment_.id(), "P-1", 1, absl::CivilDay(2027, 12, 31)));
  }
  Bottles bottles() { return Bottles(db_.get()); }
  v1::OpenBottleRequest Open(const std::string& lot_id) const {
    v1::OpenBottleRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic_a_);
    req.set_lot_id(lot_id);
    return req;
  }

  v1::Product pigment_;
  v1::Lot lot_;
};

TEST_F(BottlesTest, OpeningTakesAUnitAndSetsTheUseByDate) {
  const v1::OpenBottleRequest req = Open(lot_.id());
  const Call call = Technician(clinic_a_, "OpenBottle");
  ASSERT_OK_AND_ASSIGN(v1::OpenBottleResponse out, bottles().Open(call, req));
  EXPECT_EQ(out.bottle().state(), v1::BOTTLE_STATE_OPEN);
  EXPECT_EQ(FromLocalDate(out.bottle().use_by_date()), absl::CivilDay(2027, 4, 9));  // +30 days
  EXPECT_EQ(out.entry().kind(), v1::LEDGER_ENTRY_KIND_OPEN_BOTTLE);
  ASSERT_OK_AND_ASSIGN(v1::OpenBottleResponse replay, bottles().Open(call, req));
  EXPECT_EQ(replay.bottle().id(), out.bottle().id());
  // The only unit is open: a second bottle is refused.
  EXPECT_THAT(bottles().Open(call, Open(lot_.id())).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not enough stock")));

  v1::ListOpenBottlesRequest list;
  list.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ListOpenBottlesResponse open,
                       bottles().ListUnclosed(Technician(clinic_a_, "ListOpenBottles"), list));
  ASSERT_EQ(open.bottles_size(), 1);
  EXPECT_FALSE(open.bottles(0).expired());
  // Past its use-by date the bottle shows expired.
  const Call later =
      smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic_a_}),
                           now_ + absl::Hours(24 * 31), "ListOpenBottles");
  ASSERT_OK_AND_ASSIGN(open, bottles().ListUnclosed(later, list));
  EXPECT_TRUE(open.bottles(0).expired());
}

TEST_F(BottlesTest, UnclosedBottlesPage) {
  const v1::Lot second_lot = Receive(Receipt(clinic_a_, pigment_.id(), "P-2", 1));
  const Call call = Technician(clinic_a_, "OpenBottle");
  ASSERT_OK(bottles().Open(call, Open(lot_.id())).status());
  ASSERT_OK(bottles().Open(call, Open(second_lot.id())).status());
  v1::ListOpenBottlesRequest list;
  list.set_clinic_id(clinic_a_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListOpenBottlesResponse first,
                       bottles().ListUnclosed(Technician(clinic_a_, "ListOpenBottles"), list));
  ASSERT_EQ(first.bottles_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  list.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListOpenBottlesResponse second,
                       bottles().ListUnclosed(Technician(clinic_a_, "ListOpenBottles"), list));
  ASSERT_EQ(second.bottles_size(), 1);
  EXPECT_GT(second.bottles(0).id(), first.bottles(0).id());
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_EQ(
      ErrorReason(bottles().ListUnclosed(Technician(clinic_b_, "ListOpenBottles"), list).status()),
      reason::kOutsideClinicScope);
}

TEST_F(BottlesTest, OnlyPigmentsOpenAndOnlyInScope) {
  const v1::Product gloves = CreateProduct(ConsumableSpec());
  const v1::Lot gloves_lot = Receive(Receipt(clinic_a_, gloves.id(), "G-1", 3));
  EXPECT_THAT(bottles().Open(Technician(clinic_a_, "OpenBottle"), Open(gloves_lot.id())).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lot_id")));
  const absl::Status s =
      bottles().Open(Technician(clinic_b_, "OpenBottle"), Open(lot_.id())).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
}

TEST_F(BottlesTest, AnExpiredLotIsNotOpened) {
  const Call later = smp::testing::CallAs(
      smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic_a_}),
      absl::FromCivil(absl::CivilSecond(2028, 1, 2, 12, 0, 0), absl::UTCTimeZone()), "OpenBottle");
  const absl::Status s = bottles().Open(later, Open(lot_.id())).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(s), reason::kExpired);
}

TEST_F(BottlesTest, ClosingIsOnceAndInScope) {
  ASSERT_OK_AND_ASSIGN(v1::OpenBottleResponse open,
                       bottles().Open(Technician(clinic_a_, "OpenBottle"), Open(lot_.id())));
  v1::CloseBottleRequest close;
  close.set_request_id(NewId());
  close.set_bottle_id(open.bottle().id());
  close.set_state(v1::BOTTLE_STATE_OPEN);
  const Call call = Technician(clinic_a_, "CloseBottle");
  EXPECT_THAT(bottles().Close(call, close).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("state")));
  close.set_state(v1::BOTTLE_STATE_FINISHED);
  EXPECT_EQ(ErrorReason(bottles().Close(Technician(clinic_b_, "CloseBottle"), close).status()),
            reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(v1::PigmentBottle closed, bottles().Close(call, close));
  EXPECT_EQ(closed.state(), v1::BOTTLE_STATE_FINISHED);
  ASSERT_OK_AND_ASSIGN(v1::PigmentBottle replay, bottles().Close(call, close));
  EXPECT_EQ(replay.state(), v1::BOTTLE_STATE_FINISHED);
  close.set_request_id(NewId());
  close.set_state(v1::BOTTLE_STATE_DISCARDED);
  EXPECT_THAT(bottles().Close(call, close).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("finished")));
}

}  // namespace
}  // namespace smp::inventory
