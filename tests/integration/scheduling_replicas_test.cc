// Three scheduling processes on one database behind one address (a round_robin channel over the
// three), with a real identity and redis-server: on PostgreSQL (the deployment for several
// replicas) and on SQLite (three processes on one file). What the replicas share is the database
// only, so these tests check what it must carry:
//   - contention: concurrent bookings of the same slots through every replica: exactly one wins
//     each slot, the rest are refused SLOT_TAKEN, no overlapping live appointments of a
//     practitioner, chair or patient, and the occupancy rows are exactly the winners';
//   - kill -9 of a replica in the middle of booking load: every booking a client was told OK is
//     there afterwards, read through the survivors and through the restarted replica;
//   - the outbox: billing's charges from completed visits arrive once each although the replica
//     delivering them is killed in the middle of the delivery (its claim lapses, a survivor sends
//     the event again, billing deduplicates).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/testing/test_database.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/replica_testing.h"
#include "tests/integration/service_process.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::Backend;
using ::smp::testing::CallContext;
using ::smp::testing::IdentityHarness;
using ::smp::testing::ServiceProcess;

constexpr int kReplicas = 3;
constexpr char kZone[] = "America/Chicago";
// Consultations: 60 min, then the clinic's cleaning buffer.
constexpr absl::Duration kConsultation = absl::Minutes(60);
constexpr absl::Duration kBuffer = absl::Minutes(30);
constexpr absl::Duration kGranule = absl::Minutes(5);

bool Live(const v1::Appointment& a) {
  return a.status() != v1::CANCELLED && a.status() != v1::NOSHOW &&
         a.status() != v1::APPOINTMENT_STATUS_STOPPED;
}

// Calls that may fail while a replica dies: the client sends the same request (same request_id)
// again.
bool Transient(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_code() == grpc::StatusCode::CANCELLED ||
         s.error_code() == grpc::StatusCode::UNKNOWN;
}

class SchedulingReplicasTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    admin_ = harness_.admin_token();
    clinic_ = harness_.MakeClinic("Austin", kZone);
    for (int i = 0; i < 2; ++i) {
      practitioners_.push_back(
          harness_.MakeStaff(absl::StrCat("tech.", i), common::v1::ROLE_TECHNICIAN, clinic_));
    }
    harness_.MakeStaff("desk", common::v1::ROLE_FRONT_DESK, clinic_);
    desk_ = harness_.Login("desk");
    tech_ = harness_.Login("tech.0");
    service_account_ = harness_.MakeServiceAccount("svc.scheduling");
    ASSERT_OK_AND_ASSIGN(database_, testing::NewSharedDatabase(GetParam(), "scheduling"));
    ASSERT_TRUE(absl::LoadTimeZone(kZone, &zone_));
    day_ = absl::ToCivilDay(absl::Now(), zone_) + 8;
  }

  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartReplica() {
    std::vector<std::string> args = database_.flags;
    args.push_back(harness_.RedisFlag());
    args.insert(args.end(), service_account_.begin(), service_account_.end());
    args.insert(args.end(), replica_flags_.begin(), replica_flags_.end());
    return ServiceProcess::Start(SMP_SCHEDULING_BINARY, args);
  }

  // The replicas, one channel over them, and the clinic set up through it.
  void StartReplicasAndClinic(std::vector<std::string> flags = {}) {
    replica_flags_ = std::move(flags);
    std::vector<std::string> addresses;
    for (int i = 0; i < kReplicas; ++i) {
      ASSERT_OK_AND_ASSIGN(replicas_[i], StartReplica());
      addresses.push_back(replicas_[i]->address());
      direct_[i] = v1::SchedulingService::NewStub(
          grpc::CreateChannel(addresses.back(), grpc::InsecureChannelCredentials()));
    }
    addresses_ = addresses;
    stub_ = v1::SchedulingService::NewStub(testing::RoundRobinChannel(addresses_));
    SetUpClinic();
  }

  // Each call of the set-up lands on whichever replica is next: what one writes, the others use.
  void SetUpClinic() {
    v1::UpdateClinicScheduleRequest schedule;
    schedule.set_request_id("schedule");
    schedule.mutable_schedule()->set_clinic_id(clinic_);
    for (int day = 1; day <= 7; ++day) {
      v1::WeeklyInterval* w = schedule.mutable_schedule()->add_opening_hours();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(8);
      w->mutable_end_time()->set_hours(20);
    }
    schedule.mutable_schedule()->mutable_buffer_after()->set_seconds(absl::ToInt64Seconds(kBuffer));
    v1::ClinicSchedule saved;
    grpc::Status s = stub_->UpdateClinicSchedule(CallContext(admin_).get(), schedule, &saved);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (int i = 0; i < 2; ++i) {
      v1::CreateChairRequest chair;
      chair.set_request_id(absl::StrCat("chair-", i));
      chair.mutable_chair()->set_clinic_id(clinic_);
      chair.mutable_chair()->set_name(absl::StrCat("Chair ", i + 1));
      v1::Chair made;
      s = stub_->CreateChair(CallContext(admin_).get(), chair, &made);
      ASSERT_TRUE(s.ok()) << s.error_message();
      chairs_.push_back(made.id());
    }
    for (size_t i = 0; i < practitioners_.size(); ++i) {
      v1::SetWorkingHoursRequest hours;
      hours.set_request_id(absl::StrCat("hours-", i));
      hours.mutable_working_hours()->set_practitioner_id(practitioners_[i]);
      hours.mutable_working_hours()->set_clinic_id(clinic_);
      for (int day = 1; day <= 7; ++day) {
        v1::WeeklyInterval* w = hours.mutable_working_hours()->add_intervals();
        w->set_day(static_cast<common::v1::DayOfWeek>(day));
        w->mutable_start_time()->set_hours(9);
        w->mutable_end_time()->set_hours(18);
      }
      v1::WorkingHours out;
      s = stub_->SetWorkingHours(CallContext(admin_).get(), hours, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    for (int i = 0; i < 2; ++i) {
      v1::CreatePatientRequest patient;
      patient.set_request_id(absl::StrCat("patient-", i));
      patient.mutable_patient()->set_given_name(absl::StrCat("Pat", i));
      patient.mutable_patient()->set_family_name("Rivera");
      patient.mutable_patient()->set_phone(absl::StrCat("+1512555014", i));
      patient.mutable_patient()->set_preferred_clinic_id(clinic_);
      v1::Patient p;
      s = stub_->CreatePatient(CallContext(desk_).get(), patient, &p);
      ASSERT_TRUE(s.ok()) << s.error_message();
      patients_.push_back(p.id());
    }
  }

  // Slot `n` of the test's calendar: six 90-minute blocks a day (09:00 to 18:00, clinic-local),
  // from day_ on.
  absl::Time Slot(int n) const {
    return zone_.At(absl::CivilMinute(day_ + n / 6) + 9 * 60 + (n % 6) * 90).pre;
  }

  v1::BookAppointmentRequest Booking(const std::string& request_id, absl::Time start,
                                     int practitioner, int chair, int patient) const {
    v1::BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic_);
    req.set_patient_id(patients_[static_cast<size_t>(patient)]);
    req.set_practitioner_id(practitioners_[static_cast<size_t>(practitioner)]);
    req.set_chair_id(chairs_[static_cast<size_t>(chair)]);
    req.set_type(v1::CONSULTATION);
    *req.mutable_start_time() = ToProtoTimestamp(start);
    return req;
  }

  // Every appointment of the clinic starting in [from, to), through `stub`.
  std::vector<v1::Appointment> ListAll(v1::SchedulingService::Stub& stub, absl::Time from,
                                       absl::Time to) {
    std::vector<v1::Appointment> all;
    v1::ListAppointmentsRequest req;
    req.set_clinic_id(clinic_);
    *req.mutable_period()->mutable_start_time() = ToProtoTimestamp(from);
    *req.mutable_period()->mutable_end_time() = ToProtoTimestamp(to);
    req.set_page_size(500);
    do {
      v1::ListAppointmentsResponse page;
      grpc::Status s = stub.ListAppointments(CallContext(desk_).get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      all.insert(all.end(), page.appointments().begin(), page.appointments().end());
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
    return all;
  }

  // No two live appointments overlap on a practitioner or a chair (appointment plus buffer) or on
  // a patient (the appointment itself).
  static void ExpectNoDoubleBooking(const std::vector<v1::Appointment>& appointments) {
    for (size_t i = 0; i < appointments.size(); ++i) {
      const v1::Appointment& a = appointments[i];
      if (!Live(a)) continue;
      for (size_t j = i + 1; j < appointments.size(); ++j) {
        const v1::Appointment& b = appointments[j];
        if (!Live(b)) continue;
        const absl::Time a_start = FromProtoTimestamp(a.start_time());
        const absl::Time a_end = FromProtoTimestamp(a.end_time());
        const absl::Time b_start = FromProtoTimestamp(b.start_time());
        const absl::Time b_end = FromProtoTimestamp(b.end_time());
        const bool blocks_overlap = a_start < b_end + kBuffer && b_start < a_end + kBuffer;
        const bool visits_overlap = a_start < b_end && b_start < a_end;
        EXPECT_FALSE(blocks_overlap && a.practitioner_id() == b.practitioner_id())
            << "practitioner double-booked: " << a.id() << " and " << b.id();
        EXPECT_FALSE(blocks_overlap && a.chair_id() == b.chair_id())
            << "chair double-booked: " << a.id() << " and " << b.id();
        EXPECT_FALSE(visits_overlap && a.patient_id() == b.patient_id())
            << "patient double-booked: " << a.id() << " and " << b.id();
      }
    }
  }

  // The occupancy table, read directly: each live consultation holds exactly its granules (the
  // block for its practitioner and its chair, the visit for its patient) and nothing else holds
  // any (a refused or retried booking left no row).
  void ExpectOccupancyIsTheLiveAppointments(const std::vector<v1::Appointment>& appointments) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, testing::Open(database_.where));
    std::map<std::string, int64_t> rows;
    ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      rows.clear();
      ASSIGN_OR_RETURN(auto result, txn.Query("SELECT appointment_id, COUNT(*) FROM occupancy "
                                              "GROUP BY appointment_id"));
      for (const Row& row : result) rows[row.Text(0)] = row.Int(1);
      return absl::OkStatus();
    }));
    const int64_t expected = 2 * ((kConsultation + kBuffer) / kGranule) + kConsultation / kGranule;
    std::set<std::string> live;
    for (const v1::Appointment& a : appointments) {
      if (!Live(a)) continue;
      live.insert(a.id());
      EXPECT_EQ(rows[a.id()], expected) << a.id();
    }
    for (const auto& [id, count] : rows) {
      EXPECT_TRUE(live.contains(id)) << id << " holds " << count << " occupancy rows";
    }
  }

  IdentityHarness harness_;
  testing::SharedDatabase database_;
  std::vector<std::string> service_account_;
  std::vector<std::string> replica_flags_;
  std::unique_ptr<ServiceProcess> replicas_[kReplicas];
  std::unique_ptr<v1::SchedulingService::Stub> direct_[kReplicas];
  std::vector<std::string> addresses_;
  std::unique_ptr<v1::SchedulingService::Stub> stub_;  // round robin over the replicas
  std::string admin_, desk_, tech_, clinic_;
  std::vector<std::string> practitioners_, chairs_, patients_;
  absl::TimeZone zone_;
  absl::CivilDay day_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SchedulingReplicasTest,
                         ::testing::ValuesIn(testing::AllBackends()), testing::BackendName);

