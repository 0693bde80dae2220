#include "services/scheduling/appointments.h"

#include "absl/container/flat_hash_map.h"
#include "common/db/testing/recording_database.h"
#include "common/outbox/outbox.h"
#include "services/scheduling/billing_events.h"
#include "services/scheduling/compliance_deliverer.h"
#include "services/scheduling/scheduling_fakes.h"
#include "services/scheduling/scheduling_reasons.h"
#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class AppointmentsTest : public SchedulingTestEnv {
 protected:
  v1::BookAppointmentRequest Booking(const std::string& request_id, absl::Time start,
                                     v1::AppointmentType type = v1::CONSULTATION) const {
    v1::BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic_a_);
    req.set_patient_id(patient_);
    req.set_practitioner_id(practitioner_);
    req.set_type(type);
    *req.mutable_start_time() = ToProtoTimestamp(start);
    return req;
  }

  template <typename Request>
  static Request Step(const std::string& request_id, const v1::Appointment& a) {
    Request req;
    req.set_request_id(request_id);
    req.set_id(a.id());
    req.set_etag(a.etag());
    return req;
  }

  // A second practitioner working at clinic A, for chair conflicts.
  std::string AddPractitioner() {
    const std::string id = NewIdAt(now_ - absl::Hours(1));
    EXPECT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) { return PutHours(txn, id); }));
    return id;
  }

  // The outbox's events, delivered to recording deliverers.
  std::vector<OutboxEvent> Outbox() {
    RecordingDeliverer compliance, billing, inventory;
    FakeClock clock(now_ + absl::Hours(24 * 30));
    OutboxDispatcher dispatcher(db_.get(), clock, RetryPolicy{},
                                {{kComplianceDestination, &compliance},
                                 {kBillingDestination, &billing},
                                 {kInventoryDestination, &inventory}});
    EXPECT_OK(dispatcher.RunOnce().status());
    std::vector<OutboxEvent> all = compliance.events;
    all.insert(all.end(), billing.events.begin(), billing.events.end());
    all.insert(all.end(), inventory.events.begin(), inventory.events.end());
    return all;
  }

  int ListedOn(int days) {
    v1::ListAppointmentsRequest list;
    list.set_clinic_id(clinic_a_);
    *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(days, 0));
    *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(days + 1, 0));
    absl::StatusOr<v1::ListAppointmentsResponse> listed =
        appointments_.List(Desk("ListAppointments"), list);
    EXPECT_OK(listed.status());
    return listed.ok() ? listed->appointments_size() : -1;
  }

  FakeComplianceGate gate_;
  FakeSupplyIssuer supplies_;
  ChangeNotifier notifier_;
  int wakes_ = 0;
  AppointmentBook book_{db_.get(), &store_, &notifier_, [this] { ++wakes_; }};
  // As the service runs: a booking's pre-check reads the slot rules from memory.
  SlotRulesCache rules_{&store_};
  Appointments appointments_{db_.get(), &store_, &book_, &gate_, &supplies_, nullptr, &rules_};
};

TEST_F(AppointmentsTest, BooksAConsultationAndReplaysByRequestId) {
  const v1::BookAppointmentRequest req = Booking("book-1", At(1, 10));
  ASSERT_OK_AND_ASSIGN(v1::Appointment a, appointments_.Book(Desk("BookAppointment"), req));
  EXPECT_EQ(a.status(), v1::BOOKED);
  EXPECT_EQ(a.chair_id(), chair_a_);  // the free chair was chosen
  EXPECT_EQ(FromProtoTimestamp(a.end_time()) - FromProtoTimestamp(a.start_time()),
            absl::Minutes(60));
  EXPECT_EQ(a.change_sequence(), 1);
  EXPECT_EQ(a.etag(), "v1");
  EXPECT_TRUE(gate_.queries.empty());  // consultations need no compliance check

  ASSERT_OK_AND_ASSIGN(v1::Appointment again, appointments_.Book(Desk("BookAppointment"), req));
  EXPECT_EQ(again.SerializeAsString(), a.SerializeAsString());
  v1::BookAppointmentRequest other = Booking("book-1", At(1, 14));
  EXPECT_EQ(ErrorReason(appointments_.Book(Desk("BookAppointment"), other).status()),
            reason::kRequestIdReused);
  EXPECT_EQ(ListedOn(1), 1);

  v1::GetAppointmentRequest get;
  get.set_id(a.id());
  ASSERT_OK_AND_ASSIGN(v1::Appointment read, appointments_.Get(Desk("GetAppointment"), get));
  EXPECT_EQ(read.etag(), a.etag());
}

TEST_F(AppointmentsTest, RulesInMemoryNeverDecideABookingTheDatabaseWouldNot) {
  const auto booking = [&](const std::string& id, absl::Time start) {
    v1::BookAppointmentRequest req = Booking(id, start);
    req.set_chair_id(chair_a_);
    return appointments_.Book(Desk("BookAppointment"), req);
  };
  ASSERT_OK(booking("book-1", At(1, 9)).status());  // the rules are now in memory (09:00-18:00)
  const int64_t reads = rules_.reads();

  // Another process narrows the hours to 09:00-12:00. Memory still offers 14:00; the write
  // transaction sees the calendar version moved, checks everything itself and refuses.
  ASSERT_OK(ReplaceHours(9, 12));
  EXPECT_THAT(booking("book-2", At(1, 14)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("working hours")));
  // ... and forgot the clinic: the next booking reads the rules again.
  ASSERT_OK(booking("book-3", At(1, 11)).status());
  EXPECT_GT(rules_.reads(), reads);

  // Widened to 09:00-20:00: memory (09:00-12:00) refuses 19:00, so the write transaction decides,
  // and books it.
  ASSERT_OK(ReplaceHours(9, 20));
  ASSERT_OK_AND_ASSIGN(v1::Appointment evening, booking("book-4", At(1, 19)));
  EXPECT_EQ(evening.status(), v1::BOOKED);
  EXPECT_EQ(ListedOn(1), 3);
}

