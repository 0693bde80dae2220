// The scheduling service as a real process, with identity, a real redis-server and a stand-in for
// the compliance gate, over real gRPC.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
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
#include "common/redis/testing/redis_server.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::ServiceProcess;
namespace cv1 = ::smp::compliance::v1;

using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return CallContext(token); }

// Stands in for compliance's EligibilityService: answers as told, counts calls.
class FakeEligibility final : public cv1::EligibilityService::Service {
 public:
  grpc::Status CheckEligibility(grpc::ServerContext*, const cv1::CheckEligibilityRequest* req,
                                cv1::CheckEligibilityResponse* out) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    last_ = *req;
    out->set_allowed(allowed_);
    if (!allowed_) {
      auto* r = out->add_reasons();
      r->set_code(cv1::CONSENT_MISSING);
      r->set_message("no procedure consent on file");
    }
    return grpc::Status::OK;
  }
  void set_allowed(bool allowed) {
    absl::MutexLock lock(&mu_);
    allowed_ = allowed;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  cv1::CheckEligibilityRequest last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  absl::Mutex mu_;
  bool allowed_ = true;
  int calls_ = 0;
  cv1::CheckEligibilityRequest last_;
};

class SchedulingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    SetUpIdentity();
    // Scheduling's own service account, with which it calls compliance and billing.
    service_account_ = harness_.MakeServiceAccount("svc.scheduling");

    StartFakeCompliance();
    ASSERT_OK_AND_ASSIGN(scheduling_, StartScheduling(harness_.RedisFlag()));
    stub_ = v1::SchedulingService::NewStub(
        grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
    SetUpClinics();
  }

  void TearDown() override {
    scheduling_.reset();
    if (compliance_server_) compliance_server_->Shutdown();
  }

  // Restarts use the same data directory, as a restarted service would.
  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartScheduling(
      const std::string& redis, const std::vector<std::string>& extra = {}) {
    if (scheduling_dir_.empty()) scheduling_dir_ = smp::testing::MakeTempDir("sched");
    std::vector<std::string> args = {
        "--data_dir=" + scheduling_dir_, redis,
        absl::StrCat("--compliance_address=127.0.0.1:", compliance_port_),
        "--compliance_deadline=1s"};
    args.insert(args.end(), service_account_.begin(), service_account_.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return ServiceProcess::Start(SMP_SCHEDULING_BINARY, args);
  }

  void StartFakeCompliance() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &compliance_port_);
    builder.RegisterService(&eligibility_);
    compliance_server_ = builder.BuildAndStart();
    ASSERT_NE(compliance_server_, nullptr);
  }

  void SetUpIdentity() {
    admin_ = harness_.admin_token();
    clinic_a_ = harness_.MakeClinic("NewYork", "America/New_York");
    clinic_b_ = harness_.MakeClinic("London", "Europe/London");
    harness_.MakeStaff("desk.a", common::v1::ROLE_FRONT_DESK, clinic_a_);
    harness_.MakeStaff("desk.b", common::v1::ROLE_FRONT_DESK, clinic_b_);
    tech_ = harness_.MakeStaff("tech.a", common::v1::ROLE_TECHNICIAN, clinic_a_);
    desk_a_ = harness_.Login("desk.a");
    desk_b_ = harness_.Login("desk.b");
    tech_token_ = harness_.Login("tech.a");
  }

  void SetUpClinics() {
    for (const auto& [clinic, tz] :
         {std::pair{clinic_a_, "America/New_York"}, std::pair{clinic_b_, "Europe/London"}}) {
      v1::UpdateClinicScheduleRequest req;
      req.set_request_id("schedule-" + clinic);
      req.mutable_schedule()->set_clinic_id(clinic);
      req.mutable_schedule()->set_time_zone(tz);
      for (int day = 1; day <= 7; ++day) {
        v1::WeeklyInterval* w = req.mutable_schedule()->add_opening_hours();
        w->set_day(static_cast<common::v1::DayOfWeek>(day));
        w->mutable_start_time()->set_hours(8);
        w->mutable_end_time()->set_hours(20);
      }
      v1::ClinicSchedule out;
      grpc::Status s = stub_->UpdateClinicSchedule(Ctx(admin_).get(), req, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    for (const char* name : {"Chair 1", "Chair 2"}) {
      v1::CreateChairRequest req;
      req.set_request_id(absl::StrCat("chair-", std::string(1, name[6])));
      req.mutable_chair()->set_clinic_id(clinic_a_);
      req.mutable_chair()->set_name(name);
      v1::Chair out;
      ASSERT_TRUE(stub_->CreateChair(Ctx(admin_).get(), req, &out).ok());
    }
    v1::SetWorkingHoursRequest hours;
    hours.set_request_id("hours-tech");
    hours.mutable_working_hours()->set_practitioner_id(tech_);
    hours.mutable_working_hours()->set_clinic_id(clinic_a_);
    for (int day = 1; day <= 7; ++day) {
      v1::WeeklyInterval* w = hours.mutable_working_hours()->add_intervals();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(9);
      w->mutable_end_time()->set_hours(18);
    }
    v1::WorkingHours saved;
    ASSERT_TRUE(stub_->SetWorkingHours(Ctx(admin_).get(), hours, &saved).ok());

    v1::CreatePatientRequest patient;
    patient.set_request_id("patient-1");
    patient.mutable_patient()->set_given_name("Sam");
    patient.mutable_patient()->set_family_name("Rivera");
    patient.mutable_patient()->set_phone("+12125550142");
    patient.mutable_patient()->set_preferred_clinic_id(clinic_a_);
    v1::Patient p;
    grpc::Status s = stub_->CreatePatient(Ctx(desk_a_).get(), patient, &p);
    ASSERT_TRUE(s.ok()) << s.error_message();
    patient_ = p.id();
    // A day a week or more ahead, in New York.
    const absl::TimeZone ny = [] {
      absl::TimeZone z;
      absl::LoadTimeZone("America/New_York", &z);
      return z;
    }();
    ny_ = ny;
    day_ = absl::ToCivilDay(absl::Now(), ny) + 8;
  }

  absl::Time At(int hour, int minute = 0, int day_offset = 0) const {
    return ny_.At(absl::CivilMinute(day_ + day_offset) + hour * 60 + minute).pre;
  }

  v1::BookAppointmentRequest Booking(const std::string& request_id, absl::Time start,
                                     v1::AppointmentType type = v1::CONSULTATION) const {
    v1::BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic_a_);
    req.set_patient_id(patient_);
    req.set_practitioner_id(tech_);
    req.set_type(type);
    *req.mutable_start_time() = ToProtoTimestamp(start);
    return req;
  }

  grpc::Status Book(const v1::BookAppointmentRequest& req, v1::Appointment* out,
                    const std::string& token = "") {
    return stub_->BookAppointment(Ctx(token.empty() ? desk_a_ : token).get(), req, out);
  }

  int64_t Head(const std::string& clinic) {
    v1::ListChangesRequest req;
    req.set_clinic_id(clinic);
    v1::ListChangesResponse out;
    EXPECT_TRUE(stub_->ListChanges(Ctx(admin_).get(), req, &out).ok());
    return out.head_sequence();
  }

  IdentityHarness harness_;
  std::unique_ptr<ServiceProcess> scheduling_;
  std::string scheduling_dir_;
  std::vector<std::string> service_account_;
  std::unique_ptr<v1::SchedulingService::Stub> stub_;
  FakeEligibility eligibility_;
  std::unique_ptr<grpc::Server> compliance_server_;
  int compliance_port_ = 0;
  std::string admin_, desk_a_, desk_b_, tech_token_;
  std::string clinic_a_, clinic_b_, tech_, patient_;
  absl::TimeZone ny_;
  absl::CivilDay day_;
};

