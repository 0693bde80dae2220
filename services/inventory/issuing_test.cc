#include "services/inventory/issuing.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/inventory/bottles.h"
#include "services/inventory/inventory_reasons.h"
#include "services/inventory/inventory_test_env.h"
#include "services/inventory/recalls.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class IssuingTest : public InventoryUnitTest {
 protected:
  void SetUp() override {
    InventoryUnitTest::SetUp();
    needle_ = CreateProduct(NeedleSpec());
    gloves_ = CreateProduct(ConsumableSpec());
    needle_lot_ = Receive(
        Receipt(clinic_a_, needle_.id(), "N-1", 2, absl::CivilDay(2028, 1, 31), {"SN-1", "SN-2"}));
    gloves_lot_ = Receive(Receipt(clinic_a_, gloves_.id(), "G-1", 10, absl::CivilDay(2027, 3, 20)));
  }

  Issuing issuing() {
    return Issuing(db_.get(), &appointments_, [this] { ++events_committed_; });
  }
  v1::IssueToProcedureRequest Issue(const std::string& clinic) {
    v1::IssueToProcedureRequest req;
    req.set_request_id(NewId());
    req.set_clinic_id(clinic);
    req.set_appointment_id(appointments_.Add(clinic));
    return req;
  }
  int ReuseAttempts(const std::string& clinic) {
    int n = 0;
    EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      PageRequest page;
      ASSIGN_OR_RETURN(Page<v1::ReuseAttempt> attempts,
                       InventoryStore().ListReuseAttempts(txn, clinic, page));
      n = static_cast<int>(attempts.items.size());
      return absl::OkStatus();
    }));
    return n;
  }

  v1::Product needle_, gloves_;
  v1::Lot needle_lot_, gloves_lot_;
  int events_committed_ = 0;
};

TEST_F(IssuingTest, IssuesUnitsQuantitiesAndBottlesOnce) {
  const v1::Product pigment = CreateProduct(PigmentSpec());
  const v1::Lot pigment_lot = Receive(Receipt(clinic_a_, pigment.id(), "P-1", 2));
  v1::OpenBottleRequest open;
  open.set_request_id(NewId());
  open.set_clinic_id(clinic_a_);
  open.set_lot_id(pigment_lot.id());
  ASSERT_OK_AND_ASSIGN(v1::OpenBottleResponse bottle,
                       Bottles(db_.get()).Open(Staff(clinic_a_, "OpenBottle"), open));

  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->set_serial("SN-1");
  req.add_lines()->mutable_lot_quantity()->set_lot_id(gloves_lot_.id());
  req.mutable_lines(1)->mutable_lot_quantity()->set_quantity(4);
  req.add_lines()->set_bottle_id(bottle.bottle().id());
  const Call call = Technician(clinic_a_, "IssueToProcedure");
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse out, issuing().Issue(call, req));
  ASSERT_EQ(out.items_size(), 3);
  EXPECT_EQ(out.items(0).serial(), "SN-1");
  EXPECT_EQ(out.items(1).quantity(), 4);
  EXPECT_EQ(out.items(2).bottle_id(), bottle.bottle().id());
  EXPECT_EQ(out.entries_size(), 2);  // the needle lot and the gloves lot
  EXPECT_EQ(out.bottles_size(), 1);
  // The same request again answers the same issue and takes nothing more.
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse replay, issuing().Issue(call, req));
  EXPECT_EQ(replay.entries(0).id(), out.entries(0).id());
  EXPECT_EQ(ReuseAttempts(clinic_a_), 0);
}