TEST_F(AppointmentsTest, APatientOutsideTheCallersScopeIsRefusedWithTheRulesInMemory) {
  std::string other_patient;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Patient p, store_.CreatePatient(txn, NewPatient(clinic_b_), now_));
    other_patient = p.id();
    return absl::OkStatus();
  }));
  v1::BookAppointmentRequest first = Booking("book-1", At(1, 9));
  first.set_chair_id(chair_a_);
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), first).status());  // rules in memory now

  // Clinic A's desk may book at clinic A, but not clinic B's patient: the pre-check read nothing,
  // so the write transaction scopes the patient, and books nothing.
  v1::BookAppointmentRequest second = Booking("book-2", At(1, 14));
  second.set_chair_id(chair_a_);
  second.set_patient_id(other_patient);
  absl::StatusOr<v1::Appointment> refused = appointments_.Book(Desk("BookAppointment"), second);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);
  // An unknown patient is NOT_FOUND, as before.
  second.set_request_id("book-3");
  second.set_patient_id(NewIdAt(now_));
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), second),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ListedOn(1), 1);
}

TEST_F(AppointmentsTest, ValidationNamesTheField) {
  v1::BookAppointmentRequest req = Booking("bad-1", At(1, 10));
  req.clear_start_time();
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_time")));
  req = Booking("bad-2", At(1, 10), v1::TREATMENT_SESSION);
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plan_id")));
  req = Booking("bad-3", At(1, 10));
  req.set_chair_id("chair 1");
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chair_id")));
  req = Booking("bad-4", At(1, 10), v1::APPOINTMENT_TYPE_UNSPECIFIED);
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  req = Booking("bad-5", now_ - absl::Hours(1));
  EXPECT_THAT(appointments_.Book(Desk("BookAppointment"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_time")));
  EXPECT_EQ(ListedOn(0) + ListedOn(1), 0);

  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::CONSULTATION);
  *find.mutable_period()->mutable_start_date() = Date(Today());
  *find.mutable_period()->mutable_end_date() = Date(Today() + 62);
  EXPECT_THAT(appointments_.FindAvailability(Desk("FindAvailability"), find),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
}

TEST_F(AppointmentsTest, AnotherClinicsDeskIsRefused) {
  absl::StatusOr<v1::Appointment> refused =
      appointments_.Book(OtherDesk("BookAppointment"), Booking("b-1", At(1, 10)));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);

  ASSERT_OK_AND_ASSIGN(v1::Appointment a,
                       appointments_.Book(Desk("BookAppointment"), Booking("a-1", At(1, 10))));
  v1::GetAppointmentRequest get;
  get.set_id(a.id());
  EXPECT_EQ(ErrorReason(appointments_.Get(OtherDesk("GetAppointment"), get).status()),
            reason::kOutsideClinicScope);
  EXPECT_EQ(ErrorReason(appointments_
                            .CheckIn(OtherDesk("CheckInAppointment"),
                                     Step<v1::CheckInAppointmentRequest>("ci-b", a))
                            .status()),
            reason::kOutsideClinicScope);
  v1::ListAppointmentsRequest list;
  list.set_clinic_id(clinic_a_);
  *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(0, 0));
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(7, 0));
  EXPECT_EQ(ErrorReason(appointments_.List(OtherDesk("ListAppointments"), list).status()),
            reason::kOutsideClinicScope);
}

TEST_F(AppointmentsTest, ATakenSlotSaysWhichResourceHoldsIt) {
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), Booking("first", At(1, 10))).status());
  // The same practitioner at an overlapping time.
  absl::StatusOr<v1::Appointment> clash =
      appointments_.Book(Desk("BookAppointment"), Booking("second", At(1, 10, 30)));
  EXPECT_THAT(clash, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(clash.status()), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(clash.status(), "resource"), "practitioner");
  EXPECT_EQ(ErrorMetadata(clash.status(), "resource_id"), practitioner_);

  // Another practitioner in the only chair, which is taken.
  v1::BookAppointmentRequest chair_clash = Booking("third", At(1, 10));
  chair_clash.set_practitioner_id(AddPractitioner());
  chair_clash.set_chair_id(chair_a_);
  absl::StatusOr<v1::Appointment> taken = appointments_.Book(Desk("BookAppointment"), chair_clash);
  EXPECT_EQ(ErrorReason(taken.status()), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(taken.status(), "resource"), "chair");
  EXPECT_EQ(ErrorMetadata(taken.status(), "resource_id"), chair_a_);

  // Outside working hours is refused without SLOT_TAKEN.
  absl::StatusOr<v1::Appointment> closed =
      appointments_.Book(Desk("BookAppointment"), Booking("night", At(1, 19)));
  EXPECT_THAT(closed, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(closed.status()), "");
  EXPECT_EQ(ListedOn(1), 1);
}

TEST_F(AppointmentsTest, ProceduresPassTheComplianceGate) {
  gate_.verdict = WithErrorInfo(
      absl::FailedPreconditionError("compliance does not allow this procedure: CONSENT_MISSING"),
      reason::kNotEligible, {{"code", "CONSENT_MISSING"}});
  absl::StatusOr<v1::Appointment> refused =
      appointments_.Book(Desk("BookAppointment"), Booking("patch-1", At(1, 10), v1::SAMPLE_PATCH));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kNotEligible);
  ASSERT_EQ(gate_.queries.size(), 1u);
  EXPECT_EQ(gate_.queries[0].date, Today() + 1);
  EXPECT_EQ(gate_.queries[0].at, At(1, 10));  // consent and screening judged at the procedure
  EXPECT_EQ(gate_.queries[0].practitioner_id, practitioner_);
  EXPECT_EQ(ListedOn(1), 0);

  gate_.verdict = absl::UnavailableError("compliance is down");
  EXPECT_THAT(
      appointments_.Book(Desk("BookAppointment"), Booking("patch-2", At(1, 10), v1::SAMPLE_PATCH)),
      StatusIs(absl::StatusCode::kUnavailable));

  gate_.verdict = absl::OkStatus();
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment a,
      appointments_.Book(Desk("BookAppointment"), Booking("patch-3", At(1, 10), v1::SAMPLE_PATCH)));
  EXPECT_EQ(a.type(), v1::SAMPLE_PATCH);
}

// Issue 13: clinic B's desk booking clinic A's patient at clinic B is refused before the compliance
// gate is asked, so its reasons (the patient's consent and screening) never reach that desk.
TEST_F(AppointmentsTest, AnotherClinicsPatientIsRefusedBeforeTheComplianceGate) {
  gate_.verdict = WithErrorInfo(
      absl::FailedPreconditionError("compliance does not allow this procedure: CONTRAINDICATED "
                                    "(keloid-prone skin)"),
      reason::kNotEligible, {{"code", "CONTRAINDICATED"}});
  v1::BookAppointmentRequest req = Booking("leak-1", At(1, 10), v1::SAMPLE_PATCH);
  req.set_clinic_id(clinic_b_);
  absl::StatusOr<v1::Appointment> refused = appointments_.Book(OtherDesk("BookAppointment"), req);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kOutsideClinicScope);
  EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("keloid")));
  EXPECT_TRUE(gate_.queries.empty());
}

