// Three billing processes on one database behind one address (a round_robin channel), on
// PostgreSQL and on SQLite: invoices drafted and issued concurrently through the replicas get the
// clinic's numbers 1..n, each once, without gaps, and an issue replayed on another replica returns
// the first number.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/replica_testing.h"
#include "tests/integration/service_process.h"

namespace smp::billing {
namespace {

using ::smp::testing::Backend;
using ::smp::testing::CallContext;
using ::smp::testing::IdentityHarness;
using ::smp::testing::ServiceProcess;

constexpr int kReplicas = 3;
constexpr char kZone[] = "America/New_York";

class BillingReplicasTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    clinic_ = harness_.MakeClinic("Boston", kZone);
    harness_.MakeStaff("clerk", common::v1::ROLE_BILLING_CLERK, clinic_);
    clerk_ = harness_.Login("clerk");
    ASSERT_OK_AND_ASSIGN(testing::SharedDatabase database,
                         testing::NewSharedDatabase(GetParam(), "billing"));
    std::vector<std::string> addresses;
    for (int i = 0; i < kReplicas; ++i) {
      std::vector<std::string> args = database.flags;
      args.push_back(harness_.RedisFlag());
      ASSERT_OK_AND_ASSIGN(replicas_[i], ServiceProcess::Start(SMP_BILLING_BINARY, args));
      addresses.push_back(replicas_[i]->address());
      direct_[i] = v1::BillingService::NewStub(
          grpc::CreateChannel(addresses.back(), grpc::InsecureChannelCredentials()));
    }
    addresses_ = addresses;
    CreatePriceList();
  }