TEST_F(IssuingTest, RequestsAreValidated) {
  const Call call = Technician(clinic_a_, "IssueToProcedure");
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  EXPECT_THAT(issuing().Issue(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lines")));
  req.add_lines()->set_serial("SN-1");
  req.add_lines()->set_serial("SN-1");
  EXPECT_THAT(issuing().Issue(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lines[1].serial")));
  req = Issue(clinic_a_);
  req.add_lines();
  EXPECT_THAT(issuing().Issue(call, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lines[0]")));
}

TEST_F(IssuingTest, AnotherClinicsCallerIsRefused) {
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->set_serial("SN-1");
  const absl::Status s = issuing().Issue(Technician(clinic_b_, "IssueToProcedure"), req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
}

TEST_F(IssuingTest, AUsedUnitIsRefusedRecordedAndReported) {
  v1::IssueToProcedureRequest first = Issue(clinic_a_);
  first.add_lines()->set_serial("SN-1");
  ASSERT_OK(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), first).status());

  v1::IssueToProcedureRequest again = Issue(clinic_a_);
  again.add_lines()->set_serial("SN-1");
  const absl::Status s = issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), again).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("single use")));
  EXPECT_EQ(ErrorReason(s), reason::kUnitAlreadyUsed);
  EXPECT_EQ(ErrorMetadata(s, "serial"), "SN-1");
  // The caller may see clinic A: the first procedure is named.
  EXPECT_THAT(s.message(), HasSubstr(first.appointment_id()));
  EXPECT_EQ(ReuseAttempts(clinic_a_), 1);
  EXPECT_EQ(events_committed_, 1);  // compliance's incident queued
}

TEST_F(IssuingTest, AUsedUnitDoesNotRevealAnotherClinicsProcedure) {
  v1::IssueToProcedureRequest first = Issue(clinic_a_);
  first.add_lines()->set_serial("SN-2");
  ASSERT_OK(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), first).status());

  // Clinic B's technician presents the same unit at clinic B.
  v1::IssueToProcedureRequest elsewhere = Issue(clinic_b_);
  elsewhere.add_lines()->set_serial("SN-2");
  const absl::Status s =
      issuing().Issue(Technician(clinic_b_, "IssueToProcedure"), elsewhere).status();
  EXPECT_EQ(ErrorReason(s), reason::kUnitAlreadyUsed);
  EXPECT_EQ(ErrorMetadata(s, "serial"), "SN-2");
  EXPECT_THAT(s.message(), Not(HasSubstr(first.appointment_id())));
  EXPECT_EQ(ErrorMetadata(s, "appointment_id"), "");
  EXPECT_EQ(ReuseAttempts(clinic_b_), 1);
  // Issue 13: nor does the reuse attempt listed to clinic B name clinic A's procedure.
  EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    PageRequest page;
    ASSIGN_OR_RETURN(Page<v1::ReuseAttempt> attempts,
                     InventoryStore().ListReuseAttempts(txn, clinic_b_, page));
    EXPECT_EQ(attempts.items.size(), 1u);
    for (const v1::ReuseAttempt& a : attempts.items) {
      EXPECT_EQ(a.first_appointment_id(), "");
      EXPECT_EQ(a.serial(), "SN-2");
    }
    return absl::OkStatus();
  }));
}

// Issue 14 item 9: a serial typed in another case is the same unit, so its reuse is recorded.
TEST_F(IssuingTest, AnySpellingOfAUsedSerialIsAReuseAttempt) {
  v1::IssueToProcedureRequest first = Issue(clinic_a_);
  first.add_lines()->set_serial("SN-1");
  ASSERT_OK(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), first).status());
  v1::IssueToProcedureRequest again = Issue(clinic_a_);
  again.add_lines()->set_serial(" sn-1");
  const absl::Status s = issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), again).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("single use")));
  EXPECT_EQ(ErrorMetadata(s, "serial"), "SN-1");
  EXPECT_EQ(ReuseAttempts(clinic_a_), 1);
}

// Issue 13: where the procedure is, is scheduling's to say, checked before anything is issued.
TEST_F(IssuingTest, TheAppointmentMustBeAtTheRequestsClinicInScheduling) {
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.set_appointment_id(appointments_.Add(clinic_b_));  // clinic B's procedure
  req.add_lines()->set_serial("SN-1");
  const absl::Status s = issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);
  const Call admin = Admin("IssueToProcedure", common::v1::PERMISSION_INVENTORY_ISSUE);
  EXPECT_THAT(issuing().Issue(admin, req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
  req.set_appointment_id(NewId());  // unknown to scheduling
  EXPECT_THAT(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("appointment_id")));
  req.set_appointment_id(appointments_.Add(clinic_a_, "patient-1"));
  req.set_patient_id("patient-2");
  EXPECT_THAT(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("patient_id")));
  req.clear_patient_id();
  appointments_.down = true;
  EXPECT_THAT(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  appointments_.down = false;
  // Nothing was drawn by the refusals; the patient comes from scheduling.
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse out,
                       issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req));
  EXPECT_EQ(out.entries(0).patient_id(), "patient-1");
  EXPECT_EQ(ReuseAttempts(clinic_a_), 0);
}