TEST_F(AppointmentsTest, AProcedureRunsFromCheckInToCompletion) {
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment a,
      appointments_.Book(Desk("BookAppointment"), Booking("patch", At(0, 10), v1::SAMPLE_PATCH)));
  const Call desk = Later(Desk("CheckInAppointment"), absl::Hours(3));
  ASSERT_OK_AND_ASSIGN(v1::Appointment arrived,
                       appointments_.CheckIn(desk, Step<v1::CheckInAppointmentRequest>("ci", a)));
  EXPECT_EQ(arrived.status(), v1::ARRIVED);
  // The etag the desk read before check-in is stale now.
  absl::StatusOr<v1::Appointment> stale = appointments_.MarkNoShow(
      Later(Desk("MarkNoShow"), absl::Hours(3)), Step<v1::MarkNoShowRequest>("ns", a));
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);

  v1::StartAppointmentRequest start = Step<v1::StartAppointmentRequest>("start", arrived);
  EXPECT_THAT(
      appointments_.Start(Later(Desk("StartAppointment"), absl::Hours(3)), start, "Bearer tech"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("supplies")));
  start.add_supplies()->set_serial("N-0001");
  supplies_.refusal = WithErrorInfo(absl::FailedPreconditionError("supplies: N-0001 was used"),
                                    reason::kUnitAlreadyUsed, {{"serial", "N-0001"}});
  EXPECT_EQ(
      ErrorReason(
          appointments_.Start(Later(Desk("StartAppointment"), absl::Hours(3)), start, "Bearer tech")
              .status()),
      reason::kUnitAlreadyUsed);
  supplies_.refusal = absl::OkStatus();
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment started,
      appointments_.Start(Later(Desk("StartAppointment"), absl::Hours(3)), start, "Bearer tech"));
  EXPECT_EQ(started.status(), v1::IN_PROGRESS);
  ASSERT_EQ(started.supplies_size(), 1);
  EXPECT_EQ(started.supplies(0).serial(), "N-0001");
  EXPECT_EQ(supplies_.authorizations.back(), "Bearer tech");

  // Completing twice in a row is refused the second time (a domain rule, not the etag).
  v1::CompleteAppointmentRequest complete = Step<v1::CompleteAppointmentRequest>("done", started);
  ASSERT_OK_AND_ASSIGN(
      v1::CompleteAppointmentResponse done,
      appointments_.Complete(Later(Desk("CompleteAppointment"), absl::Hours(4)), complete));
  EXPECT_EQ(done.appointment().status(), v1::FULFILLED);
  EXPECT_GT(done.aftercare_size(), 0);
  ASSERT_OK_AND_ASSIGN(
      v1::CompleteAppointmentResponse replay,
      appointments_.Complete(Later(Desk("CompleteAppointment"), absl::Hours(5)), complete));
  EXPECT_EQ(replay.appointment().etag(), done.appointment().etag());
  complete = Step<v1::CompleteAppointmentRequest>("done-again", done.appointment());
  EXPECT_THAT(appointments_.Complete(Later(Desk("CompleteAppointment"), absl::Hours(5)), complete),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // Compliance's record and billing's charge, once each.
  std::vector<std::string> kinds;
  for (const OutboxEvent& e : Outbox()) kinds.push_back(e.kind);
  EXPECT_THAT(kinds, ::testing::UnorderedElementsAre(kRecordProcedureKind, kChargeEventKind));
  EXPECT_GE(wakes_, 1);
}

TEST_F(AppointmentsTest, AConsultationCompletesWithoutAftercareOrAProcedureRecord) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment a,
                       appointments_.Book(Desk("BookAppointment"), Booking("talk", At(0, 10))));
  const Call later = Later(Desk("CheckInAppointment"), absl::Hours(3));
  ASSERT_OK_AND_ASSIGN(v1::Appointment arrived,
                       appointments_.CheckIn(later, Step<v1::CheckInAppointmentRequest>("ci", a)));
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment started,
      appointments_.Start(Later(Desk("StartAppointment"), absl::Hours(3)),
                          Step<v1::StartAppointmentRequest>("start", arrived), "Bearer tech"));
  ASSERT_OK_AND_ASSIGN(
      v1::CompleteAppointmentResponse done,
      appointments_.Complete(Later(Desk("CompleteAppointment"), absl::Hours(4)),
                             Step<v1::CompleteAppointmentRequest>("done", started)));
  EXPECT_EQ(done.appointment().status(), v1::FULFILLED);
  // A consultation is talk: no scalp to care for afterwards, nothing for compliance to record.
  EXPECT_EQ(done.aftercare_size(), 0);
  for (const OutboxEvent& e : Outbox()) EXPECT_NE(e.kind, kRecordProcedureKind);
}

TEST_F(AppointmentsTest, CompletingTheLastSessionCompletesThePlan) {
  std::string plan_id;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::TreatmentPlan plan;
    plan.set_patient_id(patient_);
    plan.set_clinic_id(clinic_a_);
    plan.set_area(v1::HAIRLINE);
    plan.set_planned_sessions(2);
    plan.set_status(v1::PLAN_ACTIVE);
    plan.mutable_min_interval()->set_seconds(10 * 24 * 3600);
    plan.mutable_max_interval()->set_seconds(42 * 24 * 3600);
    ASSIGN_OR_RETURN(v1::TreatmentPlan saved, store_.CreatePlan(txn, plan, now_));
    plan_id = saved.id();
    return absl::OkStatus();
  }));
  // Each session: booked, checked in, started and completed on its day.
  auto run_session = [&](int n, int days) -> absl::StatusOr<v1::CompleteAppointmentResponse> {
    v1::BookAppointmentRequest book =
        Booking(absl::StrCat("s", n), At(days, 9), v1::TREATMENT_SESSION);
    book.set_plan_id(plan_id);
    ASSIGN_OR_RETURN(v1::Appointment a, appointments_.Book(Desk("BookAppointment"), book));
    EXPECT_EQ(a.session_number(), n);
    const Call later = Later(Desk("X"), absl::Hours(24 * days + 3));
    Call step = later;
    step.method = "CheckInAppointment";
    ASSIGN_OR_RETURN(a, appointments_.CheckIn(
                            step, Step<v1::CheckInAppointmentRequest>(absl::StrCat("c", n), a)));
    step.method = "StartAppointment";
    v1::StartAppointmentRequest start = Step<v1::StartAppointmentRequest>(absl::StrCat("t", n), a);
    start.add_supplies()->set_serial(absl::StrCat("N-", n));
    ASSIGN_OR_RETURN(a, appointments_.Start(step, start, "Bearer tech"));
    step.method = "CompleteAppointment";
    return appointments_.Complete(step,
                                  Step<v1::CompleteAppointmentRequest>(absl::StrCat("d", n), a));
  };
  ASSERT_OK_AND_ASSIGN(v1::CompleteAppointmentResponse first, run_session(1, 0));
  EXPECT_TRUE(first.has_next_session_window());  // session 2 is due 10 to 42 days later
  ASSERT_OK_AND_ASSIGN(v1::CompleteAppointmentResponse second, run_session(2, 14));
  EXPECT_FALSE(second.has_next_session_window());
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::TreatmentPlan plan, store_.GetPlan(txn, plan_id));
    EXPECT_EQ(plan.status(), v1::PLAN_COMPLETED);
    EXPECT_EQ(FromLocalDate(plan.touch_up_due().start_date()), absl::CivilDay(2032, 1, 21));
    return absl::OkStatus();
  }));
}