TEST_F(SchedulingIntegrationTest, FrontDeskOfAnotherClinicCanNeitherSeeNorBook) {
  v1::GetPatientRequest get;
  get.set_id(patient_);
  v1::Patient p;
  EXPECT_TRUE(stub_->GetPatient(Ctx(desk_a_).get(), get, &p).ok());
  EXPECT_THAT(stub_->GetPatient(Ctx(desk_b_).get(), get, &p),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"));
  v1::Appointment a;
  EXPECT_THAT(Book(Booking("b-books-a", At(10)), &a, desk_b_),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic scope"));
  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::CONSULTATION);
  *find.mutable_period()->mutable_start_date() = common::v1::LocalDate();
  v1::FindAvailabilityResponse slots;
  EXPECT_THAT(stub_->FindAvailability(Ctx(desk_b_).get(), find, &slots),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  v1::ListChangesRequest changes;
  changes.set_clinic_id(clinic_a_);
  v1::ListChangesResponse feed;
  EXPECT_THAT(stub_->ListChanges(Ctx(desk_b_).get(), changes, &feed),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_EQ(Head(clinic_a_), 0);
}

TEST_F(SchedulingIntegrationTest, FiftyConcurrentBookingsOfOneSlotYieldExactlyOne) {
  constexpr int kClients = 50;
  std::atomic<int> ok{0}, refused{0}, other{0}, slot_taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      v1::Appointment a;
      grpc::Status s = Book(Booking(absl::StrCat("race-", i), At(11)), &a);
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++refused;
        // The refusal says why, in the structured details a client switches on.
        if (ErrorReason(FromGrpcStatus(s)) == reason::kSlotTaken &&
            ErrorMetadata(FromGrpcStatus(s), "resource") == "practitioner") {
          ++slot_taken;
        }
      } else {
        ++other;
        ADD_FAILURE() << s.error_code() << " " << s.error_message();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), kClients - 1);
  EXPECT_EQ(slot_taken.load(), kClients - 1);
  EXPECT_EQ(other.load(), 0);

  v1::ListAppointmentsRequest list;
  list.set_clinic_id(clinic_a_);
  *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(0));
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(0, 0, 1));
  v1::ListAppointmentsResponse listed;
  ASSERT_TRUE(stub_->ListAppointments(Ctx(desk_a_).get(), list, &listed).ok());
  EXPECT_EQ(listed.appointments_size(), 1);
  EXPECT_EQ(Head(clinic_a_), 1);
}

TEST_F(SchedulingIntegrationTest, ReplayedRequestIdReturnsTheSameAppointment) {
  v1::Appointment first, again, other;
  ASSERT_TRUE(Book(Booking("replay-1", At(9)), &first).ok());
  ASSERT_TRUE(Book(Booking("replay-1", At(9)), &again).ok());
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());
  EXPECT_THAT(Book(Booking("replay-1", At(14)), &other),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "different request"));
  EXPECT_EQ(Head(clinic_a_), 1);
}

