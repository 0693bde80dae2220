#include "services/inventory/lot_holds.h"

#include <string>

#include "common/status/error_details.h"
#include "services/inventory/inventory_reasons.h"
#include "services/inventory/inventory_test_env.h"
#include "services/inventory/issuing.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class LotHoldsTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    gloves_ = CreateProduct(ConsumableSpec());
    lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 10));
    Receive(Receipt(clinic_b_, gloves_.id(), "G-1", 4));
  }
  v1::HoldLotRequest HoldAt(const std::string& clinic) const {
    v1::HoldLotRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_lot_id(lot_.id());
    req.set_reason("maker's notice 42, waiting for the recall");
    return req;
  }
  v1::ReleaseLotHoldRequest ReleaseAt(const std::string& clinic) const {
    v1::ReleaseLotHoldRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_lot_id(lot_.id());
    req.set_reason("the maker withdrew the notice");
    return req;
  }
  absl::Status Use(const std::string& clinic) {
    v1::IssueToProcedureRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointments_.Add(clinic));
    v1::LotQuantity* lq = req.add_lines()->mutable_lot_quantity();
    lq->set_lot_id(lot_.id());
    lq->set_quantity(1);
    return Issuing(db_.get(), &appointments_, nullptr)
        .Issue(Technician(clinic, "IssueToProcedure"), req)
        .status();
  }

  v1::Product gloves_;
  v1::Lot lot_;
};

// Before: a clinic's inventory staff could not stop a suspect lot at all (a recall is an admin's).
TEST_F(LotHoldsTest, AClerkHoldsALotAtTheirClinicAndReleasesIt) {
  LotHolds holds(db_.get());
  const v1::HoldLotRequest hold = HoldAt(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::LotHold held, holds.Hold(Staff(clinic_a_, "HoldLot"), hold));
  EXPECT_TRUE(held.held());
  EXPECT_EQ(held.held_by(), Staff(clinic_a_, "HoldLot").who.staff_id);
  EXPECT_EQ(held.hold_reason(), hold.reason());
  // Idempotent: the same request answers the same hold; another hold of a held lot is refused.
  ASSERT_OK_AND_ASSIGN(v1::LotHold again, holds.Hold(Staff(clinic_a_, "HoldLot"), hold));
  EXPECT_EQ(again.hold_time().seconds(), held.hold_time().seconds());
  absl::Status twice = holds.Hold(Staff(clinic_a_, "HoldLot"), HoldAt(clinic_a_)).status();
  EXPECT_EQ(ErrorReason(twice), inventory_reason::kLotHeld);

  // Held units are not issued at clinic A; clinic B's stock of the lot is not held.
  absl::Status refused = Use(clinic_a_);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("on hold")));
  EXPECT_EQ(ErrorReason(refused), inventory_reason::kLotHeld);
  EXPECT_OK(Use(clinic_b_));

  const v1::ReleaseLotHoldRequest release = ReleaseAt(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::LotHold released,
                       holds.Release(Staff(clinic_a_, "ReleaseLotHold"), release));
  EXPECT_FALSE(released.held());
  EXPECT_EQ(released.release_reason(), release.reason());
  EXPECT_EQ(released.held_by(), held.held_by());
  ASSERT_OK(holds.Release(Staff(clinic_a_, "ReleaseLotHold"), release).status());  // a retry
  EXPECT_OK(Use(clinic_a_));
  EXPECT_EQ(
      ErrorReason(holds.Release(Staff(clinic_a_, "ReleaseLotHold"), ReleaseAt(clinic_a_)).status()),
      inventory_reason::kLotNotHeld);
}

TEST_F(LotHoldsTest, OnlyInTheClerksOwnClinicsAndWithAReason) {
  LotHolds holds(db_.get());
  EXPECT_THAT(holds.Hold(Staff(clinic_a_, "HoldLot"), HoldAt(clinic_b_)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("outside your clinic")));
  v1::HoldLotRequest no_reason = HoldAt(clinic_a_);
  no_reason.clear_reason();
  EXPECT_THAT(holds.Hold(Staff(clinic_a_, "HoldLot"), no_reason),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  EXPECT_OK(Use(clinic_a_));                                            // nothing was held
  ASSERT_OK(holds.Hold(Admin("HoldLot"), HoldAt(clinic_b_)).status());  // an admin anywhere
  EXPECT_EQ(ErrorReason(Use(clinic_b_)), inventory_reason::kLotHeld);
}

}  // namespace
}  // namespace smp::inventory