// Issue 14 item 8: the supply issue rides on a start attempt that every retry of the start shares
// until the appointment moves; a start that fails after the issue sends it back through the
// outbox, and the next start gets a new attempt.
TEST_F(AppointmentsTest, AStartFailingAfterTheIssueReturnsTheSuppliesThroughTheOutbox) {
  auto arrive = [&](const std::string& name, int hour) -> v1::Appointment {
    absl::StatusOr<v1::Appointment> a =
        appointments_.Book(Desk("BookAppointment"), Booking(name, At(0, hour), v1::SAMPLE_PATCH));
    EXPECT_OK(a.status());
    absl::StatusOr<v1::Appointment> arrived =
        appointments_.CheckIn(Later(Desk("CheckInAppointment"), absl::Hours(3)),
                              Step<v1::CheckInAppointmentRequest>("ci-" + name, *a));
    EXPECT_OK(arrived.status());
    return arrived.value_or(v1::Appointment());
  };
  const Call start_call = Later(Desk("StartAppointment"), absl::Hours(3));
  const v1::Appointment other = arrive("other", 10);
  v1::StartAppointmentRequest used = Step<v1::StartAppointmentRequest>("start-1", other);
  used.add_supplies()->set_serial("N-0009");
  ASSERT_OK(appointments_.Start(start_call, used, "Bearer tech").status());

  const v1::Appointment a = arrive("a", 12);
  v1::StartAppointmentRequest start = Step<v1::StartAppointmentRequest>("start-2", a);
  start.add_supplies()->set_serial("N-0001");
  // Inventory does not answer in time: nothing is known to be issued, nothing is returned, and
  // the retry rides on the same attempt (inventory replays the issue if it was made).
  supplies_.refusal = absl::UnavailableError("inventory cannot issue the supplies now");
  EXPECT_THAT(appointments_.Start(start_call, start, "Bearer tech"),
              StatusIs(absl::StatusCode::kUnavailable));
  supplies_.refusal = absl::OkStatus();
  const std::string attempt = supplies_.requests.back().start_attempt_id;
  EXPECT_FALSE(attempt.empty());
  EXPECT_NE(attempt, supplies_.requests.front().start_attempt_id);

  // Issued, then the start itself fails (the caller reused a request id of another start).
  v1::StartAppointmentRequest reused = start;
  reused.set_request_id("start-1");
  EXPECT_THAT(appointments_.Start(start_call, reused, "Bearer tech"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(supplies_.requests.back().start_attempt_id, attempt);
  std::vector<OutboxEvent> returns;
  for (OutboxEvent& e : Outbox()) {
    if (e.destination == kInventoryDestination) returns.push_back(std::move(e));
  }
  ASSERT_EQ(returns.size(), 1u);
  EXPECT_EQ(returns[0].kind, kReturnProcedureIssueKind);
  inventory::v1::ReturnProcedureIssueRequest back;
  ASSERT_TRUE(back.ParseFromString(returns[0].payload));
  EXPECT_EQ(back.appointment_id(), a.id());
  EXPECT_EQ(back.clinic_id(), a.clinic_id());
  EXPECT_EQ(back.start_attempt_id(), attempt);
  EXPECT_THAT(back.reason(), HasSubstr("INVALID_ARGUMENT"));

  // The next start draws under a new attempt and commits with it; nothing more is returned.
  ASSERT_OK_AND_ASSIGN(v1::Appointment started,
                       appointments_.Start(start_call, start, "Bearer tech"));
  EXPECT_EQ(started.status(), v1::IN_PROGRESS);
  EXPECT_NE(supplies_.requests.back().start_attempt_id, attempt);
  for (const OutboxEvent& e : Outbox()) EXPECT_NE(e.destination, kInventoryDestination);
}

TEST_F(AppointmentsTest, CancellingFreesTheSlotAndFlagsALateCancellation) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment a,
                       appointments_.Book(Desk("BookAppointment"), Booking("a", At(1, 10))));
  v1::CancelAppointmentRequest cancel = Step<v1::CancelAppointmentRequest>("cancel", a);
  EXPECT_THAT(appointments_.Cancel(Desk("CancelAppointment"), cancel),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  cancel.set_reason("unwell");
  EXPECT_THAT(appointments_.Cancel(Desk("CancelAppointment"), cancel),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initiator")));
  cancel.set_initiator(v1::INITIATOR_PATIENT);
  ASSERT_OK_AND_ASSIGN(v1::Appointment cancelled,
                       appointments_.Cancel(Desk("CancelAppointment"), cancel));
  EXPECT_EQ(cancelled.status(), v1::CANCELLED);
  EXPECT_TRUE(cancelled.cancellation().late());  // 27 hours ahead, inside the 48-hour window
  EXPECT_EQ(cancelled.cancellation().initiator(), v1::INITIATOR_PATIENT);
  EXPECT_EQ(cancelled.cancellation().cancelled_by(), "desk-" + clinic_a_);
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), Booking("b", At(1, 10))).status());
  EXPECT_EQ(Outbox().size(), 1u);  // the late cancellation's fee
}