TEST_F(SchedulingIntegrationTest, WatcherSeesEveryChangeOnceInOrderAndResumes) {
  std::vector<int64_t> seen;
  absl::Mutex mu;
  auto watch = [&](int64_t since, int stop_after, grpc::ClientContext* ctx) {
    v1::WatchChangesRequest req;
    req.set_clinic_id(clinic_a_);
    req.set_since_sequence(since);
    auto reader = stub_->WatchChanges(ctx, req);
    v1::Change change;
    int got = 0;
    while (reader->Read(&change)) {
      {
        absl::MutexLock lock(&mu);
        seen.push_back(change.sequence());
      }
      if (++got == stop_after) ctx->TryCancel();
    }
    reader->Finish();
  };
  auto wait_for = [&](size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu);
        if (seen.size() >= n) return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  };

  auto first_ctx = Ctx(desk_a_);
  std::thread first(watch, 0, 3, first_ctx.get());
  std::vector<v1::Appointment> booked(3);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Book(Booking(absl::StrCat("w", i), At(9 + 2 * i)), &booked[i]).ok());
  ASSERT_TRUE(wait_for(3));
  first.join();  // disconnected after 3 changes

  // Changes made while no one watches are waiting when the branch comes back.
  v1::CancelAppointmentRequest cancel;
  cancel.set_request_id("w-cancel");
  cancel.set_id(booked[0].id());
  cancel.set_etag(booked[0].etag());
  cancel.set_reason("patient asked");
  cancel.set_initiator(v1::INITIATOR_PATIENT);
  v1::Appointment cancelled;
  ASSERT_TRUE(stub_->CancelAppointment(Ctx(desk_a_).get(), cancel, &cancelled).ok());

  auto second_ctx = Ctx(desk_a_);
  std::thread second(watch, 3, 3, second_ctx.get());
  ASSERT_TRUE(wait_for(4));
  v1::Appointment late;
  ASSERT_TRUE(Book(Booking("w-late", At(16)), &late).ok());
  v1::CheckInAppointmentRequest checkin;
  checkin.set_request_id("w-checkin");
  checkin.set_id(booked[1].id());
  checkin.set_etag(booked[1].etag());
  v1::Appointment arrived;
  ASSERT_TRUE(stub_->CheckInAppointment(Ctx(desk_a_).get(), checkin, &arrived).ok());
  ASSERT_TRUE(wait_for(6));
  second.join();

  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  v1::ListChangesRequest list;
  list.set_clinic_id(clinic_a_);
  list.set_since_sequence(3);
  v1::ListChangesResponse feed;
  ASSERT_TRUE(stub_->ListChanges(Ctx(desk_a_).get(), list, &feed).ok());
  ASSERT_EQ(feed.changes_size(), 3);
  EXPECT_EQ(feed.changes(0).type(), v1::CHANGE_TYPE_CANCELLED);
  EXPECT_EQ(feed.changes(1).type(), v1::CHANGE_TYPE_CREATED);
  EXPECT_EQ(feed.changes(2).type(), v1::CHANGE_TYPE_UPDATED);
  EXPECT_EQ(feed.changes(2).appointment().status(), v1::ARRIVED);
  EXPECT_EQ(feed.head_sequence(), 6);
}

// The end of a watch read on its own thread: its status and when it came.
struct WatchEnd {
  grpc::Status status;
  absl::Time at;
  int changes = 0;
};

