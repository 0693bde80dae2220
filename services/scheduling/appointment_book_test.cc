#include "services/scheduling/appointment_book.h"

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/testing/test_database.h"
#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class AppointmentBookTest : public SchedulingTestEnv {
 protected:
  // Takes `start` for an hour for the practitioner, held (for the clinic's 10 minutes) or booked,
  // as BookAppointment does.
  absl::StatusOr<v1::Appointment> Take(absl::Time start, bool hold, absl::Time at) {
    v1::Appointment a;
    RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::ClinicSchedule schedule,
                       store_.RequireSchedule(txn, clinic_a_, "clinic_id"));
      a.set_id(NewIdAt(at));
      a.set_clinic_id(clinic_a_);
      a.set_patient_id(patient_);
      a.set_practitioner_id(practitioner_);
      a.set_type(v1::CONSULTATION);
      *a.mutable_start_time() = ToProtoTimestamp(start);
      *a.mutable_end_time() = ToProtoTimestamp(start + absl::Hours(1));
      a.set_status(hold ? v1::PROPOSED : v1::BOOKED);
      if (hold) *a.mutable_hold_expire_time() = ToProtoTimestamp(at + absl::Minutes(10));
      RETURN_IF_ERROR(book_.TakeSlot(txn, schedule, a, false, at));
      RETURN_IF_ERROR(book_.RecordChange(txn, a, v1::CHANGE_TYPE_CREATED, 1, at));
      return store_.InsertAppointment(txn, a, start + absl::Minutes(90));
    }));
    return a;
  }

  absl::StatusOr<std::vector<v1::Change>> Feed() {
    std::vector<v1::Change> changes;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(changes, store_.ListChanges(txn, clinic_a_, 0, 100));
      return absl::OkStatus();
    }));
    return changes;
  }

  static v1::ConfirmAppointmentRequest Confirm(const std::string& request_id,
                                               const v1::Appointment& a) {
    v1::ConfirmAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_id(a.id());
    req.set_etag(a.etag());
    return req;
  }

  ChangeNotifier notifier_;
  int wakes_ = 0;
  AppointmentBook book_{db_.get(), &store_, &notifier_, [this] { ++wakes_; }};
};

TEST_F(AppointmentBookTest, SweepCancelsLapsedHoldsAndRecordsIt) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment held, Take(At(1, 10), /*hold=*/true, now_));
  EXPECT_THAT(book_.SweepLapsedHolds(now_ + absl::Minutes(5)), IsOkAndHolds(0));
  EXPECT_THAT(book_.SweepLapsedHolds(now_ + absl::Minutes(11)), IsOkAndHolds(1));
  EXPECT_THAT(book_.SweepLapsedHolds(now_ + absl::Minutes(12)), IsOkAndHolds(0));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, Feed());
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].type(), v1::CHANGE_TYPE_CANCELLED);
  EXPECT_EQ(feed[1].sequence(), 2);
  EXPECT_EQ(feed[1].appointment().cancellation().reason(), "hold lapsed");
  EXPECT_EQ(feed[1].appointment().etag(), "v2");
  // The time is free again.
  ASSERT_OK(Take(At(1, 10), /*hold=*/false, now_ + absl::Minutes(13)).status());
}

TEST_F(AppointmentBookTest, TheHoldSweepReadsOnlyHeldAppointments) {
  if (db_->dialect() != SqlDialect::kSqlite) GTEST_SKIP() << "SQLite's query plan";
  // SchedulingStore::ClinicsWithLapsedHolds's and LapsedHolds's conditions: the plan reads the
  // index of held appointments only, never the whole book or a clinic's.
  const std::vector<std::pair<std::string, std::vector<DbValue>>> queries = {
      {"EXPLAIN QUERY PLAN SELECT DISTINCT clinic_id FROM appointments "
       "WHERE status = 'PROPOSED' AND hold_expire_time <= ?",
       {int64_t{0}}},
      {"EXPLAIN QUERY PLAN SELECT record FROM appointments WHERE clinic_id = ? AND "
       "status = 'PROPOSED' AND hold_expire_time <= ? ORDER BY id LIMIT ?",
       {clinic_a_, int64_t{0}, int64_t{10}}}};
  for (const auto& [sql, params] : queries) {
    std::string plan;
    ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query(sql, params));
      for (const Row& row : rows) absl::StrAppend(&plan, row.Text(3), "; ");
      return absl::OkStatus();
    }));
    EXPECT_THAT(plan, HasSubstr("appointments_held")) << sql;
    EXPECT_THAT(plan, ::testing::Not(HasSubstr("appointments_by_clinic"))) << sql;
    EXPECT_THAT(plan, ::testing::Not(::testing::ContainsRegex("SCAN appointments(;|$)"))) << sql;
  }
}

