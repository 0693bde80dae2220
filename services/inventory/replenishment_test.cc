#include "services/inventory/replenishment.h"

#include "services/inventory/inventory_test_env.h"
#include "services/inventory/issuing.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class ReplenishmentTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    gloves_ = CreateProduct(ConsumableSpec());
    lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 5));
  }
  Replenishment replenishment() { return Replenishment(db_.get(), &appointments_); }
  v1::SetReorderPointRequest Point(int64_t level) const {
    v1::SetReorderPointRequest req;
    req.set_request_id(NewId());
    req.mutable_point()->set_clinic_id(clinic_a_);
    req.mutable_point()->set_product_id(gloves_.id());
    req.mutable_point()->set_reorder_level(level);
    req.mutable_point()->set_reorder_quantity(20);
    return req;
  }
  v1::ListLowStockResponse LowStock(absl::Time at) {
    v1::ListLowStockRequest req;
    req.set_clinic_id(clinic_a_);
    const Call call = smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_INVENTORY_STAFF}, {clinic_a_}), at, "ListLowStock");
    absl::StatusOr<v1::ListLowStockResponse> out = replenishment().ListLowStock(call, req);
    EXPECT_OK(out.status());
    return out.value_or(v1::ListLowStockResponse());
  }

  v1::Product gloves_;
  v1::Lot lot_;
};

TEST_F(ReplenishmentTest, AProductAtOrBelowItsLevelIsLowStock) {
  const Call call = Staff(clinic_a_, "SetReorderPoint");
  const v1::SetReorderPointRequest req = Point(4);
  ASSERT_OK_AND_ASSIGN(v1::ReorderPoint point, replenishment().SetReorderPoint(call, req));
  EXPECT_EQ(point.reorder_level(), 4);
  ASSERT_OK(replenishment().SetReorderPoint(call, req).status());  // replayed
  EXPECT_EQ(LowStock(now_).items_size(), 0);                       // 5 > 4
  ASSERT_OK(replenishment().SetReorderPoint(call, Point(5)).status());
  const v1::ListLowStockResponse low = LowStock(now_);
  ASSERT_EQ(low.items_size(), 1);
  EXPECT_EQ(low.items(0).available(), 5);
  // Expired stock does not count: after 2028-01-31 nothing usable is left.
  const v1::ListLowStockResponse later =
      LowStock(absl::FromCivil(absl::CivilSecond(2028, 2, 2, 12, 0, 0), absl::UTCTimeZone()));
  ASSERT_EQ(later.items_size(), 1);
  EXPECT_EQ(later.items(0).available(), 0);
}

TEST_F(ReplenishmentTest, LowStockPagesByProduct) {
  const v1::Product needle = CreateProduct(NeedleSpec());
  const Call call = Staff(clinic_a_, "SetReorderPoint");
  ASSERT_OK(replenishment().SetReorderPoint(call, Point(10)).status());
  v1::SetReorderPointRequest other = Point(10);
  other.mutable_point()->set_product_id(needle.id());
  ASSERT_OK(replenishment().SetReorderPoint(call, other).status());
  v1::ListLowStockRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListLowStockResponse first,
                       replenishment().ListLowStock(Staff(clinic_a_, "ListLowStock"), req));
  ASSERT_EQ(first.items_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListLowStockResponse second,
                       replenishment().ListLowStock(Staff(clinic_a_, "ListLowStock"), req));
  ASSERT_EQ(second.items_size(), 1);
  EXPECT_GT(second.items(0).point().product_id(), first.items(0).point().product_id());
  EXPECT_TRUE(second.next_page_token().empty());
  // The watch sends the whole list.
  ASSERT_OK_AND_ASSIGN(v1::ListLowStockResponse all,
                       replenishment().WatchList(Staff(clinic_a_, "WatchLowStock"), req));
  EXPECT_EQ(all.items_size(), 2);
  // A watch sends the list, then only when it changes.
  const Replenishment unit = replenishment();  // the watch refers to it
  ASSERT_OK_AND_ASSIGN(auto watch, unit.OpenLowStockWatch(Staff(clinic_a_, "WatchLowStock"), req));
  ASSERT_OK_AND_ASSIGN(auto sent, watch->Next(Staff(clinic_a_, "WatchLowStock")));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->items_size(), 2);
  ASSERT_OK_AND_ASSIGN(auto unchanged, watch->Next(Staff(clinic_a_, "WatchLowStock")));
  EXPECT_FALSE(unchanged.has_value());
  EXPECT_EQ(ErrorReason(watch->Next(Staff(clinic_b_, "WatchLowStock")).status()),
            reason::kOutsideClinicScope);
}

TEST_F(ReplenishmentTest, ReorderPointsAreValidatedAndScoped) {
  const Call call = Staff(clinic_a_, "SetReorderPoint");
  EXPECT_THAT(replenishment().SetReorderPoint(call, Point(-1)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("point.reorder_level")));
  v1::SetReorderPointRequest unknown = Point(1);
  unknown.mutable_point()->set_product_id(NewId());
  EXPECT_THAT(replenishment().SetReorderPoint(call, unknown).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("point.product_id")));
  const absl::Status s =
      replenishment().SetReorderPoint(Staff(clinic_b_, "SetReorderPoint"), Point(1)).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
  v1::ListLowStockRequest list;
  list.set_clinic_id(clinic_a_);
  EXPECT_EQ(
      ErrorReason(replenishment().ListLowStock(Staff(clinic_b_, "ListLowStock"), list).status()),
      reason::kOutsideClinicScope);
}

TEST_F(ReplenishmentTest, TheForecastCountsBookedProceduresAndPastUse) {
  v1::IssueToProcedureRequest issue;
  issue.set_request_id(NewId());
  issue.set_clinic_id(clinic_a_);
  issue.set_appointment_id(appointments_.Add(clinic_a_));
  issue.add_lines()->mutable_lot_quantity()->set_lot_id(lot_.id());
  issue.mutable_lines(0)->mutable_lot_quantity()->set_quantity(2);
  ASSERT_OK(Issuing(db_.get(), &appointments_, nullptr)
                .Issue(Technician(clinic_a_, "IssueToProcedure"), issue)
                .status());
  for (int day = 1; day <= 3; ++day) {
    appointments_.procedures.push_back(
        ProcedureAppointment{NewId(), clinic_a_, "", scheduling::v1::APPOINTMENT_TYPE_UNSPECIFIED,
                             scheduling::v1::BOOKED, now_ + absl::Hours(24 * day)});
  }
  v1::ForecastDemandRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_weeks(1);
  ASSERT_OK_AND_ASSIGN(v1::ForecastDemandResponse out,
                       replenishment().Forecast(Staff(clinic_a_, "ForecastDemand"), req));
  EXPECT_EQ(out.booked_sessions(), 3);
  EXPECT_EQ(out.history_procedures(), 1);
  ASSERT_EQ(out.demands_size(), 1);
  EXPECT_EQ(out.demands(0).on_hand(), 3);
  EXPECT_EQ(out.demands(0).expected_units(), 6);  // 2 a procedure, 3 booked

  req.set_weeks(13);
  EXPECT_THAT(replenishment().Forecast(Staff(clinic_a_, "ForecastDemand"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weeks")));
  req.set_weeks(1);
  appointments_.down = true;
  EXPECT_THAT(replenishment().Forecast(Staff(clinic_a_, "ForecastDemand"), req).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorReason(replenishment().Forecast(Staff(clinic_b_, "ForecastDemand"), req).status()),
            reason::kOutsideClinicScope);
}

}  // namespace
}  // namespace smp::inventory