TEST_P(SchedulingReplicasTest, ContendedSlotsAreBookedOnceAcrossReplicas) {
  StartReplicasAndClinic();
  // 12 clients, each with its own channel over the three replicas, take the slots in the same
  // order, so that every slot is asked for by all 12 at once. Their requests differ in
  // practitioner, chair and patient, but any two share one of them: (p0 c0 q0) (p1 c1 q0)
  // (p0 c1 q1) (p1 c0 q1), each three times.
  constexpr int kClients = 12, kSlots = 12;
  struct Variant {
    int practitioner, chair, patient;
  };
  constexpr Variant kVariants[] = {{0, 0, 0}, {1, 1, 0}, {0, 1, 1}, {1, 0, 1}};
  absl::Mutex mu;
  std::map<int, std::vector<std::string>> winners;  // slot -> appointment ids
  std::set<std::string> refused_on;                 // the resources losers were refused for
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::SchedulingService::NewStub(testing::RoundRobinChannel(addresses_));
      const Variant v = kVariants[c % 4];
      for (int slot = 0; slot < kSlots; ++slot) {
        v1::Appointment booked;
        grpc::Status s = stub->BookAppointment(CallContext(desk_).get(),
                                               Booking(absl::StrCat("c", c, "-s", slot), Slot(slot),
                                                       v.practitioner, v.chair, v.patient),
                                               &booked);
        absl::MutexLock lock(&mu);
        const absl::Status status = FromGrpcStatus(s);
        if (s.ok()) {
          winners[slot].push_back(booked.id());
        } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                   ErrorReason(status) == reason::kSlotTaken) {
          refused_on.insert(ErrorMetadata(status, "resource"));
        } else {
          ++other;
          ADD_FAILURE() << "slot " << slot << ": " << s.error_code() << " " << s.error_message();
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  std::set<std::string> won;
  for (int slot = 0; slot < kSlots; ++slot) {
    EXPECT_EQ(winners[slot].size(), 1u) << "slot " << slot;
    won.insert(winners[slot].begin(), winners[slot].end());
  }
  // The refusals name the resource that collided. Whichever variant wins a slot, one other
  // shares only its practitioner with it, one only its chair, one only its patient.
  EXPECT_EQ(refused_on, (std::set<std::string>{"chair", "patient", "practitioner"}));

  // Overlapping starts (every 15 minutes between the booked blocks) all collide, whichever
  // replica takes them.
  std::atomic<int> overlapping_ok{0};
  clients.clear();
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::SchedulingService::NewStub(testing::RoundRobinChannel(addresses_));
      const Variant v = kVariants[c];
      for (int slot = 0; slot < 6; ++slot) {
        for (int offset : {15, 30, 45, 60, 75}) {
          v1::Appointment booked;
          grpc::Status s = stub->BookAppointment(
              CallContext(desk_).get(),
              Booking(absl::StrCat("overlap-", c, "-", slot, "-", offset),
                      Slot(slot) + absl::Minutes(offset), v.practitioner, v.chair, v.patient),
              &booked);
          if (s.ok()) ++overlapping_ok;
          if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
            ADD_FAILURE() << s.error_code() << " " << s.error_message();
          }
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(overlapping_ok.load(), 0);

  // Every replica lists the same appointments: the winners, nothing else.
  const absl::Time from = Slot(0) - absl::Hours(1);
  const absl::Time to = Slot(kSlots) + absl::Hours(24);
  for (int r = 0; r < kReplicas; ++r) {
    const std::vector<v1::Appointment> listed = ListAll(*direct_[r], from, to);
    std::set<std::string> ids;
    for (const v1::Appointment& a : listed) ids.insert(a.id());
    EXPECT_EQ(ids, won) << "replica " << r;
    if (r == 0) {
      ExpectNoDoubleBooking(listed);
      ExpectOccupancyIsTheLiveAppointments(listed);
    }
  }
}

// Bookings of free slots of one clinic, 16 at a time through the three replicas: every one is
// booked. Each advances the clinic's change-feed head; before its writers were queued on it
// (WriteQueue, common/db/README.md "Hot rows"), some of them lost the SERIALIZABLE race at the
// head 20 times running and were answered ABORTED on PostgreSQL.
TEST_P(SchedulingReplicasTest, ConcurrentBookingsOfOneClinicAllSucceedAcrossReplicas) {
  StartReplicasAndClinic();
  constexpr int kClients = 16, kPerClient = 10;
  absl::Mutex mu;
  std::vector<std::string> booked_ids;
  std::map<std::string, int> failures;  // "<code> <message>" -> count
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::SchedulingService::NewStub(testing::RoundRobinChannel(addresses_));
      for (int i = 0; i < kPerClient; ++i) {
        // Two lanes (practitioner, chair and patient 0 or 1), each slot of a lane booked once.
        const int n = i * kClients + c;
        v1::Appointment booked;
        grpc::Status s = stub->BookAppointment(
            CallContext(desk_).get(),
            Booking(absl::StrCat("lane-", n), Slot(n / 2), n % 2, n % 2, n % 2), &booked);
        absl::MutexLock lock(&mu);
        if (s.ok()) {
          booked_ids.push_back(booked.id());
        } else {
          ++failures[absl::StrCat(s.error_code(), " ", s.error_message())];
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (const auto& [failure, count] : failures) ADD_FAILURE() << count << " x " << failure;
  EXPECT_EQ(booked_ids.size(), static_cast<size_t>(kClients * kPerClient));
  const std::vector<v1::Appointment> listed =
      ListAll(*stub_, Slot(0) - absl::Hours(1), Slot(kClients * kPerClient / 2) + absl::Hours(24));
  EXPECT_EQ(listed.size(), booked_ids.size());
  ExpectNoDoubleBooking(listed);
}

TEST_P(SchedulingReplicasTest, AcknowledgedBookingsSurviveKill9OfAReplicaMidLoad) {
  StartReplicasAndClinic();
  // 12 clients book free slots (no contention: two lanes, practitioner, chair and patient 0 or 1,
  // in distinct 90-minute blocks) as fast as they can, each at least 4 and on until the kill is
  // over (at most 60); a replica is killed once 30 bookings are acknowledged. A client whose call
  // fails on the way (the replica died under it) sends the same request again: the survivors
  // answer it, with the first booking if it had committed.
  constexpr int kClients = 12, kMinPerClient = 4, kMaxPerClient = 60, kKillAfter = 30, kKilled = 1;
  std::atomic<bool> killed{false};
  std::atomic<int> attempted{0};
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> unanswered{0}, retried{0};
  std::vector<std::thread> clients;
  // Client 0 is a branch that talks to the replica about to die until a call fails under it.
  auto client = [&](int c) {
    auto any = v1::SchedulingService::NewStub(testing::RoundRobinChannel(addresses_));
    auto doomed = v1::SchedulingService::NewStub(
        grpc::CreateChannel(addresses_[kKilled], grpc::InsecureChannelCredentials()));
    v1::SchedulingService::Stub* stub = c == 0 ? doomed.get() : any.get();
    for (int i = 0; i < kMaxPerClient && (i < kMinPerClient || !killed.load()); ++i) {
      ++attempted;
      const int slot = i * kClients + c;
      const v1::BookAppointmentRequest req =
          Booking(absl::StrCat("load-", slot), Slot(slot / 2), slot % 2, slot % 2, slot % 2);
      grpc::Status s;
      v1::Appointment booked;
      for (int attempt = 0; attempt < 20; ++attempt) {
        s = stub->BookAppointment(CallContext(desk_).get(), req, &booked);
        if (!Transient(s)) break;
        ++retried;
        stub = any.get();
        absl::SleepFor(absl::Milliseconds(100));
      }
      if (s.ok()) {
        absl::MutexLock lock(&mu);
        acknowledged.push_back(booked.id());
      } else {
        ++unanswered;
        ADD_FAILURE() << "slot " << slot << ": " << s.error_code() << " " << s.error_message();
      }
    }
  };
  for (int c = 1; c < kClients; ++c) clients.emplace_back(client, c);
  bool loaded = false;
  {
    absl::MutexLock lock(&mu);
    auto enough = [&] { return acknowledged.size() >= kKillAfter; };
    loaded = mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  EXPECT_TRUE(loaded) << "fewer than " << kKillAfter << " bookings in 30 s";
  // The test holds the clinic's change-feed head (every booking advances it) in an open write
  // transaction for a moment, so that bookings are surely in the middle of their transactions on
  // every replica, the one killed included, when the kill comes.
  absl::Notification locked, unlock;
  std::thread holder([&] {
    absl::StatusOr<std::unique_ptr<Database>> db = testing::Open(database_.where);
    ASSERT_OK(db.status());
    EXPECT_OK((*db)->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(txn.Exec("UPDATE feed_heads SET head = head WHERE clinic_id = ?", {clinic_}));
      if (!locked.HasBeenNotified()) locked.Notify();
      unlock.WaitForNotification();
      return absl::OkStatus();
    }));
  });
  EXPECT_TRUE(locked.WaitForNotificationWithTimeout(absl::Seconds(10)));
  clients.emplace_back(client, 0);          // its first booking waits on the killed replica
  absl::SleepFor(absl::Milliseconds(300));  // each client's next booking is waiting
  replicas_[kKilled]->Kill();               // SIGKILL with bookings in flight on it
  killed = true;
  unlock.Notify();
  holder.join();
  for (std::thread& t : clients) t.join();
  // The clients whose booking was on the killed replica (client 0's at least) saw it fail and
  // sent it again.
  EXPECT_GE(retried.load(), 1);
  EXPECT_EQ(unanswered.load(), 0);
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(attempted.load()));

  auto expect_all_there = [&](v1::SchedulingService::Stub& stub, const std::string& through) {
    for (const std::string& id : acknowledged) {
      v1::GetAppointmentRequest get;
      get.set_id(id);
      v1::Appointment a;
      grpc::Status s = stub.GetAppointment(CallContext(desk_).get(), get, &a);
      EXPECT_TRUE(s.ok()) << id << " through " << through << ": " << s.error_message();
      EXPECT_EQ(a.status(), v1::BOOKED) << id;
    }
  };
  expect_all_there(*stub_, "the survivors");
  // The killed replica comes back (on a new port) and sees the same.
  ASSERT_OK_AND_ASSIGN(replicas_[kKilled], StartReplica());
  auto restarted = v1::SchedulingService::NewStub(
      grpc::CreateChannel(replicas_[kKilled]->address(), grpc::InsecureChannelCredentials()));
  expect_all_there(*restarted, "the restarted replica");

  const std::vector<v1::Appointment> listed = ListAll(
      *restarted, Slot(0) - absl::Hours(1), Slot(kClients * kMaxPerClient / 2) + absl::Hours(24));
  std::set<std::string> ids;
  for (const v1::Appointment& a : listed) ids.insert(a.id());
  EXPECT_EQ(ids, std::set<std::string>(acknowledged.begin(), acknowledged.end()));
  ExpectNoDoubleBooking(listed);
  ExpectOccupancyIsTheLiveAppointments(listed);
  RecordProperty("retried_calls", retried.load());
}

TEST_P(SchedulingReplicasTest, ChargesArriveOnceWhenTheDeliveringReplicaIsKilledMidDelivery) {
  // Billing, the receiver, behind a proxy that can hold its traffic.
  ASSERT_OK_AND_ASSIGN(auto billing,
                       ServiceProcess::Start(SMP_BILLING_BINARY,
                                             {"--data_dir=" + smp::testing::MakeTempDir("billing"),
                                              harness_.RedisFlag()}));
  auto billing_stub = billing::v1::BillingService::NewStub(
      grpc::CreateChannel(billing->address(), grpc::InsecureChannelCredentials()));
  billing::v1::CreatePriceListRequest prices;
  prices.set_request_id("prices");
  billing::v1::PriceList* list = prices.mutable_price_list();
  list->set_clinic_id(clinic_);
  const absl::CivilDay yesterday = absl::ToCivilDay(absl::Now(), zone_) - 1;
  list->mutable_effective_date()->set_year(static_cast<int32_t>(yesterday.year()));
  list->mutable_effective_date()->set_month(yesterday.month());
  list->mutable_effective_date()->set_day(yesterday.day());
  list->set_time_zone(kZone);
  list->set_currency_code("USD");
  auto usd = [](int64_t cents) {
    common::v1::Money m;
    m.set_amount_minor(cents);
    m.set_currency_code("USD");
    return m;
  };
  *list->mutable_consultation_fee() = usd(15000);
  *list->mutable_session_prices()->mutable_hairline() = usd(145000);
  *list->mutable_session_prices()->mutable_crown() = usd(160000);
  *list->mutable_session_prices()->mutable_full_scalp() = usd(220000);
  *list->mutable_session_prices()->mutable_scar_camouflage() = usd(90000);
  *list->mutable_sample_patch_fee() = usd(10000);
  *list->mutable_touch_up_fee() = usd(60000);
  *list->mutable_late_cancellation_fee() = usd(5000);
  *list->mutable_no_show_fee() = usd(7500);
  billing::v1::PriceList saved;
  grpc::Status priced = billing_stub->CreatePriceList(CallContext(admin_).get(), prices, &saved);
  ASSERT_TRUE(priced.ok()) << priced.error_message();
  ASSERT_OK_AND_ASSIGN(auto proxy, testing::HoldingProxy::Start(billing->port()));

  // A delivery waits at most 5 s for billing; a claim lapses after 6 s (instead of a minute), so
  // that the events of the killed replica go out again within the test.
  StartReplicasAndClinic({"--billing_address=" + proxy->address(), "--outbox_interval=100ms",
                          "--billing_deadline=5s", "--outbox_claim_lease=6s"});

  // Visits, up to the last step, through any replica.
  constexpr int kVisits = 6;
  std::vector<v1::Appointment> visits(kVisits);
  for (int i = 0; i < kVisits; ++i) {
    grpc::Status s = stub_->BookAppointment(
        CallContext(desk_).get(), Booking(absl::StrCat("visit-", i), Slot(i), 0, 0, i % 2),
        &visits[i]);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CheckInAppointmentRequest checkin;
    checkin.set_request_id(absl::StrCat("checkin-", i));
    checkin.set_id(visits[i].id());
    checkin.set_etag(visits[i].etag());
    s = stub_->CheckInAppointment(CallContext(desk_).get(), checkin, &visits[i]);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::StartAppointmentRequest start;
    start.set_request_id(absl::StrCat("start-", i));
    start.set_id(visits[i].id());
    start.set_etag(visits[i].etag());
    s = stub_->StartAppointment(CallContext(tech_).get(), start, &visits[i]);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Billing's traffic is held: every delivery from now on hangs in the middle. The first visit
  // completes on replica 0, whose commit wakes its own dispatcher at once: it claims the charge
  // and is sending it when it is killed (the other replicas poll every 100 ms, so it is theirs
  // only if a poll falls between that commit and the wake-up). The others complete through any
  // replica.
  proxy->Hold();
  for (int i = 0; i < kVisits; ++i) {
    v1::CompleteAppointmentRequest complete;
    complete.set_request_id(absl::StrCat("complete-", i));
    complete.set_id(visits[i].id());
    complete.set_etag(visits[i].etag());
    v1::CompleteAppointmentResponse done;
    grpc::Status s = (i == 0 ? *direct_[0] : *stub_)
                         .CompleteAppointment(CallContext(tech_).get(), complete, &done);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  absl::SleepFor(absl::Milliseconds(500));  // the other replicas' passes claim the rest
  // Charges are claimed (due again only after their lease) and in flight, none delivered: each
  // replica's pass is stuck on its first claim (a pass sends its claims one after another, so
  // charges committed after all three were stuck wait unclaimed).
  int64_t claimed = -1;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, testing::Open(database_.where));
    ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM outbox WHERE destination = "
                                            "'billing' AND delivered_at IS NULL AND "
                                            "next_attempt_at > ?",
                                            {ToDbMicros(absl::Now())}));
      claimed = rows.at(0).Int(0);
      return absl::OkStatus();
    }));
  }
  EXPECT_GE(claimed, kReplicas);
  replicas_[0]->Kill();
  proxy->Release();  // what the dead replica had sent reaches billing too
  const absl::Time released = absl::Now();

  // Each charge arrives once: one issued invoice per completed visit, each from its own event.
  billing::v1::ListInvoicesRequest invoices;
  invoices.set_clinic_id(clinic_);
  invoices.set_page_size(100);
  auto list_invoices = [&] {
    billing::v1::ListInvoicesResponse listed;
    grpc::Status s = billing_stub->ListInvoices(CallContext(admin_).get(), invoices, &listed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return listed;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && list_invoices().invoices_size() < kVisits) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  absl::SleepFor(absl::Seconds(1));  // later passes must not charge again
  const billing::v1::ListInvoicesResponse listed = list_invoices();
  ASSERT_EQ(listed.invoices_size(), kVisits);
  std::set<std::string> events;
  std::set<int64_t> numbers;
  absl::Duration last_arrival;
  for (const billing::v1::Invoice& invoice : listed.invoices()) {
    events.insert(invoice.source_event_id());
    numbers.insert(invoice.number());
    EXPECT_EQ(invoice.totals().total().amount_minor(), 15000);  // the consultation fee
    last_arrival = std::max(last_arrival, FromProtoTimestamp(invoice.issue_time()) - released);
  }
  EXPECT_EQ(events.size(), static_cast<size_t>(kVisits));
  EXPECT_EQ(numbers, (std::set<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_GE(proxy->connections(), 1);
  // The dead replica's charges came when their claim lapsed (about 5.5 s after the release).
  RecordProperty("last_charge_after_release_ms",
                 static_cast<int>(absl::ToInt64Milliseconds(last_arrival)));

  // Nothing is left waiting in scheduling's outbox.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, testing::Open(database_.where));
  int64_t undelivered = -1;
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT COUNT(*) FROM outbox WHERE destination = "
                                          "'billing' AND delivered_at IS NULL"));
    undelivered = rows.at(0).Int(0);
    return absl::OkStatus();
  }));
  EXPECT_EQ(undelivered, 0);
}

}  // namespace
}  // namespace smp::scheduling
