#include "common/money/money.h"

#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"

namespace smp {
namespace {

// Active ISO-4217 currencies (list 1, 2024) with their minor-unit digits. Codes for precious
// metals, testing and "no currency" (XAU, XTS, XXX, ...) are left out on purpose: nobody pays for
// SMP in them.
const absl::flat_hash_map<std::string, int>& Currencies() {
  static const auto* const table = [] {
    auto* t = new absl::flat_hash_map<std::string, int>();
    const char* kTwoDigit[] = {
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
        "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
        "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DKK", "DOP",
        "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ",
        "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
        "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK",
        "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
        "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB",
        "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC",
        "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN",
        "UYU", "UZS", "VED", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL"};
    for (const char* code : kTwoDigit) (*t)[code] = 2;
    for (const char* code : {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                             "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}) {
      (*t)[code] = 0;
    }
    for (const char* code : {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}) (*t)[code] = 3;
    for (const char* code : {"CLF", "UYW"}) (*t)[code] = 4;
    return t;
  }();
  return *table;
}

absl::StatusOr<common::v1::Money> Checked(absl::int128 amount, absl::string_view currency) {
  if (amount > kMaxAmountMinor || amount < -kMaxAmountMinor) {
    return absl::OutOfRangeError(
        absl::StrCat("amount is beyond the largest supported (", kMaxAmountMinor, " minor units)"));
  }
  return MakeMoney(static_cast<int64_t>(amount), currency);
}

absl::Status SameCurrency(const common::v1::Money& a, const common::v1::Money& b) {
  if (a.currency_code() != b.currency_code()) {
    return absl::InvalidArgumentError(
        absl::StrCat("currency mismatch: ", a.currency_code(), " and ", b.currency_code()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> CurrencyMinorDigits(absl::string_view field, absl::string_view code) {
  auto it = Currencies().find(code);
  if (it == Currencies().end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", code.substr(0, 8), "\" is not an ISO-4217 currency code such as \"USD\""));
  }
  return it->second;
}

absl::Status ValidateMoney(absl::string_view field, const common::v1::Money& money,
                           bool allow_negative) {
  RETURN_IF_ERROR(
      CurrencyMinorDigits(absl::StrCat(field, ".currency_code"), money.currency_code()).status());
  if (!allow_negative && money.amount_minor() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".amount_minor: must not be negative"));
  }
  if (money.amount_minor() > kMaxAmountMinor || money.amount_minor() < -kMaxAmountMinor) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".amount_minor: is beyond ", kMaxAmountMinor, " minor units"));
  }
  return absl::OkStatus();
}

common::v1::Money MakeMoney(int64_t amount_minor, absl::string_view currency_code) {
  common::v1::Money m;
  m.set_amount_minor(amount_minor);
  m.set_currency_code(std::string(currency_code));
  return m;
}

absl::StatusOr<common::v1::Money> AddMoney(const common::v1::Money& a, const common::v1::Money& b) {
  RETURN_IF_ERROR(SameCurrency(a, b));
  return Checked(absl::int128(a.amount_minor()) + b.amount_minor(), a.currency_code());
}

absl::StatusOr<common::v1::Money> SubtractMoney(const common::v1::Money& a,
                                                const common::v1::Money& b) {
  RETURN_IF_ERROR(SameCurrency(a, b));
  return Checked(absl::int128(a.amount_minor()) - b.amount_minor(), a.currency_code());
}

absl::StatusOr<common::v1::Money> MultiplyMoney(const common::v1::Money& amount, int64_t quantity) {
  return Checked(absl::int128(amount.amount_minor()) * quantity, amount.currency_code());
}

absl::StatusOr<int64_t> ApplyBasisPoints(int64_t amount_minor, int32_t basis_points) {
  if (basis_points < 0) return absl::InvalidArgumentError("basis points must not be negative");
  const absl::int128 product = absl::int128(amount_minor) * basis_points;
  const absl::int128 magnitude = product < 0 ? -product : product;
  absl::int128 rounded = (magnitude + 5000) / 10000;  // half away from zero
  if (product < 0) rounded = -rounded;
  if (rounded > kMaxAmountMinor || rounded < -kMaxAmountMinor) {
    return absl::OutOfRangeError("amount is beyond the largest supported");
  }
  return static_cast<int64_t>(rounded);
}

std::string FormatMoney(const common::v1::Money& money) {
  absl::StatusOr<int> digits = CurrencyMinorDigits("currency_code", money.currency_code());
  const int d = digits.ok() ? *digits : 2;
  const int64_t amount = money.amount_minor();
  const uint64_t magnitude =
      amount < 0 ? static_cast<uint64_t>(-(amount + 1)) + 1 : static_cast<uint64_t>(amount);
  const char* sign = amount < 0 ? "-" : "";
  if (d == 0) return absl::StrCat(sign, money.currency_code(), " ", magnitude);
  uint64_t scale = 1;
  for (int i = 0; i < d; ++i) scale *= 10;
  return absl::StrFormat("%s%s %d.%0*d", sign, money.currency_code(), magnitude / scale, d,
                         magnitude % scale);
}

}  // namespace smp