TEST_F(AppointmentsTest, AHoldLapsesUnlessConfirmed) {
  v1::BookAppointmentRequest hold = Booking("hold", At(1, 10));
  hold.set_hold(true);
  ASSERT_OK_AND_ASSIGN(v1::Appointment held, appointments_.Book(Desk("BookAppointment"), hold));
  EXPECT_EQ(held.status(), v1::PROPOSED);
  ASSERT_OK_AND_ASSIGN(v1::Appointment confirmed,
                       appointments_.Confirm(Later(Desk("ConfirmAppointment"), absl::Minutes(5)),
                                             Step<v1::ConfirmAppointmentRequest>("ok", held)));
  EXPECT_EQ(confirmed.status(), v1::BOOKED);

  hold = Booking("hold-2", At(1, 14));
  hold.set_hold(true);
  ASSERT_OK_AND_ASSIGN(held, appointments_.Book(Desk("BookAppointment"), hold));
  const absl::StatusOr<v1::Appointment> late =
      appointments_.Confirm(Later(Desk("ConfirmAppointment"), absl::Minutes(11)),
                            Step<v1::ConfirmAppointmentRequest>("late", held));
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lapsed")));
  EXPECT_EQ(ErrorReason(late.status()), kHoldLapsedReason);
  // Another booking takes the lapsed hold's time.
  ASSERT_OK(
      appointments_.Book(Later(Desk("BookAppointment"), absl::Minutes(11)), Booking("b", At(1, 14)))
          .status());
}

TEST_F(AppointmentsTest, RescheduleMovesTheBlockAndNoShowFreesIt) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment a,
                       appointments_.Book(Desk("BookAppointment"), Booking("a", At(1, 10))));
  v1::RescheduleAppointmentRequest move = Step<v1::RescheduleAppointmentRequest>("move", a);
  *move.mutable_start_time() = ToProtoTimestamp(At(1, 14));
  ASSERT_OK_AND_ASSIGN(v1::Appointment moved,
                       appointments_.Reschedule(Desk("RescheduleAppointment"), move));
  EXPECT_EQ(FromProtoTimestamp(moved.start_time()), At(1, 14));
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), Booking("b", At(1, 10))).status());
  // Moving onto a taken time is refused and keeps the old one.
  move = Step<v1::RescheduleAppointmentRequest>("move-back", moved);
  *move.mutable_start_time() = ToProtoTimestamp(At(1, 10));
  EXPECT_EQ(ErrorReason(appointments_.Reschedule(Desk("RescheduleAppointment"), move).status()),
            reason::kSlotTaken);

  ASSERT_OK_AND_ASSIGN(v1::Appointment noshow,
                       appointments_.MarkNoShow(Later(Desk("MarkNoShow"), absl::Hours(32)),
                                                Step<v1::MarkNoShowRequest>("ns", moved)));
  EXPECT_EQ(noshow.status(), v1::NOSHOW);
}

// Issue 14 (1): a procedure moved to another day or practitioner is judged again; a refusal
// leaves it where it was. Changing the practitioner of a procedure is allowed once compliance
// agrees for the new one.
TEST_F(AppointmentsTest, RescheduleAsksTheComplianceGateAgain) {
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment a,
      appointments_.Book(Desk("BookAppointment"), Booking("patch", At(1, 10), v1::SAMPLE_PATCH)));
  gate_.queries.clear();
  gate_.verdict = WithErrorInfo(
      absl::FailedPreconditionError("compliance does not allow this procedure: CREDENTIAL_INVALID"),
      reason::kNotEligible, {{"code", "CREDENTIAL_INVALID"}});
  v1::RescheduleAppointmentRequest move = Step<v1::RescheduleAppointmentRequest>("move", a);
  *move.mutable_start_time() = ToProtoTimestamp(At(5, 10));
  const absl::StatusOr<v1::Appointment> refused =
      appointments_.Reschedule(Desk("RescheduleAppointment"), move);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(refused.status()), reason::kNotEligible);
  ASSERT_EQ(gate_.queries.size(), 1u);
  EXPECT_EQ(gate_.queries[0].date, Today() + 5);
  EXPECT_EQ(gate_.queries[0].at, At(5, 10));
  ASSERT_OK_AND_ASSIGN(v1::Appointment unchanged, appointments_.Get(Desk("GetAppointment"), [&] {
    v1::GetAppointmentRequest get;
    get.set_id(a.id());
    return get;
  }()));
  EXPECT_EQ(FromProtoTimestamp(unchanged.start_time()), At(1, 10));
  EXPECT_EQ(unchanged.etag(), a.etag());

  // Another practitioner: asked for them, and moved once allowed.
  gate_.verdict = absl::OkStatus();
  const std::string other = AddPractitioner();
  move.set_request_id("move-2");
  move.set_practitioner_id(other);
  ASSERT_OK_AND_ASSIGN(v1::Appointment moved,
                       appointments_.Reschedule(Desk("RescheduleAppointment"), move));
  EXPECT_EQ(moved.practitioner_id(), other);
  EXPECT_EQ(FromProtoTimestamp(moved.start_time()), At(5, 10));
  ASSERT_EQ(gate_.queries.size(), 2u);
  EXPECT_EQ(gate_.queries[1].practitioner_id, other);
  // A consultation is never gated.
  ASSERT_OK_AND_ASSIGN(v1::Appointment consult,
                       appointments_.Book(Desk("BookAppointment"), Booking("c", At(2, 10))));
  move = Step<v1::RescheduleAppointmentRequest>("move-3", consult);
  *move.mutable_start_time() = ToProtoTimestamp(At(2, 14));
  ASSERT_OK(appointments_.Reschedule(Desk("RescheduleAppointment"), move).status());
  EXPECT_EQ(gate_.queries.size(), 2u);
}