// Issue 14 item 8: the supply issue of a start is keyed by (appointment, start attempt), replayed
// for any technician, refused for other lines, and returned when the start fails.
TEST_F(IssuingTest, AStartIssueReplaysForAnyTechnicianAndIsReturnedWhenTheStartFails) {
  const std::string attempt = NewId();
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.set_request_id("start-1");
  req.set_start_attempt_id(attempt);
  req.add_lines()->set_serial("SN-1");
  req.add_lines()->mutable_lot_quantity()->set_lot_id(gloves_lot_.id());
  req.mutable_lines(1)->mutable_lot_quantity()->set_quantity(2);
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse first,
                       issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req));
  const Call second_tech = smp::testing::CallAs(
      smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic_a_}, "tech-2"), now_,
      "IssueToProcedure");
  req.set_request_id("start-2");
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse replay, issuing().Issue(second_tech, req));
  EXPECT_EQ(replay.entries(0).id(), first.entries(0).id());

  v1::IssueToProcedureRequest other_lines = req;
  other_lines.mutable_lines(0)->set_serial("SN-2");
  absl::Status s = issuing().Issue(second_tech, other_lines).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("SN-1")));
  EXPECT_EQ(ErrorReason(s), kSuppliesAlreadyIssuedReason);
  v1::IssueToProcedureRequest other_attempt = other_lines;
  other_attempt.set_start_attempt_id(NewId());
  s = issuing().Issue(second_tech, other_attempt).status();
  EXPECT_EQ(ErrorReason(s), kSuppliesAlreadyIssuedReason);
  EXPECT_EQ(ErrorMetadata(s, "start_attempt_id"), attempt);

  // The start failed: scheduling's outbox returns the issue.
  const Call service =
      smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_SERVICE}, {}, "svc-scheduling"),
                           now_, "ReturnProcedureIssue");
  v1::ReturnProcedureIssueRequest back;
  back.set_request_id("event-1");
  back.set_clinic_id(clinic_a_);
  back.set_appointment_id(req.appointment_id());
  back.set_start_attempt_id(attempt);
  back.set_reason("start failed: the appointment changed meanwhile");
  ASSERT_OK_AND_ASSIGN(v1::ReturnProcedureIssueResponse returned, issuing().Return(service, back));
  EXPECT_EQ(returned.serials_size(), 1);
  ASSERT_EQ(returned.entries_size(), 2);
  for (const v1::LedgerEntry& e : returned.entries()) {
    EXPECT_EQ(e.kind(), v1::LEDGER_ENTRY_KIND_RETURN);
    EXPECT_EQ(e.reason(), back.reason());
    EXPECT_EQ(e.appointment_id(), req.appointment_id());
    EXPECT_GT(e.quantity_delta(), 0);
  }
  ASSERT_OK_AND_ASSIGN(v1::ReturnProcedureIssueResponse again, issuing().Return(service, back));
  EXPECT_EQ(again.entries(0).id(), returned.entries(0).id());
  back.set_request_id("event-2");
  ASSERT_OK_AND_ASSIGN(v1::ReturnProcedureIssueResponse late, issuing().Return(service, back));
  EXPECT_EQ(late.entries_size(), 0);  // already returned: nothing moves twice
  EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto units, InventoryStore().FindUnits(txn, "SN-1", ""));
    EXPECT_EQ(units.at(0).state(), v1::UNIT_STATE_IN_STOCK);
    EXPECT_EQ(units.at(0).appointment_id(), "");
    ASSIGN_OR_RETURN(int64_t gloves,
                     InventoryStore().Balance(
                         txn, StockKey{clinic_a_, gloves_lot_.id(), v1::STOCK_BUCKET_AVAILABLE}));
    EXPECT_EQ(gloves, 10);
    ASSIGN_OR_RETURN(auto uses, InventoryStore().LotUses(txn, gloves_lot_.id()));
    EXPECT_TRUE(uses.empty());  // the procedure never used the lot
    return absl::OkStatus();
  }));

  // That attempt is spent; the appointment's next start draws afresh.
  s = issuing().Issue(second_tech, req).status();
  EXPECT_EQ(ErrorReason(s), kStartIssueReturnedReason);
  req.set_start_attempt_id(NewId());
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse restarted, issuing().Issue(second_tech, req));
  EXPECT_EQ(restarted.items(0).serial(), "SN-1");
}

