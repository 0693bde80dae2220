#include "services/billing/billing_store.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/money/money.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/billing_rules.h"

namespace smp::billing {
namespace {

using ::smp::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1767261600);  // 2026-01-01 10:00 UTC
constexpr char kClinic[] = "01JD00000000000000000000C1";
constexpr char kPatient[] = "01JD00000000000000000000P1";

class BillingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, ::smp::testing::OpenNewTestDatabase());
    ASSERT_OK(ApplyMigrations(*db_, BillingMigrations(), kNow));
  }

  // A draft invoice of one 100.00 line.
  v1::Invoice Draft() {
    v1::Invoice inv;
    inv.set_id(NewId());
    inv.set_clinic_id(kClinic);
    inv.set_patient_id(kPatient);
    inv.set_status(v1::INVOICE_DRAFT);
    inv.set_currency_code("USD");
    v1::Line* line = inv.add_lines();
    line->set_kind(v1::CHARGE_KIND_OTHER);
    line->set_description("x");
    line->set_quantity(1);
    *line->mutable_unit_price() = MakeMoney(10000, "USD");
    absl::StatusOr<v1::Totals> totals =
        PriceLines("lines", "USD", 0, /*prices_include_tax=*/false, *inv.mutable_lines());
    EXPECT_OK(totals.status());
    *inv.mutable_totals() = *totals;
    EXPECT_OK(SettleInvoice(inv));
    return inv;
  }

  // Issues `id` as IssueInvoice does: the number is taken inside the same transaction.
  absl::Status Issue(const std::string& id, bool fail_after_numbering = false) {
    return db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, id));
      ASSIGN_OR_RETURN(int64_t number, store_.NextInvoiceNumber(txn, inv.clinic_id()));
      inv.set_number(number);
      inv.set_status(v1::INVOICE_ISSUED);
      RETURN_IF_ERROR(store_.UpdateInvoice(txn, inv, 1).status());
      if (fail_after_numbering) return absl::UnavailableError("disk went away");
      return absl::OkStatus();
    });
  }

  std::unique_ptr<Database> db_;
  BillingStore store_;
};

TEST_F(BillingStoreTest, ConcurrentIssuesGetConsecutiveNumbersAndFailuresGiveThemBack) {
  constexpr int kInvoices = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < kInvoices; ++i) {
    v1::Invoice inv = Draft();
    ASSERT_OK(db_->Run(TxMode::kWrite,
                       [&](Transaction& txn) { return store_.InsertInvoice(txn, inv).status(); }));
    ids.push_back(inv.id());
  }
  // A failed issue rolls back, number and all.
  ASSERT_THAT(Issue(ids[0], /*fail_after_numbering=*/true),
              StatusIs(absl::StatusCode::kUnavailable));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kInvoices; i += 8) EXPECT_OK(Issue(ids[i]));
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<int64_t> numbers;
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, id));
      numbers.insert(inv.number());
    }
    return absl::OkStatus();
  }));
  ASSERT_EQ(numbers.size(), static_cast<size_t>(kInvoices));
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), kInvoices);
}

TEST_F(BillingStoreTest, EffectivePriceListIsTheLatestStartedVersion) {
  v1::PriceList list;
  list.set_clinic_id(kClinic);
  list.set_currency_code("USD");
  list.mutable_effective_date()->set_year(2026);
  list.mutable_effective_date()->set_month(1);
  list.mutable_effective_date()->set_day(1);
  v1::PriceList tomorrow = list;
  tomorrow.mutable_effective_date()->set_day(2);
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(store_.InsertPriceList(txn, list, kNow - absl::Hours(10), kNow).status());
    RETURN_IF_ERROR(store_.InsertPriceList(txn, tomorrow, kNow + absl::Hours(14), kNow).status());
    EXPECT_THAT(store_.InsertPriceList(txn, tomorrow, kNow + absl::Hours(14), kNow).status(),
                StatusIs(absl::StatusCode::kAlreadyExists));
    return absl::OkStatus();
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto now_list, store_.EffectivePriceList(txn, kClinic, kNow));
    EXPECT_EQ(now_list->effective_date().day(), 1);
    ASSIGN_OR_RETURN(auto later, store_.EffectivePriceList(txn, kClinic, kNow + absl::Hours(14)));
    EXPECT_EQ(later->effective_date().day(), 2);
    ASSIGN_OR_RETURN(auto before, store_.EffectivePriceList(txn, kClinic, kNow - absl::Hours(11)));
    EXPECT_FALSE(before.has_value());
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace smp::billing