// Issue 14 (1): consent withdrawn on the morning of the session: StartAppointment stops before
// inventory is asked for anything; the technician records the procedure as not done.
TEST_F(AppointmentsTest, StartIsAHardStopBeforeAnySupplyIsIssued) {
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment a,
      appointments_.Book(Desk("BookAppointment"), Booking("patch", At(0, 10), v1::SAMPLE_PATCH)));
  const Call at_ten = Later(Desk("X"), absl::Hours(3));
  Call step = at_ten;
  step.method = "CheckInAppointment";
  ASSERT_OK_AND_ASSIGN(a,
                       appointments_.CheckIn(step, Step<v1::CheckInAppointmentRequest>("ci", a)));
  gate_.queries.clear();
  gate_.verdict = WithErrorInfo(
      absl::FailedPreconditionError("compliance does not allow this procedure: CONSENT_MISSING"),
      reason::kNotEligible, {{"code", "CONSENT_MISSING"}});
  step.method = "StartAppointment";
  v1::StartAppointmentRequest start = Step<v1::StartAppointmentRequest>("start", a);
  start.add_supplies()->set_serial("N-0001");
  const absl::StatusOr<v1::Appointment> refused = appointments_.Start(step, start, "Bearer tech");
  EXPECT_EQ(ErrorReason(refused.status()), reason::kNotEligible);
  EXPECT_TRUE(supplies_.requests.empty());  // nothing issued
  ASSERT_EQ(gate_.queries.size(), 1u);
  EXPECT_EQ(gate_.queries[0].at, at_ten.now);  // judged as of the start, not the booking
  EXPECT_EQ(gate_.queries[0].date, Today());
  gate_.verdict = absl::UnavailableError("compliance is down");
  EXPECT_THAT(appointments_.Start(step, start, "Bearer tech"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(supplies_.requests.empty());

  step.method = "StopAppointment";
  v1::StopAppointmentRequest stop = Step<v1::StopAppointmentRequest>("stop", a);
  stop.set_reason("consent withdrawn this morning");
  EXPECT_THAT(appointments_.Stop(step, stop),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("initiator")));
  stop.set_initiator(v1::INITIATOR_CLINIC);
  ASSERT_OK_AND_ASSIGN(v1::Appointment not_done, appointments_.Stop(step, stop));
  EXPECT_EQ(not_done.status(), v1::APPOINTMENT_STATUS_STOPPED);
  EXPECT_FALSE(not_done.stop().started());
  EXPECT_FALSE(not_done.stop().charged());
  EXPECT_EQ(not_done.stop().reason(), "consent withdrawn this morning");
  EXPECT_EQ(not_done.stop().stopped_by(), "desk-" + clinic_a_);
  EXPECT_TRUE(Outbox().empty());  // no record (nothing done), no charge
}

// Issue 14 (1, 2): a procedure stopped after it started keeps what was issued and sends its
// record to compliance; it is charged only when the patient stopped it under the clinic's rule.
TEST_F(AppointmentsTest, AStoppedProcedureIsRecordedAndChargedOnlyByTheClinicsRule) {
  auto started = [&](const std::string& tag, int hour) -> absl::StatusOr<v1::Appointment> {
    ASSIGN_OR_RETURN(
        v1::Appointment a,
        appointments_.Book(Desk("BookAppointment"), Booking(tag, At(0, hour), v1::SAMPLE_PATCH)));
    Call step = Later(Desk("CheckInAppointment"), absl::Hours(hour - 7));
    ASSIGN_OR_RETURN(a, appointments_.CheckIn(step, Step<v1::CheckInAppointmentRequest>(tag, a)));
    step.method = "StartAppointment";
    v1::StartAppointmentRequest start = Step<v1::StartAppointmentRequest>(tag, a);
    start.add_supplies()->set_serial(tag);
    return appointments_.Start(step, start, "Bearer tech");
  };
  auto stop = [&](const v1::Appointment& a, v1::Initiator initiator, int hour) {
    v1::StopAppointmentRequest req = Step<v1::StopAppointmentRequest>("stop-" + a.id(), a);
    req.set_reason("patient felt faint");
    req.set_initiator(initiator);
    req.mutable_checklist()->set_gloves_worn(true);
    return appointments_.Stop(Later(Desk("StopAppointment"), absl::Hours(hour - 7)), req);
  };
  ASSERT_OK_AND_ASSIGN(v1::Appointment first, started("N-1", 10));
  ASSERT_OK_AND_ASSIGN(v1::Appointment stopped, stop(first, v1::INITIATOR_PATIENT, 10));
  EXPECT_EQ(stopped.status(), v1::APPOINTMENT_STATUS_STOPPED);
  EXPECT_TRUE(stopped.stop().started());
  EXPECT_FALSE(stopped.stop().charged());  // the clinic's rule is off by default
  ASSERT_EQ(stopped.supplies_size(), 1);   // what was issued stays on the appointment
  std::vector<OutboxEvent> events = Outbox();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, kRecordProcedureKind);
  compliance::v1::RecordProcedureRequest record;
  ASSERT_TRUE(record.ParseFromString(events[0].payload));
  EXPECT_THAT(record.record().notes(), HasSubstr("stopped"));
  EXPECT_TRUE(record.record().checklist().gloves_worn());

  // The clinic charges patients' stops: the patient's stop is billed, the clinic's is not.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule, store_.RequireSchedule(txn, clinic_a_, "c"));
    schedule.set_charge_patient_stops(true);
    return store_.PutSchedule(txn, schedule, 1, now_).status();
  }));
  ASSERT_OK_AND_ASSIGN(v1::Appointment second, started("N-2", 12));
  ASSERT_OK_AND_ASSIGN(v1::Appointment by_clinic, stop(second, v1::INITIATOR_CLINIC, 12));
  EXPECT_FALSE(by_clinic.stop().charged());
  ASSERT_OK_AND_ASSIGN(v1::Appointment third, started("N-3", 14));
  ASSERT_OK_AND_ASSIGN(v1::Appointment by_patient, stop(third, v1::INITIATOR_PATIENT, 14));
  EXPECT_TRUE(by_patient.stop().charged());
  int charges = 0;
  for (const OutboxEvent& e : Outbox()) charges += e.kind == kChargeEventKind ? 1 : 0;
  EXPECT_EQ(charges, 1);
}

// Issue 14 (2): a phone hold cancelled inside the window and the clinic's own cancellation are
// not charged; only the patient cancelling a confirmed appointment late is.
TEST_F(AppointmentsTest, OnlyAPatientsLateCancellationOfAConfirmedBookingIsCharged) {
  auto cancel = [&](const v1::Appointment& a, v1::Initiator initiator) {
    v1::CancelAppointmentRequest req = Step<v1::CancelAppointmentRequest>("x-" + a.id(), a);
    req.set_reason("change of plans");
    req.set_initiator(initiator);
    return appointments_.Cancel(Desk("CancelAppointment"), req);
  };
  v1::BookAppointmentRequest hold = Booking("hold", At(1, 10));
  hold.set_hold(true);
  ASSERT_OK_AND_ASSIGN(v1::Appointment held, appointments_.Book(Desk("BookAppointment"), hold));
  ASSERT_OK_AND_ASSIGN(v1::Appointment a, cancel(held, v1::INITIATOR_PATIENT));
  EXPECT_FALSE(a.cancellation().late());
  ASSERT_OK_AND_ASSIGN(v1::Appointment booked,
                       appointments_.Book(Desk("BookAppointment"), Booking("b", At(1, 12))));
  ASSERT_OK_AND_ASSIGN(a, cancel(booked, v1::INITIATOR_CLINIC));
  EXPECT_FALSE(a.cancellation().late());
  EXPECT_EQ(a.cancellation().initiator(), v1::INITIATOR_CLINIC);
  EXPECT_TRUE(Outbox().empty());
  ASSERT_OK_AND_ASSIGN(booked,
                       appointments_.Book(Desk("BookAppointment"), Booking("c", At(1, 14))));
  ASSERT_OK_AND_ASSIGN(a, cancel(booked, v1::INITIATOR_PATIENT));
  EXPECT_TRUE(a.cancellation().late());
  EXPECT_EQ(Outbox().size(), 1u);
}

