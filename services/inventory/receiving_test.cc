#include "services/inventory/receiving.h"

#include "services/inventory/inventory_test_env.h"
#include "services/inventory/stock_queries.h"

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

// Issue 14 item 9: serials are canonical (trimmed, upper case), unique per product, and needle
// cartridges cannot be received without them.
TEST_F(ReceivingTest, NeedleSerialsAreRequiredCanonicalAndUniquePerProduct) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  const Call call = Staff(clinic_a_, "ReceiveStock");
  const absl::Status bare =
      receiving().Receive(call, Receipt(clinic_a_, needle.id(), "N-1", 5)).status();
  EXPECT_THAT(bare, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serials")));
  // The same serial spelt twice in one receipt.
  EXPECT_THAT(receiving()
                  .Receive(call, Receipt(clinic_a_, needle.id(), "N-1", 2,
                                         absl::CivilDay(2028, 1, 31), {"sn-1", " SN-1"}))
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));

  ASSERT_OK_AND_ASSIGN(
      v1::ReceiveStockResponse got,
      receiving().Receive(call, Receipt(clinic_a_, needle.id(), "N-1", 1,
                                        absl::CivilDay(2028, 1, 31), {"  udi-0001 "})));
  EXPECT_EQ(got.entry().serials(0), "UDI-0001");
  // Another spelling of a known serial of this product is the same unit: refused.
  EXPECT_THAT(receiving()
                  .Receive(call, Receipt(clinic_a_, needle.id(), "N-1", 1,
                                         absl::CivilDay(2028, 1, 31), {"Udi-0001"}))
                  .status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("UDI-0001")));
  // Another maker's cartridge with the same serial is another unit.
  v1::Product other_spec = NeedleSpec();
  other_spec.set_name("1RL 0.18");
  other_spec.set_device_identifier(" 00812345678901 ");
  const v1::Product other = CreateProduct(other_spec);
  EXPECT_EQ(other.device_identifier(), "00812345678901");
  ASSERT_OK(receiving()
                .Receive(call, Receipt(clinic_a_, other.id(), "M-1", 1, absl::CivilDay(2028, 1, 31),
                                       {"UDI-0001"}))
                .status());

  // Look-ups put the serial in the same form; a serial two products share needs the product.
  StockQueries queries(db_.get(), &appointments_);
  v1::GetSerialUnitRequest get;
  get.set_serial("udi-0001");
  EXPECT_THAT(queries.GetUnit(Staff(clinic_a_, "GetSerialUnit"), get).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product_id")));
  get.set_product_id(other.id());
  ASSERT_OK_AND_ASSIGN(v1::SerialUnit unit,
                       queries.GetUnit(Staff(clinic_a_, "GetSerialUnit"), get));
  EXPECT_EQ(unit.serial(), "UDI-0001");
  EXPECT_EQ(unit.product_id(), other.id());
  EXPECT_EQ(unit.device_identifier(), "00812345678901");
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