TEST_F(AppointmentBookTest, ATakenSlotIsRefusedWithSlotTaken) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment first, Take(At(1, 10), false, now_));
  absl::StatusOr<v1::Appointment> second = Take(At(1, 10, 15), false, now_);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(second.status()), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(second.status(), "resource"), "practitioner");

  // Two writers that both saw the slot free: the occupancy granules stop the second.
  v1::Appointment racer = first;
  racer.set_id(NewIdAt(now_ + absl::Seconds(1)));
  racer.set_chair_id(NewIdAt(now_ + absl::Seconds(2)));
  racer.set_patient_id(NewIdAt(now_ + absl::Seconds(3)));  // the practitioner is what collides
  absl::Status raced = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.Occupy(txn, racer, Interval{At(1, 10), At(1, 11)});
  });
  EXPECT_THAT(raced, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(first.id())));
  EXPECT_EQ(ErrorReason(raced), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(raced, "resource_id"), practitioner_);

  EXPECT_THAT(Take(now_ - absl::Hours(1), false, now_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_time")));
}

// Counts the statements run through it (a wrapper in the manner of a fault-injection one).
class CountingTransaction : public Transaction {
 public:
  explicit CountingTransaction(Transaction& inner) : inner_(inner) {}
  SqlDialect dialect() const override { return inner_.dialect(); }
  absl::Status Exec(absl::string_view sql, const std::vector<DbValue>& params) override {
    ++writes;
    return inner_.Exec(sql, params);
  }
  absl::StatusOr<int64_t> ExecCount(absl::string_view sql,
                                    const std::vector<DbValue>& params) override {
    ++writes;
    return inner_.ExecCount(sql, params);
  }
  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<DbValue>& params) override {
    return inner_.Query(sql, params);
  }
  absl::Status ExecScript(absl::string_view sql) override { return inner_.ExecScript(sql); }
  absl::Status Commit() override { return inner_.Commit(); }

  int writes = 0;

 private:
  Transaction& inner_;
};

// A 4-hour session takes its 48 patient granules and 54 (with the buffer) for the practitioner
// and for the chair in one statement: on PostgreSQL each statement of a write transaction is a
// subtransaction, and more than 64 in one transaction slow every snapshot. A collision with any
// granule, the last one included, is still SLOT_TAKEN naming the holder.
std::string Utc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

