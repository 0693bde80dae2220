#include "services/inventory/stock_queries.h"

#include "services/inventory/inventory_test_env.h"
#include "services/inventory/issuing.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class StockQueriesTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    gloves_ = CreateProduct(ConsumableSpec());
    gloves_lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 5, absl::CivilDay(2027, 3, 20)));
    needle_ = CreateProduct(NeedleSpec());
    needle_lot_ = Receive(
        Receipt(clinic_a_, needle_.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"}));
  }
  StockQueries queries() { return StockQueries(db_.get(), &appointments_); }
  // Issues needle `serial` at clinic A to a new appointment; its id (refusals are ignored).
  std::string IssueNeedle(const std::string& serial) {
    v1::IssueToProcedureRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic_a_);
    req.set_appointment_id(appointments_.Add(clinic_a_));
    req.add_lines()->set_serial(serial);
    Issuing(db_.get(), &appointments_, nullptr)
        .Issue(Technician(clinic_a_, "IssueToProcedure"), req)
        .IgnoreError();
    return req.appointment_id();
  }

  v1::Product gloves_, needle_;
  v1::Lot gloves_lot_, needle_lot_;
};

TEST_F(StockQueriesTest, StockLevelsShowExpiryInTheClinicsCalendar) {
  v1::ListStockRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_product_id(gloves_.id());
  ASSERT_OK_AND_ASSIGN(v1::ListStockResponse now,
                       queries().ListStock(Staff(clinic_a_, "ListStock"), req));
  ASSERT_EQ(now.levels_size(), 1);
  EXPECT_EQ(now.levels(0).available(), 5);
  EXPECT_FALSE(now.levels(0).expired());
  const Call later = smp::testing::CallAs(
      smp::testing::StaffOf({common::v1::ROLE_INVENTORY_STAFF}, {clinic_a_}),
      absl::FromCivil(absl::CivilSecond(2027, 3, 21, 0, 30, 0), absl::UTCTimeZone()), "ListStock");
  ASSERT_OK_AND_ASSIGN(v1::ListStockResponse expired, queries().ListStock(later, req));
  EXPECT_TRUE(expired.levels(0).expired());
  req.set_product_id("not an id");
  EXPECT_THAT(queries().ListStock(Staff(clinic_a_, "ListStock"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product_id")));
  req.clear_product_id();
  EXPECT_EQ(ErrorReason(queries().ListStock(Staff(clinic_b_, "ListStock"), req).status()),
            reason::kOutsideClinicScope);
}

TEST_F(StockQueriesTest, ExpiringWindowsCountTheClinicsLocalDays) {
  // Clinic B is in Auckland (NZDT, UTC+13, until April): at 2027-03-10 12:00 UTC it is already
  // 11 March 01:00 there.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::ClinicInventorySettings auckland;
    auckland.set_clinic_id(clinic_b_);
    auckland.set_time_zone("Pacific/Auckland");
    return InventoryStore().PutSettings(txn, auckland, 1, now_).status();
  }));
  const v1::Lot tomorrow =
      Receive(Receipt(clinic_b_, gloves_.id(), "G-NZ-1", 3, absl::CivilDay(2027, 3, 12)));
  const v1::Lot later =
      Receive(Receipt(clinic_b_, gloves_.id(), "G-NZ-2", 3, absl::CivilDay(2027, 3, 14)));
  v1::ListExpiringRequest req;
  req.set_clinic_id(clinic_b_);
  req.set_within_days(1);
  // "Within 1 day" of Auckland's 11 March includes the 12th; a UTC day (10 March) would stop at
  // the 11th and miss it.
  ASSERT_OK_AND_ASSIGN(v1::ListExpiringResponse soon,
                       queries().ListExpiring(Staff(clinic_b_, "ListExpiring"), req));
  ASSERT_EQ(soon.levels_size(), 1);
  EXPECT_EQ(soon.levels(0).lot_id(), tomorrow.id());
  EXPECT_EQ(soon.levels(0).available(), 3);
  EXPECT_FALSE(soon.levels(0).expired());
  req.set_within_days(4);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListExpiringResponse page1,
                       queries().ListExpiring(Staff(clinic_b_, "ListExpiring"), req));
  ASSERT_EQ(page1.levels_size(), 1);
  EXPECT_EQ(page1.levels(0).lot_id(), tomorrow.id());
  req.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListExpiringResponse page2,
                       queries().ListExpiring(Staff(clinic_b_, "ListExpiring"), req));
  ASSERT_EQ(page2.levels_size(), 1);
  EXPECT_EQ(page2.levels(0).lot_id(), later.id());
  EXPECT_TRUE(page2.next_page_token().empty());
  // Clinic A (London, still 10 March) has gloves expiring on the 20th: not within 4 days.
  v1::ListExpiringRequest london;
  london.set_clinic_id(clinic_a_);
  london.set_within_days(4);
  ASSERT_OK_AND_ASSIGN(v1::ListExpiringResponse none,
                       queries().ListExpiring(Staff(clinic_a_, "ListExpiring"), london));
  EXPECT_EQ(none.levels_size(), 0);
  london.set_within_days(10);
  ASSERT_OK_AND_ASSIGN(v1::ListExpiringResponse gloves,
                       queries().ListExpiring(Staff(clinic_a_, "ListExpiring"), london));
  ASSERT_EQ(gloves.levels_size(), 1);
  EXPECT_EQ(gloves.levels(0).lot_id(), gloves_lot_.id());

  london.set_within_days(366);
  EXPECT_THAT(queries().ListExpiring(Staff(clinic_a_, "ListExpiring"), london).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("within_days")));
  london.set_within_days(1);
  EXPECT_EQ(ErrorReason(queries().ListExpiring(Staff(clinic_b_, "ListExpiring"), london).status()),
            reason::kOutsideClinicScope);
}