TEST_F(SchedulingIntegrationTest, DisabledAccountsWatchEndsUnauthenticatedWithinASecond) {
  const std::string watcher_id =
      harness_.MakeStaff("watcher.a", common::v1::ROLE_FRONT_DESK, clinic_a_);
  const std::string watcher = harness_.Login("watcher.a");
  v1::Appointment booked;
  ASSERT_TRUE(Book(Booking("before-watch", At(9)), &booked).ok());

  auto ctx = Ctx(watcher);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  auto reader = stub_->WatchChanges(ctx.get(), req);
  absl::Notification first;
  WatchEnd end;
  std::thread reading([&] {
    v1::Change change;
    while (reader->Read(&change)) {
      if (++end.changes == 1) first.Notify();
    }
    end.at = absl::Now();
    end.status = reader->Finish();
  });
  ASSERT_TRUE(first.WaitForNotificationWithTimeout(absl::Seconds(10)));  // the watch is live
  absl::SleepFor(absl::Milliseconds(700));  // and has passed a session re-check or two

  identity::v1::DisableStaffRequest disable;
  disable.set_request_id("disable-watcher");
  disable.set_id(watcher_id);
  disable.set_reason("left the company");
  identity::v1::Staff disabled;
  const absl::Time disabled_at = absl::Now();
  grpc::Status s = harness_.stub().DisableStaff(Ctx(admin_).get(), disable, &disabled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  reading.join();
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << end.status.error_message();
  // --auth_cache_ttl is 500ms: a re-check at most every 500ms, a cached answer at most 500ms old.
  EXPECT_LT(end.at - disabled_at, absl::Milliseconds(1200));
  EXPECT_EQ(end.changes, 1);  // nothing after the account was disabled
}

TEST_F(SchedulingIntegrationTest, WatchesBeyondTheCapsAreResourceExhausted) {
  scheduling_.reset();
  ASSERT_OK_AND_ASSIGN(
      scheduling_,
      StartScheduling(harness_.RedisFlag(), {"--max_streams_per_session=2", "--max_streams=3"}));
  stub_ = v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
  v1::Appointment booked;
  ASSERT_TRUE(Book(Booking("cap", At(9)), &booked).ok());
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);

  struct Open {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader;
  };
  std::vector<Open> open;
  // Each admitted watch sends the one change at once: reading it proves the slot is taken.
  auto watch = [&](const std::string& token) -> grpc::Status {
    Open o{Ctx(token), nullptr};
    o.reader = stub_->WatchChanges(o.ctx.get(), req);
    v1::Change change;
    if (o.reader->Read(&change)) {
      open.push_back(std::move(o));
      return grpc::Status::OK;
    }
    return o.reader->Finish();
  };
  ASSERT_TRUE(watch(desk_a_).ok());
  ASSERT_TRUE(watch(desk_a_).ok());
  EXPECT_THAT(watch(desk_a_),
              GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_streams_per_session=2"));
  ASSERT_TRUE(watch(admin_).ok());  // another session: the third slot of the service
  EXPECT_THAT(watch(admin_), GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_streams=3"));

  // A closed watch frees its slot.
  open.front().ctx->TryCancel();
  open.front().reader->Finish();
  open.erase(open.begin());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  grpc::Status again;
  do {
    again = watch(desk_a_);
  } while (!again.ok() && absl::Now() < deadline);
  EXPECT_TRUE(again.ok()) << again.error_message();
  for (Open& o : open) {
    o.ctx->TryCancel();
    o.reader->Finish();
  }
}

TEST_F(SchedulingIntegrationTest, TwoHundredOpenWatchesDoNotStarveUnaryCalls) {
  // The default thread cap (--max_threads=128) once went to the first 128 watches.
  scheduling_.reset();
  ASSERT_OK_AND_ASSIGN(scheduling_,
                       StartScheduling(harness_.RedisFlag(), {"--max_streams_per_session=250"}));
  auto channel = grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials());
  stub_ = v1::SchedulingService::NewStub(channel);
  v1::Appointment booked;
  ASSERT_TRUE(Book(Booking("many", At(9)), &booked).ok());

  constexpr int kWatches = 200;
  grpc::CompletionQueue cq;
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientAsyncReader<v1::Change>>> readers;
  std::vector<v1::Change> first(kWatches);
  for (int i = 0; i < kWatches; ++i) {
    contexts.push_back(Ctx(desk_a_));
    readers.push_back(stub_->PrepareAsyncWatchChanges(contexts.back().get(), req, &cq));
    readers.back()->StartCall(reinterpret_cast<void*>(static_cast<intptr_t>(i)));
  }
  // Each started call, then its first change: every watch is admitted and open.
  int started = 0, received = 0;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  for (int events = 0; events < 2 * kWatches; ++events) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
    const intptr_t i = reinterpret_cast<intptr_t>(tag);
    ASSERT_TRUE(ok) << "watch " << (i % kWatches) << " ended early";
    if (i < kWatches) {
      ++started;
      readers[i]->Read(&first[i], reinterpret_cast<void*>(i + kWatches));
    } else {
      ++received;
      EXPECT_EQ(first[i - kWatches].sequence(), 1);
    }
  }
  EXPECT_EQ(started, kWatches);
  EXPECT_EQ(received, kWatches);

  // Unary calls are answered promptly while all of them stay open.
  for (int i = 0; i < 20; ++i) {
    v1::GetAppointmentRequest get;
    get.set_id(booked.id());
    v1::Appointment got;
    auto ctx = Ctx(desk_a_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::Status s = stub_->GetAppointment(ctx.get(), get, &got);
    ASSERT_TRUE(s.ok()) << "call " << i << ": " << s.error_message();
  }
  v1::Appointment another;
  ASSERT_TRUE(Book(Booking("during-watches", At(11)), &another).ok());

  for (auto& ctx : contexts) ctx->TryCancel();
  std::vector<grpc::Status> ends(kWatches);
  for (int i = 0; i < kWatches; ++i) {
    readers[i]->Finish(&ends[i], reinterpret_cast<void*>(static_cast<intptr_t>(i)));
  }
  // Drain the finishes.
  int finished = 0;
  while (finished < kWatches) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
    if (reinterpret_cast<intptr_t>(tag) < kWatches) ++finished;
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(SchedulingIntegrationTest, AThousandWatchersOfOneClinicGetEveryChangeOnceInOrder) {
  // One process holds them all (the caps raised for this; the defaults are 8 and 256), each
  // stream on the callback API, pages of the feed written corked from gRPC's callbacks.
  constexpr int kWatches = 1000;
  constexpr int kChanges = 12;
  scheduling_.reset();
  ASSERT_OK_AND_ASSIGN(scheduling_,
                       StartScheduling(harness_.RedisFlag(),
                                       {"--max_streams_per_session=1000", "--max_streams=1000"}));
  stub_ = v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
  v1::Appointment booked;
  ASSERT_TRUE(Book(Booking("fan-0", At(9)), &booked).ok());

  grpc::CompletionQueue cq;
  v1::WatchChangesRequest req;
  req.set_clinic_id(clinic_a_);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientAsyncReader<v1::Change>>> readers;
  std::vector<v1::Change> change(kWatches);
  std::vector<std::vector<int64_t>> seen(kWatches);
  for (int i = 0; i < kWatches; ++i) {
    contexts.push_back(Ctx(desk_a_));
    readers.push_back(stub_->PrepareAsyncWatchChanges(contexts.back().get(), req, &cq));
    readers.back()->StartCall(reinterpret_cast<void*>(static_cast<intptr_t>(i)));
  }
  // Tags: i = watch i started, kWatches + i = a read of watch i done.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(120);
  auto pump = [&](int reads) {
    for (int got = 0; got < reads;) {
      void* tag = nullptr;
      bool ok = false;
      ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
      const intptr_t t = reinterpret_cast<intptr_t>(tag);
      const int i = static_cast<int>(t % kWatches);
      ASSERT_TRUE(ok) << "watch " << i << " ended early";
      if (t >= kWatches) {
        seen[i].push_back(change[i].sequence());
        ++got;
      }
      readers[i]->Read(&change[i], reinterpret_cast<void*>(static_cast<intptr_t>(i + kWatches)));
    }
  };
  pump(kWatches);  // every watch admitted: each has the backlog's one change
  for (int k = 1; k < kChanges; ++k) {
    ASSERT_TRUE(Book(Booking(absl::StrCat("fan-", k), At(9, 0, k)), &booked).ok()) << k;
  }
  pump(kWatches * (kChanges - 1));

  std::vector<int64_t> all(kChanges);
  for (int k = 0; k < kChanges; ++k) all[k] = k + 1;
  for (int i = 0; i < kWatches; ++i) ASSERT_EQ(seen[i], all) << "watch " << i;

  for (auto& ctx : contexts) ctx->TryCancel();
  std::vector<grpc::Status> ends(kWatches);
  for (int i = 0; i < kWatches; ++i) {
    readers[i]->Finish(&ends[i], reinterpret_cast<void*>(static_cast<intptr_t>(i)));
  }
  for (int finished = 0; finished < kWatches;) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
    if (reinterpret_cast<intptr_t>(tag) < kWatches) ++finished;
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(SchedulingIntegrationTest, BadInputIsInvalidArgumentAndStoresNothing) {
  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::CONSULTATION);
  auto set_period = [&](absl::CivilDay a, absl::CivilDay b) {
    auto* p = find.mutable_period();
    p->mutable_start_date()->set_year(static_cast<int>(a.year()));
    p->mutable_start_date()->set_month(a.month());
    p->mutable_start_date()->set_day(a.day());
    p->mutable_end_date()->set_year(static_cast<int>(b.year()));
    p->mutable_end_date()->set_month(b.month());
    p->mutable_end_date()->set_day(b.day());
  };
  v1::FindAvailabilityResponse slots;
  set_period(day_ + 3, day_);
  EXPECT_THAT(stub_->FindAvailability(Ctx(desk_a_).get(), find, &slots),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "end_date is before start_date"));
  set_period(day_, day_ + 3650);
  EXPECT_THAT(stub_->FindAvailability(Ctx(desk_a_).get(), find, &slots),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "at most 62"));
  set_period(day_, day_ + 1);
  find.set_clinic_id(NewId());
  EXPECT_THAT(stub_->FindAvailability(Ctx(admin_).get(), find, &slots),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));

  v1::ListAppointmentsRequest list;
  list.set_clinic_id(clinic_a_);
  *list.mutable_period()->mutable_start_time() = ToProtoTimestamp(At(0));
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(0, 0, 1));
  list.set_page_size(-5);
  v1::ListAppointmentsResponse listed;
  EXPECT_THAT(stub_->ListAppointments(Ctx(desk_a_).get(), list, &listed),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "page_size"));
  list.set_page_size(0);
  *list.mutable_period()->mutable_end_time() = ToProtoTimestamp(At(0, 0, -1));
  EXPECT_THAT(stub_->ListAppointments(Ctx(desk_a_).get(), list, &listed),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "period"));

  v1::Appointment a;
  v1::BookAppointmentRequest unknown_clinic = Booking("bad-1", At(10));
  unknown_clinic.set_clinic_id(NewId());
  EXPECT_THAT(Book(unknown_clinic, &a, admin_),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "clinic_id"));
  EXPECT_THAT(Book(Booking("bad-2", At(10, 0, -10)), &a),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "in the past"));
  v1::BookAppointmentRequest no_type = Booking("bad-3", At(10));
  no_type.set_type(v1::APPOINTMENT_TYPE_UNSPECIFIED);
  EXPECT_THAT(Book(no_type, &a), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "type"));
  EXPECT_THAT(Book(Booking("bad-4", At(21)), &a),  // after closing
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "outside opening or working hours"));
  EXPECT_THAT(Book(Booking("", At(10)), &a),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "request_id"));
  EXPECT_EQ(Head(clinic_a_), 0);
}