TEST_F(AppointmentBookTest, OccupyTakesASessionsGranulesInOneStatement) {
  v1::Appointment session;
  session.set_id(NewIdAt(now_));
  session.set_patient_id(patient_);
  session.set_practitioner_id(practitioner_);
  session.set_chair_id("chair-1");
  *session.mutable_start_time() = ToProtoTimestamp(At(1, 9));
  *session.mutable_end_time() = ToProtoTimestamp(At(1, 13));
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    CountingTransaction counting(txn);
    RETURN_IF_ERROR(store_.Occupy(counting, session, Interval{At(1, 9), At(1, 13, 30)}));
    EXPECT_EQ(counting.writes, 1);
    return absl::OkStatus();
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT resource_id, COUNT(*) FROM occupancy WHERE "
                                          "appointment_id = ? GROUP BY resource_id "
                                          "ORDER BY resource_id",
                                          {session.id()}));
    std::map<std::string, int64_t> granules;
    for (const Row& row : rows) granules[row.Text(0)] = row.Int(1);
    EXPECT_EQ(granules,
              (std::map<std::string, int64_t>{
                  {"chair-1", 54}, {PatientResource(patient_), 48}, {practitioner_, 54}}));
    return absl::OkStatus();
  }));

  // Another patient in the same chair from 13:25: only the chair's last granule collides.
  v1::Appointment next = session;
  next.set_id(NewIdAt(now_ + absl::Seconds(1)));
  next.set_patient_id(NewIdAt(now_ + absl::Seconds(2)));
  next.set_practitioner_id(NewIdAt(now_ + absl::Seconds(3)));
  *next.mutable_start_time() = ToProtoTimestamp(At(1, 13, 25));
  *next.mutable_end_time() = ToProtoTimestamp(At(1, 14));
  absl::Status refused = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.Occupy(txn, next, Interval{At(1, 13, 25), At(1, 14, 30)});
  });
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(Utc(At(1, 13, 25)) + " (appointment " + session.id())));
  EXPECT_EQ(ErrorReason(refused), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(refused, "resource"), "chair");
  // The refusal took nothing.
  ASSERT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM occupancy WHERE appointment_id = ?",
                                          {next.id()}));
    EXPECT_EQ(rows[0].Int(0), 0);
    return absl::OkStatus();
  }));
  // The same patient at another clinic overlapping the session: the patient is named first.
  v1::Appointment elsewhere = next;
  elsewhere.set_id(NewIdAt(now_ + absl::Seconds(4)));
  elsewhere.set_patient_id(patient_);
  elsewhere.set_chair_id("chair-elsewhere");
  *elsewhere.mutable_start_time() = ToProtoTimestamp(At(1, 12));
  refused = db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return store_.Occupy(txn, elsewhere, Interval{At(1, 12), At(1, 14, 30)});
  });
  EXPECT_EQ(ErrorReason(refused), reason::kSlotTaken);
  EXPECT_EQ(ErrorMetadata(refused, "resource"), "patient");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(Utc(At(1, 12)))));
}

TEST_F(AppointmentBookTest, CalendarVersionAdvancesWithWhatABookingPreChecksNotWithBookings) {
  const auto versions = [&]() -> absl::StatusOr<std::pair<int64_t, int64_t>> {
    std::pair<int64_t, int64_t> out;
    RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out.first, store_.CalendarVersion(txn, clinic_a_));
      ASSIGN_OR_RETURN(out.second, store_.CalendarVersion(txn, clinic_b_));
      return absl::OkStatus();
    }));
    return out;
  };
  ASSERT_OK_AND_ASSIGN(auto start, versions());
  EXPECT_GT(start.first, 0);  // the fixture's schedule, chair and hours

  // A booking (and its change) leaves it: the occupancy keys exclude other bookings.
  ASSERT_OK(Take(At(1, 10), false, now_).status());
  ASSERT_OK_AND_ASSIGN(auto after_booking, versions());
  EXPECT_EQ(after_booking, start);

  // Leave entered at clinic B for clinic A's practitioner keeps them away at A too: both advance.
  std::string leave_id;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    v1::ScheduleException leave;
    leave.set_clinic_id(clinic_b_);
    leave.set_practitioner_id(practitioner_);
    leave.set_kind(v1::LEAVE);
    ASSIGN_OR_RETURN(v1::ScheduleException saved,
                     store_.CreateException(txn, leave, Interval{At(2, 0), At(3, 0)}, now_));
    leave_id = saved.id();
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(auto after_leave, versions());
  EXPECT_GT(after_leave.first, start.first);
  EXPECT_GT(after_leave.second, start.second);

  // A chair of clinic A: A only.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Chair chair, store_.GetChair(txn, chair_a_));
    chair.set_active(false);
    return store_.UpdateChair(txn, chair, 1).status();
  }));
  ASSERT_OK_AND_ASSIGN(auto after_chair, versions());
  EXPECT_GT(after_chair.first, after_leave.first);
  EXPECT_EQ(after_chair.second, after_leave.second);

  // Deleting the leave: both again (the row still names the practitioner's clinics).
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    return store_.DeleteException(txn, leave_id);
  }));
  ASSERT_OK_AND_ASSIGN(auto after_delete, versions());
  EXPECT_GT(after_delete.first, after_chair.first);
  EXPECT_GT(after_delete.second, after_chair.second);

  // Clinic B's schedule: B only.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ClinicSchedule schedule, store_.RequireSchedule(txn, clinic_b_, "c"));
    return store_.PutSchedule(txn, schedule, 1, now_).status();
  }));
  ASSERT_OK_AND_ASSIGN(auto after_schedule, versions());
  EXPECT_EQ(after_schedule.first, after_delete.first);
  EXPECT_GT(after_schedule.second, after_delete.second);
}