// Issue 14 (2): tomorrow's appointment cannot be marked a no-show today (which would free the
// slot and bill a fee); from the start plus the clinic's 15-minute grace it can.
TEST_F(AppointmentsTest, NoShowOnlyAfterTheStartPlusTheClinicsGrace) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment a,
                       appointments_.Book(Desk("BookAppointment"), Booking("a", At(1, 10))));
  const absl::StatusOr<v1::Appointment> today =
      appointments_.MarkNoShow(Desk("MarkNoShow"), Step<v1::MarkNoShowRequest>("ns-1", a));
  EXPECT_THAT(today, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("10:15 GMT")));
  EXPECT_EQ(ErrorReason(today.status()), kNoShowTooEarlyReason);
  const absl::Duration to_start = At(1, 10) - now_;
  EXPECT_THAT(appointments_.MarkNoShow(Later(Desk("MarkNoShow"), to_start + absl::Minutes(14)),
                                       Step<v1::MarkNoShowRequest>("ns-2", a)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ListedOn(1), 1);
  EXPECT_TRUE(Outbox().empty());
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment missed,
      appointments_.MarkNoShow(Later(Desk("MarkNoShow"), to_start + absl::Minutes(15)),
                               Step<v1::MarkNoShowRequest>("ns-3", a)));
  EXPECT_EQ(missed.status(), v1::NOSHOW);
  EXPECT_EQ(Outbox().size(), 1u);
}

// Issue 14 (4): the patient is a booked resource across the chain: another clinic cannot book
// them into an overlapping session, and is not told the other appointment's id.
TEST_F(AppointmentsTest, APatientCannotBeInTwoChairsAtOnce) {
  const std::string practitioner_b = NewIdAt(now_ - absl::Hours(2));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::WorkingHours hours;
    hours.set_practitioner_id(practitioner_b);
    hours.set_clinic_id(clinic_b_);
    for (int day = 1; day <= 7; ++day) {
      v1::WeeklyInterval* w = hours.add_intervals();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(9);
      w->mutable_end_time()->set_hours(18);
    }
    return store_.PutWorkingHours(txn, hours, 0).status();
  }));
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment at_a,
      appointments_.Book(Desk("BookAppointment"), Booking("a", At(1, 10), v1::SAMPLE_PATCH)));
  v1::BookAppointmentRequest at_b = Booking("b", At(1, 10, 30), v1::SAMPLE_PATCH);
  at_b.set_clinic_id(clinic_b_);
  at_b.set_practitioner_id(practitioner_b);
  const absl::StatusOr<v1::Appointment> clash = appointments_.Book(Admin("BookAppointment"), at_b);
  EXPECT_THAT(clash, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(clash.status()), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(clash.status(), "resource"), "patient");
  EXPECT_THAT(clash.status().message(), ::testing::Not(HasSubstr(at_a.id())));
  // Right after the first one ends (no cleaning buffer for the patient) is fine.
  at_b.set_request_id("b-2");
  *at_b.mutable_start_time() = ToProtoTimestamp(At(1, 10, 45));
  ASSERT_OK(appointments_.Book(Admin("BookAppointment"), at_b).status());
  // Moving the first onto the second is refused too.
  v1::RescheduleAppointmentRequest move = Step<v1::RescheduleAppointmentRequest>("m", at_a);
  *move.mutable_start_time() = ToProtoTimestamp(At(1, 11));
  EXPECT_EQ(ErrorMetadata(appointments_.Reschedule(Desk("RescheduleAppointment"), move).status(),
                          "resource"),
            "patient");
}

// Issue 14 (3): session 2 of 3 cancelled after session 3 was booked: the rebooking is session 2,
// spaced against sessions 1 and 3; a second live session 2 cannot be stored.
TEST_F(AppointmentsTest, ARebookedPlanSessionTakesTheFreeNumberAndKeepsTheSpacing) {
  std::string plan_id;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::TreatmentPlan plan;
    plan.set_patient_id(patient_);
    plan.set_clinic_id(clinic_a_);
    plan.set_area(v1::HAIRLINE);
    plan.set_planned_sessions(3);
    plan.set_status(v1::PLAN_ACTIVE);
    plan.mutable_min_interval()->set_seconds(10 * 24 * 3600);
    plan.mutable_max_interval()->set_seconds(42 * 24 * 3600);
    ASSIGN_OR_RETURN(v1::TreatmentPlan saved, store_.CreatePlan(txn, plan, now_));
    plan_id = saved.id();
    return absl::OkStatus();
  }));
  auto book = [&](const std::string& tag, int days) {
    v1::BookAppointmentRequest req = Booking(tag, At(days, 9), v1::TREATMENT_SESSION);
    req.set_plan_id(plan_id);
    return appointments_.Book(Desk("BookAppointment"), req);
  };
  ASSERT_OK_AND_ASSIGN(v1::Appointment s1, book("s1", 1));
  ASSERT_OK_AND_ASSIGN(v1::Appointment s2, book("s2", 15));
  ASSERT_OK_AND_ASSIGN(v1::Appointment s3, book("s3", 30));
  EXPECT_EQ(s3.session_number(), 3);
  v1::CancelAppointmentRequest cancel = Step<v1::CancelAppointmentRequest>("cancel-2", s2);
  cancel.set_reason("clinic closed that day");
  cancel.set_initiator(v1::INITIATOR_CLINIC);
  ASSERT_OK(appointments_.Cancel(Desk("CancelAppointment"), cancel).status());

  // 5 days before session 3: refused, in the clinic's time.
  const absl::StatusOr<v1::Appointment> too_close = book("r1", 25);
  EXPECT_THAT(too_close, StatusIs(absl::StatusCode::kFailedPrecondition,
                                  HasSubstr("GMT and 2030-01-27 09:00 GMT")));
  EXPECT_EQ(ErrorReason(too_close.status()), kOutsideSessionWindowReason);
  // FindAvailability offers the gap between sessions 1 and 3.
  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::TREATMENT_SESSION);
  find.set_plan_id(plan_id);
  *find.mutable_period()->mutable_start_date() = Date(Today() + 1);
  *find.mutable_period()->mutable_end_date() = Date(Today() + 40);
  ASSERT_OK_AND_ASSIGN(v1::FindAvailabilityResponse free,
                       appointments_.FindAvailability(Desk("FindAvailability"), find));
  ASSERT_GT(free.slots_size(), 0);
  for (const v1::Slot& s : free.slots()) {
    const absl::Time start = FromProtoTimestamp(s.start_time());
    EXPECT_TRUE(start >= At(11, 9) && start <= At(20, 9)) << absl::FormatTime(start, zone_);
  }
  ASSERT_OK_AND_ASSIGN(v1::Appointment rebooked, book("r2", 16));
  EXPECT_EQ(rebooked.session_number(), 2);

  // The store refuses a second live session 2 (what a concurrent booking would have made).
  v1::Appointment duplicate = rebooked;
  duplicate.set_id(NewIdAt(now_ + absl::Seconds(5)));
  const absl::Status twice = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.InsertAppointment(txn, duplicate, At(17, 9));
  });
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(twice), kSessionNumberTakenReason);
}