TEST_F(SchedulingIntegrationTest, ProceduresNeedComplianceConsultationsDoNot) {
  v1::Appointment a;
  eligibility_.set_allowed(false);
  const grpc::Status refused = Book(Booking("patch-1", At(9), v1::SAMPLE_PATCH), &a);
  EXPECT_THAT(refused, GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "CONSENT_MISSING"));
  EXPECT_EQ(ErrorReason(FromGrpcStatus(refused)), reason::kNotEligible);
  EXPECT_EQ(ErrorMetadata(FromGrpcStatus(refused), "code"), "CONSENT_MISSING");
  EXPECT_EQ(eligibility_.calls(), 1);
  EXPECT_EQ(eligibility_.last().date().day(), day_.day());  // the clinic-local day
  eligibility_.set_allowed(true);
  EXPECT_TRUE(Book(Booking("patch-2", At(9), v1::SAMPLE_PATCH), &a).ok());

  const absl::Time before = absl::Now();
  compliance_server_->Shutdown(std::chrono::system_clock::now());
  compliance_server_.reset();
  EXPECT_THAT(Book(Booking("patch-3", At(13), v1::SAMPLE_PATCH), &a),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, "compliance"));
  std::cerr << "compliance down: refused after " << absl::Now() - before << "\n";
  EXPECT_TRUE(Book(Booking("consult-1", At(13)), &a).ok());  // consultations are not gated
  EXPECT_EQ(Head(clinic_a_), 2);
}