TEST_F(AppointmentBookTest, OccupyIfFreeTakesEveryGranuleOrNone) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment first, Take(At(1, 10), false, now_));
  const auto attempt = [&](absl::Time start) -> absl::StatusOr<std::pair<bool, absl::Time>> {
    std::pair<bool, absl::Time> out;
    RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      v1::Appointment a;
      a.set_id(NewIdAt(start));
      a.set_clinic_id(clinic_a_);
      a.set_patient_id(patient_);
      a.set_practitioner_id(practitioner_);
      a.set_chair_id(chair_a_);
      *a.mutable_start_time() = ToProtoTimestamp(start);
      *a.mutable_end_time() = ToProtoTimestamp(start + absl::Hours(1));
      ASSIGN_OR_RETURN(out.first,
                       store_.OccupyIfFree(txn, a, Interval{start, start + absl::Minutes(90)}));
      ASSIGN_OR_RETURN(out.second, store_.OccupiedUntil(txn, a.id(), start));
      return absl::OkStatus();
    }));
    return out;
  };
  // Overlapping the first booking's block (10:00-11:30): refused, and none of its granules kept.
  EXPECT_THAT(attempt(At(1, 11)), IsOkAndHolds(std::pair{false, At(1, 11)}));
  // Free: every granule taken, the block's end held.
  EXPECT_THAT(attempt(At(1, 12)), IsOkAndHolds(std::pair{true, At(1, 13, 30)}));
}

TEST_F(AppointmentBookTest, AChangeStoredWithTheRecordsBytesIsOneEncodedChange) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment a, Take(At(1, 10), false, now_));
  v1::Change header;
  header.set_sequence(a.change_sequence() + 1);
  header.set_clinic_id(clinic_a_);
  header.set_type(v1::CHANGE_TYPE_UPDATED);
  *header.mutable_commit_time() = ToProtoTimestamp(now_);
  a.set_notes("serialised once");
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(store_.NextSequence(txn, clinic_a_).status());
    return store_.AppendChange(txn, header, a.SerializeAsString());
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, Feed());
  ASSERT_EQ(feed.size(), 2u);
  v1::Change expected = header;
  *expected.mutable_appointment() = a;
  EXPECT_EQ(feed[1].SerializeAsString(), expected.SerializeAsString());
}