TEST_F(AppointmentsTest, ListPagesAndAvailabilityOffersFreeSlots) {
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), Booking("a", At(1, 10))).status());
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), Booking("b", At(1, 14))).status());
  v1::ListAppointmentsRequest list;
  list.set_clinic_id(clinic_a_);
  *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(1, 0));
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(2, 0));
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListAppointmentsResponse page1,
                       appointments_.List(Desk("ListAppointments"), list));
  ASSERT_EQ(page1.appointments_size(), 1);
  EXPECT_EQ(FromProtoTimestamp(page1.appointments(0).start_time()), At(1, 10));
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListAppointmentsResponse page2,
                       appointments_.List(Desk("ListAppointments"), list));
  ASSERT_EQ(page2.appointments_size(), 1);
  EXPECT_EQ(FromProtoTimestamp(page2.appointments(0).start_time()), At(1, 14));
  EXPECT_TRUE(page2.next_page_token().empty());

  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::CONSULTATION);
  *find.mutable_period()->mutable_start_date() = Date(Today() + 1);
  *find.mutable_period()->mutable_end_date() = Date(Today() + 1);
  ASSERT_OK_AND_ASSIGN(v1::FindAvailabilityResponse free,
                       appointments_.FindAvailability(Desk("FindAvailability"), find));
  ASSERT_GT(free.slots_size(), 0);
  for (const v1::Slot& s : free.slots()) {
    // An hour and the 30-minute buffer must clear the 10:00 booking (busy until 11:30).
    const absl::Time start = FromProtoTimestamp(s.start_time());
    EXPECT_TRUE(start + absl::Minutes(90) <= At(1, 10) || start >= At(1, 11, 30))
        << absl::FormatTime(start, zone_);
  }
  EXPECT_EQ(
      ErrorReason(appointments_.FindAvailability(OtherDesk("FindAvailability"), find).status()),
      reason::kOutsideClinicScope);
}

// Every write that advances a clinic's change feed is queued behind the clinic's other writers
// (WriteQueue "scheduling.feed:<clinic>"), so that on PostgreSQL concurrent bookings of a clinic
// take turns at its feed head instead of colliding there and running out of retries (ABORTED).
class FeedQueueTest : public SchedulingTestEnv {
 protected:
  v1::BookAppointmentRequest Booking(const std::string& request_id, absl::Time start) const {
    v1::BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic_a_);
    req.set_patient_id(patient_);
    req.set_practitioner_id(practitioner_);
    req.set_type(v1::CONSULTATION);
    *req.mutable_start_time() = ToProtoTimestamp(start);
    return req;
  }

  ::smp::testing::RecordingDatabase recorded_{db_.get()};
  FakeComplianceGate gate_;
  FakeSupplyIssuer supplies_;
  ChangeNotifier notifier_;
  AppointmentBook book_{&recorded_, &store_, &notifier_, nullptr};
  Appointments appointments_{&recorded_, &store_, &book_, &gate_, &supplies_};
};

TEST_F(FeedQueueTest, BookingTransitionsAndTheHoldSweepQueueOnTheClinicsFeed) {
  const std::vector<std::string> clinic_feed = {"scheduling.feed:" + clinic_a_};
  ASSERT_OK_AND_ASSIGN(v1::Appointment booked,
                       appointments_.Book(Desk("BookAppointment"), Booking("book", At(1, 10))));
  EXPECT_EQ(recorded_.TakeWriteQueues(), clinic_feed) << "BookAppointment";

  v1::CancelAppointmentRequest cancel;
  cancel.set_request_id("cancel");
  cancel.set_id(booked.id());
  cancel.set_etag(booked.etag());
  cancel.set_reason("unwell");
  cancel.set_initiator(v1::INITIATOR_PATIENT);
  ASSERT_OK(appointments_.Cancel(Desk("CancelAppointment"), cancel).status());
  EXPECT_EQ(recorded_.TakeWriteQueues(), clinic_feed) << "CancelAppointment (a transition)";

  v1::BookAppointmentRequest hold = Booking("hold", At(1, 14));
  hold.set_hold(true);
  ASSERT_OK(appointments_.Book(Desk("BookAppointment"), hold).status());
  recorded_.TakeWriteQueues();
  EXPECT_THAT(book_.SweepLapsedHolds(now_ + absl::Hours(1)), IsOkAndHolds(1));
  EXPECT_EQ(recorded_.TakeWriteQueues(), clinic_feed) << "the sweep of lapsed holds";

  // An appointment that does not exist names no queue and is NOT_FOUND as before.
  v1::ConfirmAppointmentRequest confirm;
  confirm.set_request_id("confirm");
  confirm.set_id(NewIdAt(now_));
  confirm.set_etag("v1");
  EXPECT_THAT(appointments_.Confirm(Desk("ConfirmAppointment"), confirm),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(recorded_.TakeWriteQueues(), std::vector<std::string>{""});
}

}  // namespace
}  // namespace smp::scheduling::testing
