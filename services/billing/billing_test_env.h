#ifndef SMP_SERVICES_BILLING_BILLING_TEST_ENV_H_
#define SMP_SERVICES_BILLING_BILLING_TEST_ENV_H_

// Test-only: what the operation units' in-process tests share. A fresh database (SQLite, or
// PostgreSQL under SMP_TEST_BACKEND=postgresql) with billing's migrations per test, a fixed "now",
// two clinics in New York (A with price lists, B for refusals) and the callers the tests hand to
// the operations.

#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/money/money.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/billing_reasons.h"
#include "services/billing/billing_rules.h"
#include "services/billing/billing_store.h"

namespace smp::billing::testing_env {

using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// 2026-01-15 15:00 UTC, 10:00 in New York.
inline const absl::Time kNow = absl::FromUnixSeconds(1768489200);
inline constexpr char kZone[] = "America/New_York";
inline constexpr char kClinicA[] = "01JD00000000000000000000CA";
inline constexpr char kClinicB[] = "01JD00000000000000000000CB";
inline constexpr char kPatient[] = "01JD00000000000000000000P1";
inline constexpr char kPlan[] = "01JD00000000000000000000T1";

inline common::v1::Money Usd(int64_t minor) { return MakeMoney(minor, "USD"); }

// A full price list of `clinic` effective `day` in New York, in USD at 8.25% tax; hairline
// sessions cost `hairline` minor units.
inline v1::PriceList PriceListOf(const std::string& clinic, absl::CivilDay day,
                                 int64_t hairline = 120000, const std::string& currency = "USD") {
  auto m = [&](int64_t minor) { return MakeMoney(minor, currency); };
  v1::PriceList list;
  list.set_clinic_id(clinic);
  *list.mutable_effective_date() = ToLocalDate(day);
  list.set_time_zone(kZone);
  list.set_currency_code(currency);
  list.set_tax_rate_bp(825);
  *list.mutable_consultation_fee() = m(15000);
  *list.mutable_session_prices()->mutable_hairline() = m(hairline);
  *list.mutable_session_prices()->mutable_crown() = m(110000);
  *list.mutable_session_prices()->mutable_full_scalp() = m(175000);
  *list.mutable_session_prices()->mutable_scar_camouflage() = m(90000);
  *list.mutable_sample_patch_fee() = m(5000);
  *list.mutable_touch_up_fee() = m(40000);
  *list.mutable_late_cancellation_fee() = m(10000);
  *list.mutable_no_show_fee() = m(15000);
  return list;
}

// A line of `quantity` x `unit_minor` USD.
inline v1::Line LineOf(int64_t unit_minor, int64_t quantity = 1) {
  v1::Line line;
  line.set_kind(v1::CHARGE_KIND_OTHER);
  line.set_description("Aftercare kit");
  line.set_quantity(quantity);
  *line.mutable_unit_price() = Usd(unit_minor);
  return line;
}

class BillingUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, ::smp::testing::OpenNewTestDatabase());
    ASSERT_OK(ApplyMigrations(*db_, BillingMigrations(), kNow));
  }

  // Stores a price list of clinic A in force since 2026-01-01 (New York).
  void SeedPriceList(const std::string& clinic = kClinicA,
                     absl::CivilDay day = absl::CivilDay(2026, 1, 1)) {
    const v1::PriceList list = PriceListOf(clinic, day);
    absl::StatusOr<absl::Time> effective = ValidatePriceList(list);
    ASSERT_OK(effective.status());
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
      return store_.InsertPriceList(txn, list, *effective, kNow - absl::Hours(24 * 30)).status();
    }));
  }

  // Callers of `method` at kNow.
  static Call Clerk(const std::string& method) {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_BILLING_CLERK}, {kClinicA}, "clerk-a"), kNow,
        method);
  }
  static Call Desk(const std::string& method) {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_FRONT_DESK}, {kClinicA}, "desk-a"), kNow, method);
  }
  // A clerk of clinic B only: refused everything of clinic A.
  static Call OtherClinic(const std::string& method) {
    return smp::testing::CallAs(
        smp::testing::StaffOf({common::v1::ROLE_BILLING_CLERK}, {kClinicB}, "clerk-b"), kNow,
        method);
  }

  std::unique_ptr<Database> db_;
  BillingStore store_;
};

// The fixture of units that need clinic A's prices: a price list in force since 2026-01-01.
class PricedBillingUnitTest : public BillingUnitTest {
 protected:
  void SetUp() override {
    BillingUnitTest::SetUp();
    SeedPriceList();
  }
};

// A status (or StatusOr) whose ErrorInfo reason is `reason`.
MATCHER_P(HasReason, reason, "has error reason " + ::testing::PrintToString(std::string(reason))) {
  const absl::Status& status = ::smp::testing::GetStatus(arg);
  *result_listener << "status is " << status << ", reason \"" << ErrorReason(status) << "\"";
  return ErrorReason(status) == std::string(reason);
}

}  // namespace smp::billing::testing_env

#endif  // SMP_SERVICES_BILLING_BILLING_TEST_ENV_H_