TEST_F(AppointmentBookTest, TransitionChecksScopeEtagAndRuleAndReplays) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment held, Take(At(1, 10), true, now_));
  const Call desk = Desk("ConfirmAppointment");
  const v1::ConfirmAppointmentRequest req = Confirm("confirm-1", held);
  int applied = 0;
  auto count = [&](Transaction&, v1::Appointment&, const v1::ClinicSchedule&, absl::Time) {
    ++applied;
    return absl::OkStatus();
  };

  EXPECT_EQ(ErrorReason(book_
                            .Transition(OtherDesk("ConfirmAppointment"),
                                        TransitionOf(req, AppointmentAction::kConfirm, count))
                            .status()),
            reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment booked,
      book_.Transition(desk, TransitionOf(req, AppointmentAction::kConfirm, count)));
  EXPECT_EQ(booked.status(), v1::BOOKED);
  EXPECT_FALSE(booked.has_hold_expire_time());
  EXPECT_EQ(booked.etag(), "v2");
  EXPECT_EQ(booked.change_sequence(), 2);
  ASSERT_OK_AND_ASSIGN(
      v1::Appointment replay,
      book_.Transition(desk, TransitionOf(req, AppointmentAction::kConfirm, count)));
  EXPECT_EQ(replay.SerializeAsString(), booked.SerializeAsString());
  EXPECT_EQ(applied, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> feed, Feed());
  EXPECT_EQ(feed.size(), 2u);

  // The etag read before the confirmation is stale now.
  absl::StatusOr<v1::Appointment> stale =
      book_.Transition(desk, TransitionOf(Confirm("confirm-2", held), AppointmentAction::kConfirm));
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);
  EXPECT_EQ(ErrorMetadata(stale.status(), "current_etag"), "v2");

  // A booked appointment cannot be confirmed again.
  EXPECT_THAT(book_.Transition(
                  desk, TransitionOf(Confirm("confirm-3", booked), AppointmentAction::kConfirm)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ConfirmAppointmentRequest bad = Confirm("confirm-4", booked);
  bad.set_id("nope");
  EXPECT_THAT(book_.Transition(desk, TransitionOf(bad, AppointmentAction::kConfirm)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id")));
  bad = Confirm("", booked);
  EXPECT_THAT(book_.Transition(desk, TransitionOf(bad, AppointmentAction::kConfirm)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_EQ(wakes_, 0);  // nothing for billing
}

TEST_F(AppointmentBookTest, ANoShowIsChargedThroughTheOutbox) {
  ASSERT_OK_AND_ASSIGN(v1::Appointment booked, Take(At(1, 10), false, now_));
  v1::MarkNoShowRequest req;
  req.set_request_id("ns");
  req.set_id(booked.id());
  req.set_etag(booked.etag());
  ASSERT_OK_AND_ASSIGN(v1::Appointment noshow,
                       book_.Transition(Later(Desk("MarkNoShow"), absl::Hours(28)),
                                        TransitionOf(req, AppointmentAction::kNoShow)));
  EXPECT_EQ(noshow.status(), v1::NOSHOW);
  EXPECT_EQ(wakes_, 1);
  // The no-show freed its time.
  ASSERT_OK(Take(At(1, 10), false, now_ + absl::Hours(1)).status());
}

// Issue 14: migration 3 gives the appointments still ahead their patients' granules (so a booking
// after the upgrade cannot overlap them) and leaves cancelled ones out.
TEST(SchedulingMigrationsTest, AppointmentsAheadTakeTheirPatientsTime) {
  std::unique_ptr<Database> db = ::smp::testing::OpenNewTestDatabase().value();
  const absl::Time now = absl::FromUnixSeconds(1'900'000'200);  // on a 5-minute mark
  const std::vector<Migration>& all = SchedulingMigrations();
  ASSERT_OK(ApplyMigrations(*db, std::vector<Migration>(all.begin(), all.begin() + 2), now));
  const int64_t start = ToDbMicros(now + absl::Hours(24));
  const int64_t end = ToDbMicros(now + absl::Hours(25));
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (const auto& [id, patient, status] :
         {std::tuple{"A1", "P1", "BOOKED"}, std::tuple{"A2", "P2", "CANCELLED"}}) {
      RETURN_IF_ERROR(txn.Exec(
          "INSERT INTO appointments (id, clinic_id, patient_id, practitioner_id, chair_id, type, "
          "plan_id, session_number, start_time, end_time, block_end_time, status, "
          "hold_expire_time, record, version) VALUES (?, 'C', ?, 'T', 'CH', 'CONSULTATION', '', "
          "0, ?, ?, ?, ?, 0, '', 1)",
          {std::string(id), std::string(patient), start, end, end, std::string(status)}));
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(ApplyMigrations(*db, all, now));
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto booked, txn.Query("SELECT COUNT(*) FROM occupancy WHERE resource_id = "
                                            "'patient:P1' AND appointment_id = 'A1'",
                                            {}));
    EXPECT_EQ(booked[0].Int(0), 12);  // one hour of 5-minute granules
    ASSIGN_OR_RETURN(
        auto cancelled,
        txn.Query("SELECT COUNT(*) FROM occupancy WHERE resource_id = 'patient:P2'", {}));
    EXPECT_EQ(cancelled[0].Int(0), 0);
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace smp::scheduling::testing