TEST_F(SchedulingIntegrationTest, ConsultationLifecycleFromBookedToFulfilled) {
  v1::Appointment a;
  ASSERT_TRUE(Book(Booking("life-1", At(10)), &a).ok());
  EXPECT_EQ(a.status(), v1::BOOKED);
  EXPECT_EQ(a.late_cancellation_window().seconds(), 48 * 3600);

  v1::CheckInAppointmentRequest checkin;
  checkin.set_request_id("life-checkin");
  checkin.set_id(a.id());
  checkin.set_etag("v9");
  EXPECT_THAT(stub_->CheckInAppointment(Ctx(desk_a_).get(), checkin, &a),
              GrpcIs(grpc::StatusCode::ABORTED, "current etag"));
  checkin.set_etag(a.etag());
  ASSERT_TRUE(stub_->CheckInAppointment(Ctx(desk_a_).get(), checkin, &a).ok());
  v1::StartAppointmentRequest start;
  start.set_request_id("life-start");
  start.set_id(a.id());
  start.set_etag(a.etag());
  EXPECT_THAT(stub_->StartAppointment(Ctx(desk_a_).get(), start, &a),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PROCEDURES_PERFORM"));
  ASSERT_TRUE(stub_->StartAppointment(Ctx(tech_token_).get(), start, &a).ok());
  EXPECT_EQ(a.status(), v1::IN_PROGRESS);

  v1::RescheduleAppointmentRequest move;
  move.set_request_id("life-move");
  move.set_id(a.id());
  move.set_etag(a.etag());
  *move.mutable_start_time() = ToProtoTimestamp(At(15));
  v1::Appointment moved;
  EXPECT_THAT(stub_->RescheduleAppointment(Ctx(desk_a_).get(), move, &moved),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "IN_PROGRESS"));

  v1::CompleteAppointmentRequest complete;
  complete.set_request_id("life-complete");
  complete.set_id(a.id());
  complete.set_etag(a.etag());
  v1::CompleteAppointmentResponse done;
  ASSERT_TRUE(stub_->CompleteAppointment(Ctx(tech_token_).get(), complete, &done).ok());
  EXPECT_EQ(done.appointment().status(), v1::FULFILLED);
  // A consultation is a talk: no scalp was worked, so no aftercare (a procedure's is tested in
  // appointments_test and the demo day).
  EXPECT_EQ(done.aftercare_size(), 0);

  v1::CancelAppointmentRequest cancel;
  cancel.set_request_id("life-cancel");
  cancel.set_id(a.id());
  cancel.set_etag(done.appointment().etag());
  cancel.set_reason("too late");
  cancel.set_initiator(v1::INITIATOR_PATIENT);
  EXPECT_THAT(stub_->CancelAppointment(Ctx(desk_a_).get(), cancel, &a),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "FULFILLED"));
}

TEST_F(SchedulingIntegrationTest, CancellingFreesTheSlotAndFlagsLateCancellations) {
  v1::Appointment a, b;
  ASSERT_TRUE(Book(Booking("free-1", At(12)), &a).ok());
  EXPECT_THAT(Book(Booking("free-2", At(12, 30)), &b),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, ""));
  v1::CancelAppointmentRequest cancel;
  cancel.set_request_id("free-cancel");
  cancel.set_id(a.id());
  cancel.set_etag(a.etag());
  cancel.set_reason("patient is ill");
  cancel.set_initiator(v1::INITIATOR_PATIENT);
  v1::Appointment cancelled;
  ASSERT_TRUE(stub_->CancelAppointment(Ctx(desk_a_).get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.status(), v1::CANCELLED);
  EXPECT_FALSE(cancelled.cancellation().late());  // 8 days ahead, window 48 h
  EXPECT_TRUE(Book(Booking("free-3", At(12, 30)), &b).ok());
}

