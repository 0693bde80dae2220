#include "services/inventory/transfers.h"

#include "common/util/etag.h"
#include "services/inventory/inventory_test_env.h"
#include "services/inventory/recalls.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class TransfersTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    gloves_ = CreateProduct(ConsumableSpec());
    lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 10));
    needle_ = CreateProduct(NeedleSpec());
    needle_lot_ = Receive(
        Receipt(clinic_a_, needle_.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"}));
  }
  Transfers transfers() { return Transfers(db_.get()); }
  v1::ShipTransferRequest Ship(int64_t quantity) const {
    v1::ShipTransferRequest req;
    req.set_request_id(NewId());
    req.set_source_clinic_id(clinic_a_);
    req.set_destination_clinic_id(clinic_b_);
    v1::LotQuantity* line = req.add_lines();
    line->set_lot_id(lot_.id());
    line->set_quantity(quantity);
    return req;
  }
  v1::ReceiveTransferRequest ReceiveOf(const v1::Transfer& t) const {
    v1::ReceiveTransferRequest req;
    req.set_request_id(NewId());
    req.set_id(t.id());
    req.set_etag(t.etag());
    return req;
  }

  v1::Product gloves_, needle_;
  v1::Lot lot_, needle_lot_;
};

TEST_F(TransfersTest, ShippedStockArrivesOnceAtTheDestination) {
  v1::ShipTransferRequest ship = Ship(4);
  ship.add_serials("SN-1");
  const Call call = Staff(clinic_a_, "ShipTransfer");
  ASSERT_OK_AND_ASSIGN(v1::Transfer shipped, transfers().Ship(call, ship));
  EXPECT_EQ(shipped.status(), v1::TRANSFER_STATUS_SHIPPED);
  ASSERT_OK_AND_ASSIGN(v1::Transfer replay, transfers().Ship(call, ship));
  EXPECT_EQ(replay.id(), shipped.id());

  const v1::ReceiveTransferRequest receive = ReceiveOf(shipped);
  // The source clinic's staff may not receive it.
  EXPECT_EQ(ErrorReason(transfers().Receive(Staff(clinic_a_, "ReceiveTransfer"), receive).status()),
            reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(v1::Transfer received,
                       transfers().Receive(Staff(clinic_b_, "ReceiveTransfer"), receive));
  EXPECT_EQ(received.status(), v1::TRANSFER_STATUS_RECEIVED);
  // The etag it was shipped with is stale now.
  v1::ReceiveTransferRequest stale = ReceiveOf(shipped);
  const absl::Status s = transfers().Receive(Staff(clinic_b_, "ReceiveTransfer"), stale).status();
  EXPECT_FALSE(s.ok());

  v1::ListTransfersRequest list;
  list.set_clinic_id(clinic_b_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTransfersResponse page,
                       transfers().List(Staff(clinic_b_, "ListTransfers"), list));
  ASSERT_EQ(page.transfers_size(), 1);
  EXPECT_EQ(page.transfers(0).id(), shipped.id());
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_F(TransfersTest, AStaleEtagIsRefused) {
  ASSERT_OK_AND_ASSIGN(v1::Transfer shipped,
                       transfers().Ship(Staff(clinic_a_, "ShipTransfer"), Ship(2)));
  v1::ReceiveTransferRequest req = ReceiveOf(shipped);
  ASSERT_OK_AND_ASSIGN(int64_t version, VersionFromEtag("etag", shipped.etag()));
  req.set_etag(EtagOf(version + 1));
  const absl::Status s = transfers().Receive(Staff(clinic_b_, "ReceiveTransfer"), req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(s), reason::kStaleEtag);
}

TEST_F(TransfersTest, ShipmentsAreValidatedAndLimitedToStockHere) {
  const Call call = Staff(clinic_a_, "ShipTransfer");
  v1::ShipTransferRequest req = Ship(2);
  req.set_destination_clinic_id(clinic_a_);
  EXPECT_THAT(transfers().Ship(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("destination_clinic_id")));
  EXPECT_THAT(transfers().Ship(call, Ship(11)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not enough stock")));
  const absl::Status s = transfers().Ship(Staff(clinic_b_, "ShipTransfer"), Ship(1)).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
}

TEST_F(TransfersTest, ARecalledLotIsNotShipped) {
  v1::RecallLotRequest recall;
  recall.set_request_id(NewId());
  recall.set_lot_id(lot_.id());
  recall.set_reason("notice");
  ASSERT_OK(Recalls(db_.get(), nullptr).Recall(Admin("RecallLot"), recall).status());
  const absl::Status s = transfers().Ship(Staff(clinic_a_, "ShipTransfer"), Ship(1)).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(s), reason::kRecalled);
}

}  // namespace
}  // namespace smp::inventory
