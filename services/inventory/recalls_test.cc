#include "services/inventory/recalls.h"

#include "services/inventory/inventory_test_env.h"
#include "services/inventory/issuing.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class RecallsTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    gloves_ = CreateProduct(ConsumableSpec());
    lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 10));
    Receive(Receipt(clinic_b_, gloves_.id(), "G-1", 4));
  }
  Recalls recalls() {
    return Recalls(db_.get(), [this] { ++events_committed_; });
  }
  v1::RecallLotRequest Recall() const {
    v1::RecallLotRequest req;
    req.set_request_id(NewId());
    req.set_lot_id(lot_.id());
    req.set_reason("maker's notice 42");
    return req;
  }
  // Issues `quantity` gloves at `clinic` to a new appointment; its id.
  std::string Use(const std::string& clinic, int64_t quantity) {
    v1::IssueToProcedureRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointments_.Add(clinic));
    v1::LotQuantity* lq = req.add_lines()->mutable_lot_quantity();
    lq->set_lot_id(lot_.id());
    lq->set_quantity(quantity);
    EXPECT_OK(Issuing(db_.get(), &appointments_, nullptr)
                  .Issue(Technician(clinic, "IssueToProcedure"), req)
                  .status());
    return req.appointment_id();
  }

  v1::Product gloves_;
  v1::Lot lot_;
  int events_committed_ = 0;
};

TEST_F(RecallsTest, ARecallQuarantinesChainWideAndNamesWhoRecalled) {
  const std::string used_at_a = Use(clinic_a_, 2);
  const std::string used_at_b = Use(clinic_b_, 1);
  const v1::RecallLotRequest req = Recall();
  const Call call = Admin("RecallLot");
  ASSERT_OK_AND_ASSIGN(v1::RecallLotResponse out, recalls().Recall(call, req));
  EXPECT_EQ(out.lot().status(), v1::LOT_STATUS_RECALLED);
  EXPECT_EQ(events_committed_, 1);
  // Both clinics' stock moved to quarantine (out of available, into quarantine), by the admin.
  ASSERT_EQ(out.quarantined_size(), 4);
  for (const v1::LedgerEntry& e : out.quarantined()) EXPECT_EQ(e.staff_id(), "admin-1");
  ASSERT_EQ(out.uses_size(), 2);
  EXPECT_THAT(
      (std::vector<std::string>{out.uses(0).appointment_id(), out.uses(1).appointment_id()}),
      ::testing::UnorderedElementsAre(used_at_a, used_at_b));
  // A retry answers the same recall.
  ASSERT_OK_AND_ASSIGN(v1::RecallLotResponse replay, recalls().Recall(call, req));
  EXPECT_EQ(replay.quarantined(0).id(), out.quarantined(0).id());
  // A second recall is refused as already recalled.
  const absl::Status again = recalls().Recall(call, Recall()).status();
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already")));
  EXPECT_EQ(ErrorReason(again), reason::kRecalled);
}

// Issue 13: a clinic-scoped clerk cannot recall a lot chain-wide (nor learn anything about it:
// the refusal comes before the lot is read).
TEST_F(RecallsTest, AClinicScopedClerkCannotRecallChainWide) {
  Use(clinic_b_, 1);
  v1::RecallLotRequest req = Recall();
  const absl::Status refused = recalls().Recall(Staff(clinic_a_, "RecallLot"), req).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("admin")));
  EXPECT_EQ(ErrorReason(refused), "CHAIN_WIDE_ONLY");
  req.set_lot_id(NewId());
  EXPECT_THAT(recalls().Recall(Staff(clinic_a_, "RecallLot"), req).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(events_committed_, 0);
  // The lot is untouched: an admin can still recall it.
  ASSERT_OK(recalls().Recall(Admin("RecallLot"), Recall()).status());
}

TEST_F(RecallsTest, RecallsAreValidated) {
  v1::RecallLotRequest req = Recall();
  req.clear_reason();
  EXPECT_THAT(recalls().Recall(Admin("RecallLot"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  req = Recall();
  req.set_lot_id(NewId());
  EXPECT_THAT(recalls().Recall(Admin("RecallLot"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lot_id")));
  EXPECT_EQ(events_committed_, 0);
}

TEST_F(RecallsTest, LotUsesAreLimitedToTheCallersClinics) {
  Use(clinic_a_, 1);
  const std::string used_at_b = Use(clinic_b_, 1);
  v1::ListLotUsesRequest req;
  req.set_lot_id(lot_.id());
  ASSERT_OK_AND_ASSIGN(v1::ListLotUsesResponse out,
                       recalls().ListUses(Staff(clinic_b_, "ListLotUses"), req));
  ASSERT_EQ(out.uses_size(), 1);
  EXPECT_EQ(out.uses(0).appointment_id(), used_at_b);
  req.set_lot_id(NewId());
  EXPECT_THAT(recalls().ListUses(Staff(clinic_b_, "ListLotUses"), req).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RecallsTest, LotUsesPageOldestFirstAndSkipOtherClinicsUses) {
  std::vector<std::string> used_at_a;
  for (int i = 0; i < 3; ++i) {
    used_at_a.push_back(Use(clinic_a_, 1));
    Use(clinic_b_, 1);
  }
  v1::ListLotUsesRequest req;
  req.set_lot_id(lot_.id());
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 3; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListLotUsesResponse out,
                         recalls().ListUses(Staff(clinic_a_, "ListLotUses"), req));
    for (const v1::LotUse& use : out.uses()) seen.push_back(use.appointment_id());
    if (out.next_page_token().empty()) break;
    ASSERT_EQ(out.uses_size(), 2);
    req.set_page_token(out.next_page_token());
  }
  EXPECT_EQ(seen, used_at_a);
  // A token is bound to its lot.
  req.set_lot_id(Receive(Receipt(clinic_a_, gloves_.id(), "G-2", 1)).id());
  EXPECT_THAT(recalls().ListUses(Staff(clinic_a_, "ListLotUses"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace smp::inventory