// A start that failed before its issue reached inventory voids the attempt: a late issue of it
// draws nothing.
TEST_F(IssuingTest, AReturnBeforeTheIssueVoidsTheAttempt) {
  const Call service =
      smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_SERVICE}, {}, "svc-scheduling"),
                           now_, "ReturnProcedureIssue");
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.set_start_attempt_id(NewId());
  req.add_lines()->set_serial("SN-1");
  v1::ReturnProcedureIssueRequest back;
  back.set_request_id(NewId());
  back.set_clinic_id(clinic_a_);
  back.set_appointment_id(req.appointment_id());
  back.set_start_attempt_id(req.start_attempt_id());
  back.set_reason("the start timed out");
  ASSERT_OK_AND_ASSIGN(v1::ReturnProcedureIssueResponse returned, issuing().Return(service, back));
  EXPECT_EQ(returned.entries_size(), 0);
  const absl::Status s = issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("returned")));
  EXPECT_EQ(ErrorReason(s), kStartIssueReturnedReason);
  back.clear_reason();
  EXPECT_THAT(issuing().Return(service, back).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
}

TEST_F(IssuingTest, AnExpiredLotIsRefusedAsExpired) {
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->mutable_lot_quantity()->set_lot_id(gloves_lot_.id());
  req.mutable_lines(0)->mutable_lot_quantity()->set_quantity(1);
  // The gloves lot expires on 2027-03-20; the procedure is on the 21st.
  const Call later =
      smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic_a_}),
                           now_ + absl::Hours(24 * 11), "IssueToProcedure");
  const absl::Status s = issuing().Issue(later, req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired")));
  EXPECT_EQ(ErrorReason(s), reason::kExpired);
  EXPECT_EQ(ErrorMetadata(s, "lot_id"), gloves_lot_.id());
  EXPECT_EQ(events_committed_, 1);
}

TEST_F(IssuingTest, ARecalledLotAndItsUnitsAreRefusedAsRecalled) {
  v1::RecallLotRequest recall;
  recall.set_request_id(NewId());
  recall.set_lot_id(needle_lot_.id());
  recall.set_reason("maker's notice");
  ASSERT_OK(Recalls(db_.get(), nullptr).Recall(Admin("RecallLot"), recall).status());

  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->set_serial("SN-1");
  const absl::Status s = issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("quarantined")));
  EXPECT_EQ(ErrorReason(s), reason::kRecalled);
  EXPECT_EQ(ErrorMetadata(s, "serial"), "SN-1");
  EXPECT_EQ(ReuseAttempts(clinic_a_), 0);
  EXPECT_EQ(events_committed_, 1);
}

// A serial two products share needs its product even when only one of the two units is in stock
// here; a unit whose issue is refused (its lot expired) stays in stock, not issued to anyone.
TEST_F(IssuingTest, AnAmbiguousSerialNeedsItsProductAndARefusalLeavesTheUnitInStock) {
  v1::Product other = NeedleSpec();
  other.set_name("5RL 0.35");
  other = CreateProduct(other);
  Receive(Receipt(clinic_b_, other.id(), "O-1", 1, absl::CivilDay(2028, 1, 31), {"SN-1"}));
  const Call call = Technician(clinic_a_, "IssueToProcedure");

  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->set_serial("SN-1");
  EXPECT_THAT(issuing().Issue(call, req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("lines[0].product_id"), HasSubstr(other.id()))));
  req.mutable_lines(0)->set_product_id(needle_.id());
  ASSERT_OK_AND_ASSIGN(v1::IssueToProcedureResponse issued, issuing().Issue(call, req));
  ASSERT_EQ(issued.items_size(), 1);
  EXPECT_EQ(issued.items(0).product_id(), needle_.id());
  EXPECT_EQ(issued.items(0).lot_number(), "N-1");

  // SN-2's lot expires 2028-01-31: a procedure after that is refused and SN-2 stays in stock.
  const Call too_late = smp::testing::CallAs(
      smp::testing::StaffOf({common::v1::ROLE_TECHNICIAN}, {clinic_a_}),
      absl::FromCivil(absl::CivilSecond(2028, 2, 2, 12, 0, 0), absl::UTCTimeZone()),
      "IssueToProcedure");
  v1::IssueToProcedureRequest late = Issue(clinic_a_);
  late.add_lines()->set_serial("SN-2");
  EXPECT_THAT(issuing().Issue(too_late, late),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired")));
  EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::SerialUnit> units,
                     InventoryStore().FindUnits(txn, "SN-2", needle_.id()));
    EXPECT_EQ(units.size(), 1u);
    if (!units.empty()) {
      EXPECT_EQ(units[0].state(), v1::UNIT_STATE_IN_STOCK);
      EXPECT_EQ(units[0].appointment_id(), "");
    }
    return absl::OkStatus();
  }));
}

