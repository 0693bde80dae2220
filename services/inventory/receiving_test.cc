#include "services/inventory/receiving.h"

#include "services/inventory/inventory_test_env.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class ReceivingTest : public InventoryUnitTest {
 protected:
  Receiving receiving() { return Receiving(db_.get()); }
};

TEST_F(ReceivingTest, ReceivingCreatesTheLotAndBooksTheStockOnce) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  v1::ReceiveStockRequest req =
      Receipt(clinic_a_, needle.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"});
  const Call call = Staff(clinic_a_, "ReceiveStock");
  ASSERT_OK_AND_ASSIGN(v1::ReceiveStockResponse first, receiving().Receive(call, req));
  EXPECT_TRUE(first.lot().serialised());
  EXPECT_EQ(first.stock().available(), 2);
  EXPECT_EQ(first.entry().kind(), v1::LEDGER_ENTRY_KIND_RECEIVE);
  // A retry answers the first response and books nothing more.
  ASSERT_OK_AND_ASSIGN(v1::ReceiveStockResponse replay, receiving().Receive(call, req));
  EXPECT_EQ(replay.entry().id(), first.entry().id());
  EXPECT_EQ(replay.stock().available(), 2);
  // A second receipt of the same lot adds to it.
  ASSERT_OK_AND_ASSIGN(v1::ReceiveStockResponse more,
                       receiving().Receive(call, Receipt(clinic_a_, needle.id(), "N-1", 1,
                                                         absl::CivilDay(2028, 1, 31), {"SN-3"})));
  EXPECT_EQ(more.lot().id(), first.lot().id());
  EXPECT_EQ(more.stock().available(), 3);
}

TEST_F(ReceivingTest, ReceiptsAreValidated) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  const Call call = Staff(clinic_a_, "ReceiveStock");
  v1::ReceiveStockRequest req =
      Receipt(clinic_a_, needle.id(), "N-1", 3, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"});
  EXPECT_THAT(receiving().Receive(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quantity")));
  req = Receipt(clinic_a_, needle.id(), "N-1", 1, absl::CivilDay(2027, 3, 9));
  EXPECT_THAT(receiving().Receive(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expiry_date")));
  req = Receipt(clinic_a_, needle.id(), "N-1", 1);
  req.mutable_expiry_date()->set_month(13);
  EXPECT_THAT(receiving().Receive(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expiry_date")));
  req = Receipt(clinic_a_, NewId(), "N-1", 1);
  EXPECT_THAT(receiving().Receive(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product_id")));
  const v1::Product gloves = CreateProduct(ConsumableSpec());
  req = Receipt(clinic_a_, gloves.id(), "G-1", 1, absl::CivilDay(2028, 1, 31), {"SN-9"});
  EXPECT_THAT(receiving().Receive(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serials")));
}

TEST_F(ReceivingTest, AnotherClinicsCallerIsRefused) {
  const v1::Product gloves = CreateProduct(ConsumableSpec());
  const absl::Status s =
      receiving()
          .Receive(Staff(clinic_b_, "ReceiveStock"), Receipt(clinic_a_, gloves.id(), "G-1", 5))
          .status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
}

TEST_F(ReceivingTest, AKnownLotMustBeReceivedAsFirstRecorded) {
  const v1::Product gloves = CreateProduct(ConsumableSpec());
  Receive(Receipt(clinic_a_, gloves.id(), "G-1", 5));
  EXPECT_THAT(receiving()
                  .Receive(Staff(clinic_a_, "ReceiveStock"),
                           Receipt(clinic_a_, gloves.id(), "G-1", 5, absl::CivilDay(2028, 2, 1)))
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expiry")));
}

TEST_F(ReceivingTest, AdjustCorrectsAQuantityLotAndNeverGoesNegative) {
  const v1::Product gloves = CreateProduct(ConsumableSpec());
  const v1::Lot lot = Receive(Receipt(clinic_a_, gloves.id(), "G-1", 5));
  v1::AdjustStockRequest req;
  req.set_request_id(NewId());
  req.set_clinic_id(clinic_a_);
  req.set_lot_id(lot.id());
  req.set_quantity_delta(-2);
  req.set_reason("count");
  const Call call = Staff(clinic_a_, "AdjustStock");
  ASSERT_OK_AND_ASSIGN(v1::LedgerEntry entry, receiving().Adjust(call, req));
  EXPECT_EQ(entry.kind(), v1::LEDGER_ENTRY_KIND_ADJUST);
  ASSERT_OK_AND_ASSIGN(v1::LedgerEntry replay, receiving().Adjust(call, req));
  EXPECT_EQ(replay.id(), entry.id());
  req.set_request_id(NewId());
  req.set_quantity_delta(-4);  // only 3 left
  EXPECT_THAT(receiving().Adjust(call, req).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  req.set_quantity_delta(0);
  EXPECT_THAT(receiving().Adjust(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quantity_delta")));
  req.set_quantity_delta(1);
  EXPECT_EQ(ErrorReason(receiving().Adjust(Staff(clinic_b_, "AdjustStock"), req).status()),
            reason::kOutsideClinicScope);
}

TEST_F(ReceivingTest, DiscardTakesUnitsOutWithAWitness) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  Receive(Receipt(clinic_a_, needle.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"}));
  v1::DiscardStockRequest req;
  req.set_request_id(NewId());
  req.set_clinic_id(clinic_a_);
  req.mutable_units()->add_serials("SN-1");
  req.set_reason("dropped");
  const Call call = Staff(clinic_a_, "DiscardStock");
  EXPECT_THAT(receiving().Discard(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("witness")));
  req.set_witness("A. Witness");
  ASSERT_OK_AND_ASSIGN(v1::DiscardStockResponse out, receiving().Discard(call, req));
  ASSERT_EQ(out.units_size(), 1);
  EXPECT_EQ(out.units(0).state(), v1::UNIT_STATE_DESTROYED);
  ASSERT_EQ(out.entries_size(), 1);
  EXPECT_EQ(out.entries(0).kind(), v1::LEDGER_ENTRY_KIND_DISCARD);
  // Destroyed already: a second discard under a new request_id is refused.
  req.set_request_id(NewId());
  EXPECT_THAT(receiving().Discard(call, req).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace smp::inventory
