#include "common/money/money.h"

#include <limits>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MoneyTest, CurrenciesAndTheirMinorUnits) {
  EXPECT_EQ(*CurrencyMinorDigits("c", "USD"), 2);
  EXPECT_EQ(*CurrencyMinorDigits("c", "JPY"), 0);
  EXPECT_EQ(*CurrencyMinorDigits("c", "KWD"), 3);
  EXPECT_EQ(*CurrencyMinorDigits("c", "CLF"), 4);
  EXPECT_THAT(CurrencyMinorDigits("price.currency_code", "usd"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price.currency_code")));
  EXPECT_THAT(CurrencyMinorDigits("c", "XAU"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CurrencyMinorDigits("c", ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MoneyTest, ValidateNamesTheField) {
  EXPECT_OK(ValidateMoney("price", MakeMoney(435000, "USD")));
  EXPECT_THAT(ValidateMoney("price", MakeMoney(-1, "USD")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price.amount_minor")));
  EXPECT_OK(ValidateMoney("adjustment", MakeMoney(-1, "USD"), /*allow_negative=*/true));
  EXPECT_THAT(ValidateMoney("price", MakeMoney(std::numeric_limits<int64_t>::max(), "USD")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("beyond")));
  EXPECT_THAT(ValidateMoney("price", MakeMoney(1, "ZZZ")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("price.currency_code")));
}

TEST(MoneyTest, ArithmeticRefusesMixedCurrenciesAndOverflow) {
  EXPECT_EQ(AddMoney(MakeMoney(100, "USD"), MakeMoney(250, "USD"))->amount_minor(), 350);
  EXPECT_EQ(SubtractMoney(MakeMoney(100, "USD"), MakeMoney(250, "USD"))->amount_minor(), -150);
  EXPECT_THAT(AddMoney(MakeMoney(100, "USD"), MakeMoney(1, "EUR")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mismatch")));
  EXPECT_THAT(AddMoney(MakeMoney(kMaxAmountMinor, "USD"), MakeMoney(1, "USD")),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(MultiplyMoney(MakeMoney(145000, "USD"), 3)->amount_minor(), 435000);
  EXPECT_THAT(MultiplyMoney(MakeMoney(std::numeric_limits<int64_t>::max(), "USD"), 2),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MoneyTest, BasisPointsRoundHalfAwayFromZero) {
  EXPECT_EQ(*ApplyBasisPoints(10000, 825), 825);     // 8.25% of $100.00
  EXPECT_EQ(*ApplyBasisPoints(1, 5000), 1);          // 0.5 cent -> 1
  EXPECT_EQ(*ApplyBasisPoints(-1, 5000), -1);        // -0.5 cent -> -1
  EXPECT_EQ(*ApplyBasisPoints(1, 4999), 0);          // 0.4999 -> 0
  EXPECT_EQ(*ApplyBasisPoints(435000, 725), 31538);  // 31537.5 -> 31538
  EXPECT_EQ(*ApplyBasisPoints(435000, 0), 0);
  EXPECT_THAT(ApplyBasisPoints(100, -1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MoneyTest, Format) {
  EXPECT_EQ(FormatMoney(MakeMoney(435000, "USD")), "USD 4350.00");
  EXPECT_EQ(FormatMoney(MakeMoney(5, "USD")), "USD 0.05");
  EXPECT_EQ(FormatMoney(MakeMoney(-1250, "EUR")), "-EUR 12.50");
  EXPECT_EQ(FormatMoney(MakeMoney(5000, "JPY")), "JPY 5000");
  EXPECT_EQ(FormatMoney(MakeMoney(1234, "KWD")), "KWD 1.234");
  EXPECT_EQ(FormatMoney(MakeMoney(std::numeric_limits<int64_t>::min(), "USD")),
            "-USD 92233720368547758.08");
}

}  // namespace
}  // namespace smp