TEST_F(IssuingTest, ShortStockIsRefusedNamingStockElsewhere) {
  Receive(Receipt(clinic_b_, gloves_.id(), "G-1", 5, absl::CivilDay(2027, 3, 20)));
  v1::IssueToProcedureRequest req = Issue(clinic_a_);
  req.add_lines()->mutable_lot_quantity()->set_lot_id(gloves_lot_.id());
  req.mutable_lines(0)->mutable_lot_quantity()->set_quantity(11);
  EXPECT_THAT(issuing().Issue(Technician(clinic_a_, "IssueToProcedure"), req).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("other clinics")));
  EXPECT_EQ(events_committed_, 0);
}

// Concurrent issues from one lot all succeed. Each reads the lot's ledger and moves its stock row:
// on PostgreSQL, run side by side, they failed each other's SERIALIZABLE commits, and now and then
// one ran out of retries (ABORTED; 1 in 200 calls of the benchmark's issue scenario).
TEST_F(IssuingTest, ConcurrentIssuesFromOneLotAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  constexpr int kUnits = 4;  // needles per procedure, as the benchmark issues them
  std::vector<std::string> serials;
  for (int i = 0; i < kThreads * kEach * kUnits; ++i) serials.push_back(absl::StrCat("CN-", i));
  const v1::Lot lot = Receive(Receipt(clinic_a_, needle_.id(), "N-9", std::ssize(serials),
                                      absl::CivilDay(2028, 1, 31), serials));
  std::vector<v1::IssueToProcedureRequest> requests;
  for (int i = 0; i < kThreads * kEach; ++i) {
    v1::IssueToProcedureRequest req = Issue(clinic_a_);
    for (int u = 0; u < kUnits; ++u) req.add_lines()->set_serial(serials[i * kUnits + u]);
    requests.push_back(std::move(req));
  }
  const Call call = Technician(clinic_a_, "IssueToProcedure");
  const Issuing unit = issuing();
  absl::Mutex mu;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        absl::Status status = unit.Issue(call, requests[t * kEach + k]).status();
        if (status.ok()) continue;
        absl::MutexLock lock(&mu);
        errors.push_back(status.ToString());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(
        int64_t left,
        InventoryStore().Balance(txn, StockKey{clinic_a_, lot.id(), v1::STOCK_BUCKET_AVAILABLE}));
    EXPECT_EQ(left, 0);
    return absl::OkStatus();
  }));
}

TEST_F(IssuingTest, SuggestsFirstExpiryFirst) {
  Receive(Receipt(clinic_a_, gloves_.id(), "G-2", 10, absl::CivilDay(2027, 12, 31)));
  v1::SuggestLotsRequest req;
  req.set_clinic_id(clinic_a_);
  req.set_product_id(gloves_.id());
  req.set_quantity(12);
  *req.mutable_procedure_date() = ToLocalDate(absl::CivilDay(2027, 3, 12));
  ASSERT_OK_AND_ASSIGN(v1::SuggestLotsResponse out,
                       issuing().Suggest(Technician(clinic_a_, "SuggestLots"), req));
  ASSERT_EQ(out.suggestions_size(), 2);
  EXPECT_EQ(out.suggestions(0).lot().lot_number(), "G-1");
  EXPECT_EQ(out.suggestions(0).quantity(), 10);
  EXPECT_EQ(out.quantity_covered(), 12);
  *req.mutable_procedure_date() = ToLocalDate(absl::CivilDay(2027, 3, 1));
  EXPECT_THAT(issuing().Suggest(Technician(clinic_a_, "SuggestLots"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("procedure_date")));
  EXPECT_EQ(ErrorReason(issuing().Suggest(Technician(clinic_b_, "SuggestLots"), req).status()),
            reason::kOutsideClinicScope);
}

}  // namespace
}  // namespace smp::inventory
