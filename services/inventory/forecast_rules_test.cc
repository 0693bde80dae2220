#include "services/inventory/forecast_rules.h"

#include "gtest/gtest.h"

namespace smp::inventory {
namespace {

TEST(ForecastDemandTest, ScalesHistoryAndSuggestsOrders) {
  ForecastInput in;
  in.upcoming_procedures = 7;
  in.history_procedures = 4;
  in.history_units = {{"needle", 10}, {"pigment", 1}};
  in.on_hand = {{"needle", 5}, {"pigment", 10}, {"cream", 0}};
  in.reorder_level = {{"needle", 3}, {"cream", 2}};
  std::vector<v1::ProductDemand> out = ForecastDemand(in);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].product_id(), "cream");  // reorder point only: no history
  EXPECT_EQ(out[0].expected_units(), 0);
  EXPECT_EQ(out[0].suggested_order(), 2);
  EXPECT_EQ(out[1].product_id(), "needle");
  EXPECT_EQ(out[1].expected_units(), 18);   // ceil(10 * 7 / 4)
  EXPECT_EQ(out[1].suggested_order(), 16);  // 18 + 3 - 5
  EXPECT_EQ(out[2].product_id(), "pigment");
  EXPECT_EQ(out[2].expected_units(), 2);  // ceil(7 / 4)
  EXPECT_EQ(out[2].suggested_order(), 0);
}

TEST(ForecastDemandTest, NoHistoryExpectsNothing) {
  ForecastInput in;
  in.upcoming_procedures = 5;
  in.history_units = {{"needle", 3}};
  EXPECT_EQ(ForecastDemand(in)[0].expected_units(), 0);
}

TEST(ReconcileTest, FindsBothKindsOfMismatch) {
  std::vector<v1::ReconciliationFinding> f =
      Reconcile({{"a1", 2}, {"a2", 1}}, std::set<std::string>{"a2", "a3"});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].appointment_id(), "a1");
  EXPECT_NE(f[0].description().find("not show as performed"), std::string::npos);
  EXPECT_EQ(f[1].appointment_id(), "a3");
  EXPECT_NE(f[1].description().find("no needle unit"), std::string::npos);
}

}  // namespace
}  // namespace smp::inventory
