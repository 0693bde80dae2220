#include "tools/smpctl/supplies.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

TEST(Supplies, EachKindOfLine) {
  ASSERT_OK_AND_ASSIGN(inventory::v1::IssueLine serial, ParseIssueLine("supply", "serial=UDI-1"));
  EXPECT_EQ(serial.serial(), "UDI-1");
  ASSERT_OK_AND_ASSIGN(inventory::v1::IssueLine lot, ParseIssueLine("supply", "lot=L7:3"));
  EXPECT_EQ(lot.lot_quantity().lot_id(), "L7");
  EXPECT_EQ(lot.lot_quantity().quantity(), 3);
  ASSERT_OK_AND_ASSIGN(lot, ParseIssueLine("supply", "lot=L7"));
  EXPECT_EQ(lot.lot_quantity().quantity(), 1);
  ASSERT_OK_AND_ASSIGN(inventory::v1::IssueLine bottle, ParseIssueLine("supply", "bottle=B1"));
  EXPECT_EQ(bottle.bottle_id(), "B1");
}

TEST(Supplies, MalformedLinesAreUsageErrors) {
  for (const char* bad : {"needle=1", "serial=", "lot=:2", "lot=L7:0", "lot=L7:x", "UDI-1"}) {
    EXPECT_TRUE(IsUsageError(ParseIssueLine("supply", bad).status())) << bad;
  }
}

}  // namespace
}  // namespace smp::smpctl