TEST_F(StockQueriesTest, StockLevelsPage) {
  v1::ListStockRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListStockResponse first,
                       queries().ListStock(Staff(clinic_a_, "ListStock"), req));
  ASSERT_EQ(first.levels_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListStockResponse second,
                       queries().ListStock(Staff(clinic_a_, "ListStock"), req));
  ASSERT_EQ(second.levels_size(), 1);
  EXPECT_NE(second.levels(0).lot_id(), first.levels(0).lot_id());
  EXPECT_TRUE(second.next_page_token().empty());
  req.set_page_size(-1);
  EXPECT_THAT(queries().ListStock(Staff(clinic_a_, "ListStock"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(StockQueriesTest, TheLedgerPages) {
  v1::ListLedgerEntriesRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListLedgerEntriesResponse first,
                       queries().ListLedger(Staff(clinic_a_, "ListLedgerEntries"), req));
  ASSERT_EQ(first.entries_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListLedgerEntriesResponse second,
                       queries().ListLedger(Staff(clinic_a_, "ListLedgerEntries"), req));
  ASSERT_EQ(second.entries_size(), 1);
  EXPECT_NE(second.entries(0).id(), first.entries(0).id());
  EXPECT_TRUE(second.next_page_token().empty());
  // A token of another query is refused.
  req.set_lot_id(gloves_lot_.id());
  EXPECT_THAT(queries().ListLedger(Staff(clinic_a_, "ListLedgerEntries"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(StockQueriesTest, LotsAreChainWideUnitsAreScoped) {
  v1::GetLotRequest lot;
  lot.set_id(needle_lot_.id());
  ASSERT_OK_AND_ASSIGN(v1::Lot read, queries().GetLot(Staff(clinic_b_, "GetLot"), lot));
  EXPECT_EQ(read.lot_number(), "N-1");
  v1::GetSerialUnitRequest unit;
  unit.set_serial("SN-1");
  ASSERT_OK_AND_ASSIGN(v1::SerialUnit sn,
                       queries().GetUnit(Staff(clinic_a_, "GetSerialUnit"), unit));
  EXPECT_EQ(sn.state(), v1::UNIT_STATE_IN_STOCK);
  const absl::Status s = queries().GetUnit(Staff(clinic_b_, "GetSerialUnit"), unit).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
  unit.set_serial("SN-404");
  EXPECT_THAT(queries().GetUnit(Staff(clinic_a_, "GetSerialUnit"), unit).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StockQueriesTest, ReuseAttemptsAreListedForTheirClinic) {
  const std::string first = IssueNeedle("SN-1");
  const std::string second = IssueNeedle("SN-1");  // refused: a reuse attempt
  v1::ListReuseAttemptsRequest req;
  req.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ListReuseAttemptsResponse out,
                       queries().ListReuseAttempts(Staff(clinic_a_, "ListReuseAttempts"), req));
  ASSERT_EQ(out.attempts_size(), 1);
  EXPECT_EQ(out.attempts(0).serial(), "SN-1");
  EXPECT_EQ(out.attempts(0).appointment_id(), second);
  EXPECT_EQ(out.attempts(0).first_appointment_id(), first);
  EXPECT_EQ(
      ErrorReason(queries().ListReuseAttempts(Staff(clinic_b_, "ListReuseAttempts"), req).status()),
      reason::kOutsideClinicScope);
}

TEST_F(StockQueriesTest, TheDayIsReconciledWithScheduling) {
  const std::string unrecorded = IssueNeedle("SN-1");
  const std::string recorded = IssueNeedle("SN-2");
  appointments_.procedures.push_back(
      ProcedureAppointment{recorded, clinic_a_, "", scheduling::v1::APPOINTMENT_TYPE_UNSPECIFIED,
                           scheduling::v1::FULFILLED, now_});
  v1::ReconcileDayRequest req;
  req.set_clinic_id(clinic_a_);
  *req.mutable_date() = ToLocalDate(absl::CivilDay(2027, 3, 10));
  ASSERT_OK_AND_ASSIGN(v1::ReconcileDayResponse out,
                       queries().Reconcile(Staff(clinic_a_, "ReconcileDay"), req));
  EXPECT_EQ(out.needle_units_issued(), 2);
  EXPECT_EQ(out.procedures_recorded(), 1);
  ASSERT_EQ(out.findings_size(), 1);
  EXPECT_EQ(out.findings(0).appointment_id(), unrecorded);

  req.mutable_date()->set_year(1899);
  EXPECT_THAT(queries().Reconcile(Staff(clinic_a_, "ReconcileDay"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("date")));
  *req.mutable_date() = ToLocalDate(absl::CivilDay(2027, 3, 10));
  appointments_.down = true;
  EXPECT_THAT(queries().Reconcile(Staff(clinic_a_, "ReconcileDay"), req).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace smp::inventory