  // Today's prices for the clinic (an invoice needs its clinic's currency), through any replica.
  void CreatePriceList() {
    auto usd = [](int64_t cents) {
      common::v1::Money m;
      m.set_amount_minor(cents);
      m.set_currency_code("USD");
      return m;
    };
    v1::CreatePriceListRequest req;
    req.set_request_id("prices");
    v1::PriceList* p = req.mutable_price_list();
    p->set_clinic_id(clinic_);
    absl::TimeZone zone;
    ASSERT_TRUE(absl::LoadTimeZone(kZone, &zone));
    const absl::CivilDay yesterday = absl::ToCivilDay(absl::Now(), zone) - 1;
    p->mutable_effective_date()->set_year(static_cast<int32_t>(yesterday.year()));
    p->mutable_effective_date()->set_month(yesterday.month());
    p->mutable_effective_date()->set_day(yesterday.day());
    p->set_time_zone(kZone);
    p->set_currency_code("USD");
    *p->mutable_consultation_fee() = usd(15000);
    *p->mutable_session_prices()->mutable_hairline() = usd(145000);
    *p->mutable_session_prices()->mutable_crown() = usd(160000);
    *p->mutable_session_prices()->mutable_full_scalp() = usd(220000);
    *p->mutable_session_prices()->mutable_scar_camouflage() = usd(90000);
    *p->mutable_sample_patch_fee() = usd(10000);
    *p->mutable_touch_up_fee() = usd(60000);
    *p->mutable_late_cancellation_fee() = usd(5000);
    *p->mutable_no_show_fee() = usd(7500);
    v1::PriceList saved;
    auto stub = v1::BillingService::NewStub(testing::RoundRobinChannel(addresses_));
    grpc::Status s = stub->CreatePriceList(CallContext(clerk_).get(), req, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::CreateInvoiceRequest Draft(const std::string& request_id, int64_t cents) const {
    v1::CreateInvoiceRequest req;
    req.set_request_id(request_id);
    req.mutable_invoice()->set_clinic_id(clinic_);
    req.mutable_invoice()->set_patient_id(patient_);
    v1::Line* line = req.mutable_invoice()->add_lines();
    line->set_kind(v1::CHARGE_KIND_OTHER);
    line->set_description("Aftercare kit");
    line->set_quantity(1);
    line->mutable_unit_price()->set_amount_minor(cents);
    line->mutable_unit_price()->set_currency_code("USD");
    return req;
  }

  IdentityHarness harness_;
  std::unique_ptr<ServiceProcess> replicas_[kReplicas];
  std::unique_ptr<v1::BillingService::Stub> direct_[kReplicas];
  std::vector<std::string> addresses_;
  std::string clinic_, clerk_;
  const std::string patient_ = NewId();
};

INSTANTIATE_TEST_SUITE_P(Backends, BillingReplicasTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(BillingReplicasTest, InvoiceNumbersAreGapFreeAndUniqueAcrossReplicas) {
  // 10 clerks, each with its own channel over the three replicas, draft and issue 4 invoices
  // each at once: a draft is made on one replica and issued on the next.
  constexpr int kClerks = 10, kEach = 4;
  absl::Mutex mu;
  std::map<int64_t, std::string> numbered;  // number -> invoice id
  std::vector<v1::IssueInvoiceRequest> issues;
  int duplicates = 0;
  std::vector<std::thread> clerks;
  for (int c = 0; c < kClerks; ++c) {
    clerks.emplace_back([&, c] {
      auto stub = v1::BillingService::NewStub(testing::RoundRobinChannel(addresses_));
      for (int i = 0; i < kEach; ++i) {
        v1::Invoice draft;
        grpc::Status s = stub->CreateInvoice(
            CallContext(clerk_).get(), Draft(absl::StrCat("draft-", c, "-", i), 1000 + i), &draft);
        if (!s.ok()) {
          ADD_FAILURE() << "CreateInvoice: " << s.error_code() << " " << s.error_message();
          continue;
        }
        v1::IssueInvoiceRequest issue;
        issue.set_request_id(absl::StrCat("issue-", c, "-", i));
        issue.set_id(draft.id());
        issue.set_etag(draft.etag());
        v1::Invoice issued;
        s = stub->IssueInvoice(CallContext(clerk_).get(), issue, &issued);
        if (!s.ok()) {
          ADD_FAILURE() << "IssueInvoice: " << s.error_code() << " " << s.error_message();
          continue;
        }
        absl::MutexLock lock(&mu);
        if (!numbered.emplace(issued.number(), issued.id()).second) ++duplicates;
        issues.push_back(issue);
      }
    });
  }
  for (std::thread& t : clerks) t.join();
  EXPECT_EQ(duplicates, 0);
  ASSERT_EQ(numbered.size(), static_cast<size_t>(kClerks * kEach));
  EXPECT_EQ(numbered.begin()->first, 1);
  EXPECT_EQ(numbered.rbegin()->first, kClerks * kEach);

  // An issue sent again (same request_id) to each replica is the same issue: the same number.
  std::map<std::string, int64_t> number_of;
  for (const auto& [number, id] : numbered) number_of[id] = number;
  for (int r = 0; r < kReplicas; ++r) {
    for (size_t i = static_cast<size_t>(r); i < issues.size(); i += 7) {
      v1::Invoice again;
      grpc::Status s = direct_[r]->IssueInvoice(CallContext(clerk_).get(), issues[i], &again);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(again.number(), number_of[issues[i].id()]) << "replica " << r;
    }
  }

  // Every replica lists the same issued invoices.
  for (int r = 0; r < kReplicas; ++r) {
    v1::ListInvoicesRequest list;
    list.set_clinic_id(clinic_);
    list.set_page_size(100);
    v1::ListInvoicesResponse listed;
    grpc::Status s = direct_[r]->ListInvoices(CallContext(clerk_).get(), list, &listed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    std::set<int64_t> numbers;
    for (const v1::Invoice& invoice : listed.invoices()) {
      EXPECT_EQ(invoice.status(), v1::INVOICE_ISSUED);
      numbers.insert(invoice.number());
    }
    EXPECT_EQ(numbers.size(), static_cast<size_t>(kClerks * kEach)) << "replica " << r;
  }
}

}  // namespace
}  // namespace smp::billing