TEST_F(SchedulingIntegrationTest, TreatmentPlanSessionsKeepTheHealingInterval) {
  v1::CreateTreatmentPlanRequest create;
  create.set_request_id("plan-1");
  create.mutable_plan()->set_patient_id(patient_);
  create.mutable_plan()->set_clinic_id(clinic_a_);
  create.mutable_plan()->set_area(v1::HAIRLINE);
  create.mutable_plan()->set_planned_sessions(2);
  v1::TreatmentPlan plan;
  ASSERT_TRUE(stub_->CreateTreatmentPlan(Ctx(desk_a_).get(), create, &plan).ok());

  v1::BookAppointmentRequest s1 = Booking("session-1", At(9), v1::TREATMENT_SESSION);
  s1.set_plan_id(plan.id());
  v1::Appointment first;
  ASSERT_TRUE(Book(s1, &first).ok());
  EXPECT_EQ(first.session_number(), 1);
  EXPECT_EQ(FromProtoTimestamp(first.end_time()) - FromProtoTimestamp(first.start_time()),
            absl::Minutes(270));

  v1::BookAppointmentRequest s2 = Booking("session-2", At(9, 0, 5), v1::TREATMENT_SESSION);
  s2.set_plan_id(plan.id());
  v1::Appointment second;
  EXPECT_THAT(Book(s2, &second), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "healing interval"));

  v1::FindAvailabilityRequest find;
  find.set_clinic_id(clinic_a_);
  find.set_type(v1::TREATMENT_SESSION);
  find.set_plan_id(plan.id());
  const absl::CivilDay from = day_ + 1, to = day_ + 20;
  find.mutable_period()->mutable_start_date()->set_year(static_cast<int>(from.year()));
  find.mutable_period()->mutable_start_date()->set_month(from.month());
  find.mutable_period()->mutable_start_date()->set_day(from.day());
  find.mutable_period()->mutable_end_date()->set_year(static_cast<int>(to.year()));
  find.mutable_period()->mutable_end_date()->set_month(to.month());
  find.mutable_period()->mutable_end_date()->set_day(to.day());
  v1::FindAvailabilityResponse slots;
  ASSERT_TRUE(stub_->FindAvailability(Ctx(desk_a_).get(), find, &slots).ok());
  ASSERT_GT(slots.slots_size(), 0);
  EXPECT_EQ(FromProtoTimestamp(slots.slots(0).start_time()), At(9, 0, 10));  // exactly 10 days on

  s2.set_request_id("session-2b");
  *s2.mutable_start_time() = slots.slots(0).start_time();
  ASSERT_TRUE(Book(s2, &second).ok());
  EXPECT_EQ(second.session_number(), 2);
  v1::BookAppointmentRequest s3 = Booking("session-3", At(9, 0, 20), v1::TREATMENT_SESSION);
  s3.set_plan_id(plan.id());
  v1::Appointment third;
  EXPECT_THAT(Book(s3, &third), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "all 2 sessions"));
}

TEST_F(SchedulingIntegrationTest, HeldSlotBlocksUntilConfirmedAndNoShowWaitsForTheStart) {
  v1::BookAppointmentRequest hold = Booking("hold-1", At(10));
  hold.set_hold(true);
  v1::Appointment held, other;
  ASSERT_TRUE(Book(hold, &held).ok());
  EXPECT_EQ(held.status(), v1::PROPOSED);
  const absl::Duration ttl =
      FromProtoTimestamp(held.hold_expire_time()) - FromProtoTimestamp(held.create_time());
  EXPECT_EQ(ttl, absl::Minutes(10));
  EXPECT_THAT(Book(Booking("hold-2", At(10)), &other),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "already booked"));
  v1::ConfirmAppointmentRequest confirm;
  confirm.set_request_id("hold-confirm");
  confirm.set_id(held.id());
  confirm.set_etag(held.etag());
  v1::Appointment booked;
  ASSERT_TRUE(stub_->ConfirmAppointment(Ctx(desk_a_).get(), confirm, &booked).ok());
  EXPECT_EQ(booked.status(), v1::BOOKED);
  EXPECT_FALSE(booked.has_hold_expire_time());

  v1::MarkNoShowRequest noshow;
  noshow.set_request_id("hold-noshow");
  noshow.set_id(booked.id());
  noshow.set_etag(booked.etag());
  v1::Appointment missed;
  // Days before its start it is no no-show (issue 14): refused, and the slot stays taken.
  EXPECT_THAT(stub_->MarkNoShow(Ctx(desk_a_).get(), noshow, &missed),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "no-show from"));
  EXPECT_THAT(Book(Booking("hold-3", At(10)), &other),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "already booked"));
  v1::CancelAppointmentRequest cancel;
  cancel.set_request_id("hold-cancel");
  cancel.set_id(booked.id());
  cancel.set_etag(booked.etag());
  cancel.set_reason("practitioner ill");
  cancel.set_initiator(v1::INITIATOR_CLINIC);
  v1::Appointment cancelled;
  ASSERT_TRUE(stub_->CancelAppointment(Ctx(desk_a_).get(), cancel, &cancelled).ok());
  EXPECT_FALSE(cancelled.cancellation().late());
  EXPECT_EQ(cancelled.cancellation().initiator(), v1::INITIATOR_CLINIC);
  EXPECT_TRUE(Book(Booking("hold-3b", At(10)), &other).ok());
}

TEST_F(SchedulingIntegrationTest, RescheduleMovesTheBlockAndKeepsTheOldTimeFree) {
  v1::Appointment a, b;
  ASSERT_TRUE(Book(Booking("move-1", At(10)), &a).ok());
  v1::RescheduleAppointmentRequest move;
  move.set_request_id("move-2");
  move.set_id(a.id());
  move.set_etag(a.etag());
  *move.mutable_start_time() = ToProtoTimestamp(At(14, 30));
  v1::Appointment moved;
  ASSERT_TRUE(stub_->RescheduleAppointment(Ctx(desk_a_).get(), move, &moved).ok());
  EXPECT_EQ(FromProtoTimestamp(moved.start_time()), At(14, 30));
  EXPECT_EQ(FromProtoTimestamp(moved.end_time()), At(15, 30));
  EXPECT_TRUE(Book(Booking("move-3", At(10)), &b).ok());  // the old time is free again
  EXPECT_THAT(Book(Booking("move-4", At(15)), &b),        // the new block is taken
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, ""));
  move.set_request_id("move-5");  // the etag is stale now
  *move.mutable_start_time() = ToProtoTimestamp(At(16));
  EXPECT_THAT(stub_->RescheduleAppointment(Ctx(desk_a_).get(), move, &moved),
              GrpcIs(grpc::StatusCode::ABORTED, "current etag"));
}

