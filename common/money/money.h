#ifndef SMP_COMMON_MONEY_MONEY_H_
#define SMP_COMMON_MONEY_MONEY_H_

// Money helpers over smp.common.v1.Money: integer minor units and an ISO-4217 code, never floating
// point. Every operation that could overflow int64 or mix currencies returns an error instead.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "smp/common/v1/money.pb.h"

namespace smp {

// Digits after the decimal point of an active ISO-4217 currency (USD 2, JPY 0, KWD 3, CLF 4);
// INVALID_ARGUMENT naming `field` for anything else, including lower case and fund/metal codes.
absl::StatusOr<int> CurrencyMinorDigits(absl::string_view field, absl::string_view code);

// A Money whose currency is known and whose amount is not negative (unless `allow_negative`) and at
// most kMaxAmountMinor. INVALID_ARGUMENT naming `field` (e.g. "payment.amount").
absl::Status ValidateMoney(absl::string_view field, const common::v1::Money& money,
                           bool allow_negative = false);

// The largest amount the suite accepts: 10^15 minor units (ten trillion dollars), far above any
// clinic's figures and far below int64's limit, so sums of many amounts cannot overflow unnoticed.
inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;

common::v1::Money MakeMoney(int64_t amount_minor, absl::string_view currency_code);

// a + b, a - b: INVALID_ARGUMENT when currencies differ; OUT_OF_RANGE past +-kMaxAmountMinor.
absl::StatusOr<common::v1::Money> AddMoney(const common::v1::Money& a, const common::v1::Money& b);
absl::StatusOr<common::v1::Money> SubtractMoney(const common::v1::Money& a,
                                                const common::v1::Money& b);
// amount * quantity: OUT_OF_RANGE past +-kMaxAmountMinor.
absl::StatusOr<common::v1::Money> MultiplyMoney(const common::v1::Money& amount, int64_t quantity);

// amount * basis_points / 10000 (1 bp = 0.01%; a tax of 8.25% is 825), rounded to the nearest minor
// unit with halves rounded away from zero, the usual rule for sales tax on an invoice total.
// INVALID_ARGUMENT for negative basis points; OUT_OF_RANGE on overflow.
absl::StatusOr<int64_t> ApplyBasisPoints(int64_t amount_minor, int32_t basis_points);

// "USD 4350.00", "JPY 5000", "-EUR 12.50": for messages and logs, not for parsing.
std::string FormatMoney(const common::v1::Money& money);

}  // namespace smp

#endif  // SMP_COMMON_MONEY_MONEY_H_