TEST_F(SchedulingIntegrationTest, AcknowledgedBookingsSurviveKill9) {
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 4; ++i) {
    v1::Appointment a;
    ASSERT_TRUE(Book(Booking(absl::StrCat("durable-", i), At(9 + 2 * i)), &a).ok());
    acknowledged.push_back(a.id());
  }
  scheduling_->Kill();  // SIGKILL: no drain, no flush beyond what each commit already did
  ASSERT_OK_AND_ASSIGN(scheduling_, StartScheduling(harness_.RedisFlag()));
  stub_ = v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));
  for (const std::string& id : acknowledged) {
    v1::GetAppointmentRequest get;
    get.set_id(id);
    v1::Appointment a;
    EXPECT_TRUE(stub_->GetAppointment(Ctx(desk_a_).get(), get, &a).ok()) << id;
  }
  EXPECT_EQ(Head(clinic_a_), 4);
  v1::Appointment again;
  EXPECT_THAT(Book(Booking("durable-new", At(9)), &again),  // still taken after the restart
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, ""));
}

TEST_F(SchedulingIntegrationTest, CompletedVisitIsChargedOnceEvenWhenBillingWasDown) {
  // Billing on a port that stays the same across its restart.
  const std::string billing_dir = smp::testing::MakeTempDir("billing");
  ASSERT_OK_AND_ASSIGN(auto billing,
                       ServiceProcess::Start(SMP_BILLING_BINARY,
                                             {"--data_dir=" + billing_dir, harness_.RedisFlag()}));
  const std::string billing_listen = "--listen=" + billing->address();
  auto billing_stub = billing::v1::BillingService::NewStub(
      grpc::CreateChannel(billing->address(), grpc::InsecureChannelCredentials()));
  billing::v1::CreatePriceListRequest prices;
  prices.set_request_id("prices-a");
  billing::v1::PriceList* list = prices.mutable_price_list();
  list->set_clinic_id(clinic_a_);
  const absl::CivilDay yesterday = absl::ToCivilDay(absl::Now(), ny_) - 1;
  list->mutable_effective_date()->set_year(static_cast<int>(yesterday.year()));
  list->mutable_effective_date()->set_month(yesterday.month());
  list->mutable_effective_date()->set_day(yesterday.day());
  list->set_time_zone("America/New_York");
  list->set_currency_code("USD");
  list->set_tax_rate_bp(0);
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
  grpc::Status priced = billing_stub->CreatePriceList(Ctx(admin_).get(), prices, &saved);
  ASSERT_TRUE(priced.ok()) << priced.error_message();

  // Scheduling's own service account delivers the charge events.
  scheduling_->Stop();
  ASSERT_OK_AND_ASSIGN(
      scheduling_,
      StartScheduling(harness_.RedisFlag(), {"--billing_address=" + billing->address(),
                                             "--outbox_interval=100ms", "--billing_deadline=1s"}));
  stub_ = v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling_->address(), grpc::InsecureChannelCredentials()));

  // Billing goes down; the visit happens anyway.
  billing->Stop();
  v1::Appointment a;
  ASSERT_TRUE(Book(Booking("charged-1", At(10)), &a).ok());
  v1::CheckInAppointmentRequest checkin;
  checkin.set_request_id("charged-checkin");
  checkin.set_id(a.id());
  checkin.set_etag(a.etag());
  ASSERT_TRUE(stub_->CheckInAppointment(Ctx(desk_a_).get(), checkin, &a).ok());
  v1::StartAppointmentRequest start;
  start.set_request_id("charged-start");
  start.set_id(a.id());
  start.set_etag(a.etag());
  ASSERT_TRUE(stub_->StartAppointment(Ctx(tech_token_).get(), start, &a).ok());
  v1::CompleteAppointmentRequest complete;
  complete.set_request_id("charged-complete");
  complete.set_id(a.id());
  complete.set_etag(a.etag());
  v1::CompleteAppointmentResponse done;
  ASSERT_TRUE(stub_->CompleteAppointment(Ctx(tech_token_).get(), complete, &done).ok());
  absl::SleepFor(absl::Milliseconds(800));  // a few failed deliveries

  // Billing comes back on the same address and data: the charge arrives, once.
  ASSERT_OK_AND_ASSIGN(
      billing, ServiceProcess::Start(SMP_BILLING_BINARY, {"--data_dir=" + billing_dir,
                                                          harness_.RedisFlag(), billing_listen}));
  billing::v1::ListInvoicesRequest invoices;
  invoices.set_clinic_id(clinic_a_);
  invoices.set_patient_id(patient_);
  billing::v1::ListInvoicesResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    listed.Clear();
    ASSERT_TRUE(billing_stub->ListInvoices(Ctx(admin_).get(), invoices, &listed).ok());
    if (listed.invoices_size() > 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(listed.invoices_size(), 1);
  EXPECT_EQ(listed.invoices(0).totals().total().amount_minor(), 15000);  // the consultation fee
  absl::SleepFor(absl::Milliseconds(500));  // later passes must not charge again
  listed.Clear();
  ASSERT_TRUE(billing_stub->ListInvoices(Ctx(admin_).get(), invoices, &listed).ok());
  EXPECT_EQ(listed.invoices_size(), 1);
}

}  // namespace
}  // namespace smp::scheduling
