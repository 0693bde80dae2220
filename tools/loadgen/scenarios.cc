// The built-in scenarios. Each prepare function does its setup with ordinary typed stubs, checks
// the hot call once, and returns it pre-serialised for the generic hot loop.

#include "tools/loadgen/scenarios.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "google/protobuf/arena.h"
#include "smp/bench/v1/echo.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tools/loadgen/client_credentials.h"
#include "tools/loadgen/scenario_support.h"

namespace smp::loadgen {
namespace {

// ---- echo: the null baseline ----

absl::StatusOr<CallSpec> PrepareEcho(const ScenarioOptions& options,
                                     const std::shared_ptr<grpc::Channel>& channel) {
  if (options.payload_bytes < 0) return absl::InvalidArgumentError("payload_bytes is negative");
  bench::v1::EchoRequest request;
  request.set_payload(std::string(static_cast<size_t>(options.payload_bytes), 'x'));
  auto stub = bench::v1::EchoService::NewStub(channel);
  grpc::ClientContext context;
  PrepareContext(context, options);
  bench::v1::EchoResponse response;
  grpc::Status status = stub->Echo(&context, request, &response);
  if (!status.ok()) return SetupError("Echo (check call)", status);
  if (response.payload() != request.payload()) {
    return absl::InternalError("Echo (check call) returned a different payload");
  }
  return MakeCall(MethodPath(bench::v1::EchoService::service_full_name(), "Echo"),
                  request.SerializeAsString(), {});
}

// ---- identity.get_clinic: an authenticated read (session check + one SQLite read) ----

absl::StatusOr<CallSpec> PrepareIdentityGetClinic(const ScenarioOptions& options,
                                                  const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = identity::v1::IdentityService::NewStub(channel);
  absl::StatusOr<Metadata> auth = LogInAsAdmin(options, *stub);
  if (!auth.ok()) return auth.status();

  // A fixed request_id: a second run against the same identity gets the same clinic back.
  identity::v1::CreateClinicRequest create;
  create.set_request_id("loadgen-identity-get-clinic-1");
  create.mutable_clinic()->set_name("Benchmark Clinic");
  create.mutable_clinic()->set_time_zone("Europe/London");
  identity::v1::Clinic clinic;
  {
    grpc::ClientContext context;
    PrepareContext(context, options, *auth);
    grpc::Status status = stub->CreateClinic(&context, create, &clinic);
    if (!status.ok()) return SetupError("CreateClinic", status);
  }

  identity::v1::GetClinicRequest get;
  get.set_id(clinic.id());
  {
    grpc::ClientContext context;
    PrepareContext(context, options, *auth);
    identity::v1::Clinic got;
    grpc::Status status = stub->GetClinic(&context, get, &got);
    if (!status.ok()) return SetupError("GetClinic (check call)", status);
  }
  return MakeCall(MethodPath(identity::v1::IdentityService::service_full_name(), "GetClinic"),
                  get.SerializeAsString(), *std::move(auth));
}

// ---- scheduling.*: a clinic set up through identity and scheduling, as a real one would be ----

namespace sv1 = scheduling::v1;

void SetHours(sv1::WeeklyInterval* w, int day, int from_hour, int to_hour) {
  w->set_day(static_cast<common::v1::DayOfWeek>(day));
  w->mutable_start_time()->set_hours(from_hour);
  w->mutable_end_time()->set_hours(to_hour);
}

// What a scheduling scenario's setup made.
struct BenchClinic {
  Metadata auth;  // the benchmark admin's bearer token
  std::unique_ptr<sv1::SchedulingService::Stub> stub;
  std::string run;  // unique per setup: every run gets its own clinic, staff and request ids
  std::string clinic_id;
  // practitioners[i]'s lane has a patient of its own, patients[i]: the patient is a booked
  // resource too (never in two appointments at once), so bookings of several practitioners at
  // one time need several patients.
  std::vector<std::string> practitioners, chairs, patients;
  absl::TimeZone zone;
  absl::CivilDay first_day;  // tomorrow in the clinic's zone: the first day used
};

// Creates (through identity) a clinic and `practitioners` technicians and (through scheduling)
// its schedule (open 08:00-20:00 every day, the given buffer and slot step), `chairs` chairs,
// working hours 09:00-18:00 every day for each practitioner, and a patient per practitioner.
absl::StatusOr<BenchClinic> SetUpClinic(const ScenarioOptions& options,
                                        const std::shared_ptr<grpc::Channel>& channel,
                                        absl::string_view tag, int practitioners, int chairs,
                                        absl::Duration buffer_after, absl::Duration slot_step) {
  if (options.identity_target.empty()) {
    return absl::InvalidArgumentError("scheduling.* scenarios need --identity_target");
  }
  auto identity = identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(options.identity_target, ClientCredentials()));
  BenchClinic c;
  absl::StatusOr<Metadata> auth = LogInAsAdmin(options, *identity);
  if (!auth.ok()) return auth.status();
  c.auth = *std::move(auth);
  c.run = absl::StrCat(tag, "-", absl::ToUnixMicros(absl::Now()));
  const char* kZone = "Europe/London";
  if (!absl::LoadTimeZone(kZone, &c.zone)) return absl::InternalError("no Europe/London zone");
  c.first_day = absl::ToCivilDay(absl::Now(), c.zone) + 1;

  {
    identity::v1::CreateClinicRequest req;
    req.set_request_id(absl::StrCat("clinic-", c.run));
    req.mutable_clinic()->set_name(absl::StrCat("Bench ", c.run));
    req.mutable_clinic()->set_time_zone(kZone);
    identity::v1::Clinic out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = identity->CreateClinic(&context, req, &out);
    if (!status.ok()) return SetupError("CreateClinic", status);
    c.clinic_id = out.id();
  }
  for (int i = 0; i < practitioners; ++i) {
    identity::v1::CreateStaffRequest req;
    req.set_request_id(absl::StrCat("staff-", c.run, "-", i));
    req.mutable_staff()->set_username(absl::StrCat("b", c.run, ".p", i));
    req.mutable_staff()->set_display_name(absl::StrCat("Practitioner ", i));
    req.mutable_staff()->add_roles(common::v1::ROLE_TECHNICIAN);
    req.mutable_staff()->add_clinic_ids(c.clinic_id);
    req.set_initial_password(options.password);
    identity::v1::Staff out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = identity->CreateStaff(&context, req, &out);
    if (!status.ok()) return SetupError("CreateStaff", status);
    c.practitioners.push_back(out.id());
  }

  c.stub = sv1::SchedulingService::NewStub(channel);
  {
    sv1::UpdateClinicScheduleRequest req;
    req.set_request_id(absl::StrCat("schedule-", c.run));
    sv1::ClinicSchedule* s = req.mutable_schedule();
    s->set_clinic_id(c.clinic_id);
    s->set_time_zone(kZone);
    for (int day = 1; day <= 7; ++day) SetHours(s->add_opening_hours(), day, 8, 20);
    s->mutable_buffer_after()->set_seconds(absl::ToInt64Seconds(buffer_after));
    s->mutable_slot_step()->set_seconds(absl::ToInt64Seconds(slot_step));
    sv1::ClinicSchedule out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = c.stub->UpdateClinicSchedule(&context, req, &out);
    if (!status.ok()) return SetupError("UpdateClinicSchedule", status);
  }
  for (int i = 0; i < chairs; ++i) {
    sv1::CreateChairRequest req;
    req.set_request_id(absl::StrCat("chair-", c.run, "-", i));
    req.mutable_chair()->set_clinic_id(c.clinic_id);
    req.mutable_chair()->set_name(absl::StrCat("Chair ", i + 1));
    sv1::Chair out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = c.stub->CreateChair(&context, req, &out);
    if (!status.ok()) return SetupError("CreateChair", status);
    c.chairs.push_back(out.id());
  }
  for (int i = 0; i < practitioners; ++i) {
    sv1::SetWorkingHoursRequest req;
    req.set_request_id(absl::StrCat("hours-", c.run, "-", i));
    req.mutable_working_hours()->set_practitioner_id(c.practitioners[static_cast<size_t>(i)]);
    req.mutable_working_hours()->set_clinic_id(c.clinic_id);
    for (int day = 1; day <= 7; ++day) {
      SetHours(req.mutable_working_hours()->add_intervals(), day, 9, 18);
    }
    sv1::WorkingHours out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = c.stub->SetWorkingHours(&context, req, &out);
    if (!status.ok()) return SetupError("SetWorkingHours", status);
  }
  for (int i = 0; i < practitioners; ++i) {
    sv1::CreatePatientRequest req;
    req.set_request_id(absl::StrCat("patient-", c.run, "-", i));
    req.mutable_patient()->set_given_name(absl::StrCat("Bench", i));
    req.mutable_patient()->set_family_name("Patient");
    req.mutable_patient()->set_phone(absl::StrCat("+1512555", 1000 + i));
    req.mutable_patient()->set_preferred_clinic_id(c.clinic_id);
    sv1::Patient out;
    grpc::ClientContext context;
    PrepareContext(context, options, c.auth);
    grpc::Status status = c.stub->CreatePatient(&context, req, &out);
    if (!status.ok()) return SetupError("CreatePatient", status);
    c.patients.push_back(out.id());
  }
  return c;
}

absl::Time LocalTime(const BenchClinic& c, absl::CivilDay day, int minute_of_day) {
  return c.zone.At(absl::CivilMinute(day) + minute_of_day).pre;
}

// A consultation of practitioners[lane] with the lane's own patient.
sv1::BookAppointmentRequest Booking(const BenchClinic& c, std::string request_id, size_t lane,
                                    absl::Time start) {
  sv1::BookAppointmentRequest req;
  req.set_request_id(std::move(request_id));
  req.set_clinic_id(c.clinic_id);
  req.set_patient_id(c.patients[lane]);
  req.set_practitioner_id(c.practitioners[lane]);
  req.set_type(sv1::CONSULTATION);
  *req.mutable_start_time() = ToTimestamp(start);
  return req;
}

absl::Status Book(const ScenarioOptions& options, const BenchClinic& c,
                  const sv1::BookAppointmentRequest& req, absl::string_view what) {
  sv1::Appointment out;
  grpc::ClientContext context;
  PrepareContext(context, options, c.auth);
  grpc::Status status = c.stub->BookAppointment(&context, req, &out);
  if (!status.ok()) return SetupError(what, status);
  return absl::OkStatus();
}

constexpr int kAvailabilityDays = 28;

// FindAvailability for a CONSULTATION (60 min, 30 min buffer) with any of 10 practitioners,
// 4 chairs, over 4 weeks, with one existing consultation per practitioner and day.
absl::StatusOr<CallSpec> PrepareFindAvailability(const ScenarioOptions& options,
                                                 const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c =
      SetUpClinic(options, channel, "fa", 10, 4, absl::Minutes(30), absl::Minutes(15));
  if (!c.ok()) return c.status();
  // Existing bookings: practitioner i at 09:00 + 45 min * i, on the 15-minute grid (90-minute
  // chair blocks with the buffer: at most 2 overlap, and there are 4 chairs).
  for (int d = 0; d < kAvailabilityDays; ++d) {
    for (size_t i = 0; i < c->practitioners.size(); ++i) {
      const absl::Time start = LocalTime(*c, c->first_day + d, 9 * 60 + 45 * static_cast<int>(i));
      absl::Status s =
          Book(options, *c, Booking(*c, absl::StrCat(c->run, "-seed-", d, "-", i), i, start),
               "BookAppointment (existing bookings)");
      if (!s.ok()) return s;
    }
  }
  sv1::FindAvailabilityRequest find;
  find.set_clinic_id(c->clinic_id);
  find.set_type(sv1::CONSULTATION);
  *find.mutable_period()->mutable_start_date() = ToLocalDate(c->first_day);
  *find.mutable_period()->mutable_end_date() = ToLocalDate(c->first_day + kAvailabilityDays - 1);
  {
    sv1::FindAvailabilityResponse out;
    grpc::ClientContext context;
    PrepareContext(context, options, c->auth);
    grpc::Status status = c->stub->FindAvailability(&context, find, &out);
    if (!status.ok()) return SetupError("FindAvailability (check call)", status);
    if (out.slots_size() == 0) {
      return absl::InternalError("FindAvailability (check call) found no free slot");
    }
  }
  return MakeCall(MethodPath(sv1::SchedulingService::service_full_name(), "FindAvailability"),
                  find.SerializeAsString(), c->auth);
}

// Durable bookings, each of a different (practitioner, start): 10 practitioners with a chair and
// a patient each, 10-minute consultations back to back (buffer 0, step 10 min), 09:00-18:00, day
// after day from tomorrow. This clinic, and `n` such bookings taken in order.
constexpr int kBookingPractitioners = 10;

absl::StatusOr<BenchClinic> SetUpBookingClinic(const ScenarioOptions& options,
                                               const std::shared_ptr<grpc::Channel>& channel,
                                               absl::string_view tag) {
  return SetUpClinic(options, channel, tag, kBookingPractitioners, kBookingPractitioners,
                     absl::ZeroDuration(), absl::Minutes(10));
}

std::vector<sv1::BookAppointmentRequest> DistinctBookings(const BenchClinic& c, int64_t n) {
  std::vector<sv1::BookAppointmentRequest> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const int64_t per_day = 54 * kBookingPractitioners;  // 09:00-18:00 in 10-minute slots
    const int64_t day = k / per_day, minute = (k % per_day) / kBookingPractitioners;
    const size_t p = static_cast<size_t>(k % kBookingPractitioners);
    sv1::BookAppointmentRequest req =
        Booking(c, absl::StrCat(c.run, "-", k), p,
                LocalTime(c, c.first_day + day, 9 * 60 + 10 * static_cast<int>(minute)));
    req.set_chair_id(c.chairs[p]);
    req.mutable_duration()->set_seconds(600);
    out.push_back(std::move(req));
  }
  return out;
}

// options.booking_slots distinct bookings, one per call, each of a practitioner with the lane's
// own patient, so that every call books (the bench fails a row with more than 0.1% errors).
absl::StatusOr<CallSpec> PrepareBook(const ScenarioOptions& options,
                                     const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c = SetUpBookingClinic(options, channel, "bk");
  if (!c.ok()) return c.status();
  CallSpec call = MakeCall(
      MethodPath(sv1::SchedulingService::service_full_name(), "BookAppointment"), "", c->auth);
  // One more than asked for: the last is the check call's.
  std::vector<sv1::BookAppointmentRequest> bookings =
      DistinctBookings(*c, std::max<int64_t>(options.booking_slots, 1) + 1);
  call.requests.reserve(bookings.size() - 1);
  for (size_t k = 0; k + 1 < bookings.size(); ++k) {
    call.requests.push_back(bookings[k].SerializeAsString());
  }
  if (absl::Status s = Book(options, *c, bookings.back(), "BookAppointment (check call)");
      !s.ok()) {
    return s;
  }
  return call;
}

// Every call books the same slot (a distinct request id each): one wins, the rest get
// FAILED_PRECONDITION, an expected answer. Verified afterwards: exactly one appointment there.
absl::StatusOr<CallSpec> PrepareBookContention(const ScenarioOptions& options,
                                               const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c =
      SetUpClinic(options, channel, "bc", 1, 1, absl::Minutes(30), absl::Minutes(15));
  if (!c.ok()) return c.status();
  const absl::Time start = LocalTime(*c, c->first_day + 1, 10 * 60);
  // Check call: a booking the day before the contended slot.
  if (absl::Status s =
          Book(options, *c,
               Booking(*c, absl::StrCat(c->run, "-check"), 0, LocalTime(*c, c->first_day, 10 * 60)),
               "BookAppointment (check call)");
      !s.ok()) {
    return s;
  }
  CallSpec call = MakeCall(
      MethodPath(sv1::SchedulingService::service_full_name(), "BookAppointment"), "", c->auth);
  call.expected_errors = {"FAILED_PRECONDITION"};
  const int64_t n = std::max<int64_t>(options.booking_slots, 1);
  call.requests.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    call.requests.push_back(
        Booking(*c, absl::StrCat(c->run, "-", k), 0, start).SerializeAsString());
  }
  auto shared = std::make_shared<BenchClinic>(*std::move(c));
  call.verify = [shared, start, options]() -> absl::Status {
    sv1::ListAppointmentsRequest req;
    req.set_clinic_id(shared->clinic_id);
    *req.mutable_period()->mutable_start_time() = ToTimestamp(start - absl::Hours(12));
    *req.mutable_period()->mutable_end_time() = ToTimestamp(start + absl::Hours(12));
    req.set_page_size(500);
    sv1::ListAppointmentsResponse out;
    grpc::ClientContext context;
    PrepareContext(context, options, shared->auth);
    grpc::Status status = shared->stub->ListAppointments(&context, req, &out);
    if (!status.ok()) return SetupError("ListAppointments (verify)", status);
    int at_slot = 0;
    for (const sv1::Appointment& a : out.appointments()) {
      if (a.start_time().seconds() == absl::ToUnixSeconds(start)) ++at_slot;
    }
    if (at_slot != 1) {
      return absl::InternalError(
          absl::StrCat("contended slot holds ", at_slot, " appointments; want exactly 1"));
    }
    return absl::OkStatus();
  };
  return call;
}

// ---- scheduling.get_appointment: the authenticated read ----

// One booked appointment, read by id with the front desk's bearer token.
absl::StatusOr<CallSpec> PrepareGetAppointment(const ScenarioOptions& options,
                                               const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c = SetUpBookingClinic(options, channel, "ga");
  if (!c.ok()) return c.status();
  sv1::Appointment booked;
  {
    grpc::ClientContext context;
    PrepareContext(context, options, c->auth);
    grpc::Status status =
        c->stub->BookAppointment(&context, DistinctBookings(*c, 1).front(), &booked);
    if (!status.ok()) return SetupError("BookAppointment", status);
  }
  sv1::GetAppointmentRequest get;
  get.set_id(booked.id());
  {
    sv1::Appointment out;
    grpc::ClientContext context;
    PrepareContext(context, options, c->auth);
    grpc::Status status = c->stub->GetAppointment(&context, get, &out);
    if (!status.ok()) return SetupError("GetAppointment (check call)", status);
  }
  return MakeCall(MethodPath(sv1::SchedulingService::service_full_name(), "GetAppointment"),
                  get.SerializeAsString(), c->auth);
}

// ---- scheduling.sync: a branch pulling its clinic's change feed ----

// Reads the whole feed after `since` with ListChanges pages of the maximum size.
absl::StatusOr<int64_t> PullByListChanges(const ScenarioOptions& options,
                                          sv1::SchedulingService::Stub& stub, const Metadata& auth,
                                          const std::string& clinic_id) {
  int64_t since = 0, count = 0;
  while (true) {
    sv1::ListChangesRequest req;
    req.set_clinic_id(clinic_id);
    req.set_since_sequence(since);
    req.set_page_size(5000);
    // Each page is parsed on an arena, as a branch client should parse a large message: its
    // 5,000 changes and their appointments are then carved from a few blocks and freed at once.
    // Parsing and freeing 100,000 changes took 98-139 ms on the heap, 53-56 ms on an arena (a
    // microbenchmark), of the 110 ms of CPU this client spent on them.
    google::protobuf::Arena arena;
    auto& out = *google::protobuf::Arena::CreateMessage<sv1::ListChangesResponse>(&arena);
    grpc::ClientContext context;
    PrepareContext(context, options, auth);
    grpc::Status status = stub.ListChanges(&context, req, &out);
    if (!status.ok()) return SetupError("ListChanges", status);
    for (const sv1::Change& change : out.changes()) {
      if (change.sequence() != since + 1) {
        return absl::DataLossError(
            absl::StrCat("ListChanges: sequence ", change.sequence(), " after ", since));
      }
      since = change.sequence();
      ++count;
    }
    if (out.changes().empty() || since >= out.head_sequence()) return count;
  }
}

// Holds a WatchChanges stream from the start of the feed until `expected` changes arrived.
absl::StatusOr<int64_t> PullByWatchChanges(const ScenarioOptions& options,
                                           sv1::SchedulingService::Stub& stub, const Metadata& auth,
                                           const std::string& clinic_id, int64_t expected) {
  sv1::WatchChangesRequest req;
  req.set_clinic_id(clinic_id);
  req.set_since_sequence(0);
  grpc::ClientContext context;
  PrepareContext(context, options, auth);
  std::unique_ptr<grpc::ClientReader<sv1::Change>> reader = stub.WatchChanges(&context, req);
  sv1::Change change;
  int64_t count = 0;
  const absl::Time began = absl::Now();
  while (count < expected && reader->Read(&change)) {
    if (change.sequence() != count + 1) {
      context.TryCancel();
      (void)reader->Finish();
      return absl::DataLossError(
          absl::StrCat("WatchChanges: sequence ", change.sequence(), " after ", count));
    }
    ++count;
  }
  if (count < expected) {
    // The server ended the stream early: its status says why (a cancel of ours here would
    // replace it with CANCELLED).
    const grpc::Status status = reader->Finish();
    return SetupError(absl::StrCat("WatchChanges (ended after ", count, " of ", expected,
                                   " changes, ", absl::FormatDuration(absl::Now() - began), ")"),
                      status);
  }
  context.TryCancel();  // the stream would wait for the next change
  (void)reader->Finish();
  return count;
}

// A clinic whose feed holds options.sync_changes changes (bookings made through BookAppointment,
// options.seed_concurrency at a time), pulled whole by ListChanges and by WatchChanges.
absl::StatusOr<TaskSet> PrepareSync(const ScenarioOptions& options,
                                    const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c = SetUpBookingClinic(options, channel, "sy");
  if (!c.ok()) return c.status();
  const int64_t n = std::max<int64_t>(options.sync_changes, 1);
  std::vector<std::string> requests;
  requests.reserve(static_cast<size_t>(n));
  for (const sv1::BookAppointmentRequest& req : DistinctBookings(*c, n)) {
    requests.push_back(req.SerializeAsString());
  }
  absl::StatusOr<double> seconds =
      Seed(options, "bookings",
           MethodPath(sv1::SchedulingService::service_full_name(), "BookAppointment"),
           std::move(requests), c->auth);
  if (!seconds.ok()) return seconds.status();
  auto shared = std::make_shared<BenchClinic>(*std::move(c));
  TaskSet set;
  set.setup = {{"seed_s", *seconds}, {"seeded_calls", static_cast<double>(n)}};
  set.tasks.push_back(
      {"list_changes", "changes", [options, shared, n]() -> absl::StatusOr<int64_t> {
         absl::StatusOr<int64_t> count =
             PullByListChanges(options, *shared->stub, shared->auth, shared->clinic_id);
         if (count.ok() && *count != n) {
           return absl::InternalError(absl::StrCat("ListChanges: ", *count, " changes, want ", n));
         }
         return count;
       }});
  set.tasks.push_back(
      {"watch_changes", "changes", [options, shared, n]() -> absl::StatusOr<int64_t> {
         return PullByWatchChanges(options, *shared->stub, shared->auth, shared->clinic_id, n);
       }});
  return set;
}

// ---- scheduling.watch_fanout: many branches' screens watching one clinic ----

// One WatchChanges stream of the fan-out (callback API: no thread per stream in the load
// generator either). It counts each change it receives in order into the shared tally.
class FanoutWatcher final : public grpc::ClientReadReactor<sv1::Change> {
 public:
  struct Tally {
    int64_t first = 0;                       // the sequence of the run's first change
    std::vector<std::atomic<int>> received;  // per change of the run: watchers that have it
    std::vector<std::atomic<int64_t>> reached_all_ns;  // per change: when the last one got it
    int watchers = 0;
    absl::Mutex mu;
    int done ABSL_GUARDED_BY(mu) = 0;       // streams that ended
    std::string error ABSL_GUARDED_BY(mu);  // the first wrong or missing change or failed end
    Tally(int64_t first_sequence, int64_t changes, int watcher_count)
        : first(first_sequence),
          received(static_cast<size_t>(changes)),
          reached_all_ns(static_cast<size_t>(changes)),
          watchers(watcher_count) {}
  };

  FanoutWatcher(Tally* tally, const BenchClinic& c, int64_t since)
      : tally_(tally), next_(since + 1) {
    for (const auto& [key, value] : c.auth) context_.AddMetadata(key, value);
    request_.set_clinic_id(c.clinic_id);
    request_.set_since_sequence(since);
    c.stub->async()->WatchChanges(&context_, &request_, this);
    StartRead(&change_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    if (change_.sequence() != next_) {
      Fail(absl::StrCat("a watcher got sequence ", change_.sequence(), ", expected ", next_));
      return;
    }
    const int64_t k = next_ - tally_->first;
    ++next_;
    if (k >= 0 && k < static_cast<int64_t>(tally_->received.size()) &&
        tally_->received[static_cast<size_t>(k)].fetch_add(1) + 1 == tally_->watchers) {
      tally_->reached_all_ns[static_cast<size_t>(k)].store(absl::GetCurrentTimeNanos());
    }
    StartRead(&change_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&tally_->mu);
    if (status.error_code() != grpc::StatusCode::CANCELLED && tally_->error.empty()) {
      tally_->error = absl::StrCat("a watch ended: ", status.error_message());
    }
    ++tally_->done;
  }

 private:
  void Fail(std::string message) {
    {
      absl::MutexLock lock(&tally_->mu);
      if (tally_->error.empty()) tally_->error = std::move(message);
    }
    context_.TryCancel();
  }

  Tally* const tally_;
  int64_t next_;
  grpc::ClientContext context_;
  sv1::WatchChangesRequest request_;
  sv1::Change change_;
};

// The clinic's feed head (ListChanges answers it with any page).
absl::StatusOr<int64_t> FeedHead(const ScenarioOptions& options, const BenchClinic& c) {
  sv1::ListChangesRequest req;
  req.set_clinic_id(c.clinic_id);
  req.set_page_size(1);
  sv1::ListChangesResponse out;
  grpc::ClientContext context;
  PrepareContext(context, options, c.auth);
  grpc::Status status = c.stub->ListChanges(&context, req, &out);
  if (!status.ok()) return SetupError("ListChanges (head)", status);
  return out.head_sequence();
}

// One run of the fan-out: options.fanout_watchers streams opened from the head, then
// options.fanout_changes bookings one after another; every watcher must get every change once, in
// order. Figures: deliveries per second from the first booking to the last delivery, and per
// change the time from its booking's send to the moment the last watcher had it.
absl::StatusOr<int64_t> RunFanout(const ScenarioOptions& options, const BenchClinic& c,
                                  const std::vector<sv1::BookAppointmentRequest>& bookings,
                                  std::atomic<size_t>& used, TaskFigures& figures) {
  const int w = std::max(options.fanout_watchers, 1);
  const int64_t m = std::max<int64_t>(options.fanout_changes, 1);
  const size_t from = used.fetch_add(static_cast<size_t>(m));
  if (from + static_cast<size_t>(m) > bookings.size()) {
    return absl::ResourceExhaustedError(
        "watch_fanout: out of prepared slots (more runs than planned)");
  }
  ASSIGN_OR_RETURN(int64_t head, FeedHead(options, c));
  FanoutWatcher::Tally tally(head + 1, m, w);
  std::vector<std::unique_ptr<FanoutWatcher>> watchers;
  watchers.reserve(static_cast<size_t>(w));
  for (int i = 0; i < w; ++i) watchers.push_back(std::make_unique<FanoutWatcher>(&tally, c, head));
  // Every watch admitted before the first booking: the caps answer at admission, so a watch that
  // is still open after a ListChanges round trip per 100 watchers and a short pause is being
  // served. (A refused one ends, and the tally reports it.)
  absl::SleepFor(absl::Milliseconds(200 + w));
  std::vector<int64_t> sent_ns(static_cast<size_t>(m));
  const absl::Time start = absl::Now();
  absl::Status booked;
  for (int64_t k = 0; k < m && booked.ok(); ++k) {
    sent_ns[static_cast<size_t>(k)] = absl::GetCurrentTimeNanos();
    booked = Book(options, c, bookings[from + static_cast<size_t>(k)], "BookAppointment");
  }
  // Wait for the last change to reach every watcher (or an error, or the timeout).
  const absl::Time deadline = absl::Now() + options.timeout;
  while (booked.ok() && tally.received.back().load() < w && absl::Now() < deadline) {
    {
      absl::MutexLock lock(&tally.mu);
      if (!tally.error.empty()) break;
    }
    absl::SleepFor(absl::Microseconds(200));
  }
  const absl::Time end = absl::Now();
  for (auto& watcher : watchers) watcher->Cancel();
  {
    absl::MutexLock lock(&tally.mu);
    tally.mu.Await(absl::Condition(
        +[](FanoutWatcher::Tally* t)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu) { return t->done == t->watchers; },
        &tally));
    if (!tally.error.empty())
      return absl::DataLossError(absl::StrCat("watch_fanout: ", tally.error));
  }
  // The server frees a cancelled watch's slot at the watch's next step (its session re-check or
  // poll, within about a second): the next run's watchers need them.
  absl::SleepFor(absl::Milliseconds(1500));
  RETURN_IF_ERROR(booked);
  int64_t delivered = 0;
  std::vector<double> reach_ms;
  for (int64_t k = 0; k < m; ++k) {
    delivered += tally.received[static_cast<size_t>(k)].load();
    const int64_t at = tally.reached_all_ns[static_cast<size_t>(k)].load();
    if (at == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("watch_fanout: change ", k + 1, " of ", m, " reached ",
                       tally.received[static_cast<size_t>(k)].load(), " of ", w, " watchers"));
    }
    reach_ms.push_back(static_cast<double>(at - sent_ns[static_cast<size_t>(k)]) / 1e6);
  }
  std::sort(reach_ms.begin(), reach_ms.end());
  const double seconds = absl::ToDoubleSeconds(end - start);
  figures = {{"watchers", static_cast<double>(w)},
             {"changes", static_cast<double>(m)},
             {"deliveries_per_s", seconds > 0 ? static_cast<double>(delivered) / seconds : 0},
             {"reach_all_p50_ms", reach_ms[reach_ms.size() / 2]},
             {"reach_all_max_ms", reach_ms.back()}};
  return delivered;
}

// A clinic with one booking; each task run opens the watchers and books the changes.
absl::StatusOr<TaskSet> PrepareWatchFanout(const ScenarioOptions& options,
                                           const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<BenchClinic> c = SetUpBookingClinic(options, channel, "wf");
  if (!c.ok()) return c.status();
  const int64_t m = std::max<int64_t>(options.fanout_changes, 1);
  // Slots for up to 20 runs of the task.
  auto bookings =
      std::make_shared<std::vector<sv1::BookAppointmentRequest>>(DistinctBookings(*c, 20 * m + 1));
  RETURN_IF_ERROR(Book(options, *c, bookings->back(), "BookAppointment (the feed's first change)"));
  auto shared = std::make_shared<BenchClinic>(*std::move(c));
  auto used = std::make_shared<std::atomic<size_t>>(0);
  auto figures = std::make_shared<TaskFigures>();
  TaskSet set;
  set.tasks.push_back({"watch_fanout", "deliveries",
                       [options, shared, bookings, used, figures]() -> absl::StatusOr<int64_t> {
                         return RunFanout(options, *shared, *bookings, *used, *figures);
                       },
                       [figures]() { return *figures; }});
  return set;
}

}  // namespace

absl::StatusOr<BookedClinic> BookConsultations(const ScenarioOptions& options,
                                               absl::string_view tag, int64_t n) {
  if (options.scheduling_target.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(tag, " needs --scheduling_target"));
  }
  ScenarioOptions at_scheduling = options;
  at_scheduling.target = options.scheduling_target;
  const std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(options.scheduling_target, ClientCredentials());
  absl::StatusOr<BenchClinic> c = SetUpBookingClinic(at_scheduling, channel, tag);
  if (!c.ok()) return c.status();
  std::vector<std::string> requests;
  requests.reserve(static_cast<size_t>(n));
  for (const sv1::BookAppointmentRequest& req : DistinctBookings(*c, n)) {
    requests.push_back(req.SerializeAsString());
  }
  BookedClinic out;
  absl::StatusOr<double> seconds =
      Seed(at_scheduling, "appointments at scheduling",
           MethodPath(sv1::SchedulingService::service_full_name(), "BookAppointment"),
           std::move(requests), c->auth);
  if (!seconds.ok()) return seconds.status();
  out.seed_seconds = *seconds;
  // The ids scheduling gave them, by ListAppointments over windows of 30 days (at most 92 a call).
  absl::CivilDay from = c->first_day;
  while (static_cast<int64_t>(out.appointments.size()) < n) {
    if (from > c->first_day + 3660) {
      return absl::InternalError(absl::StrCat("ListAppointments found ", out.appointments.size(),
                                              " of ", n, " booked appointments"));
    }
    std::string token;
    do {
      sv1::ListAppointmentsRequest req;
      req.set_clinic_id(c->clinic_id);
      *req.mutable_period()->mutable_start_time() = ToTimestamp(LocalTime(*c, from, 0));
      *req.mutable_period()->mutable_end_time() = ToTimestamp(LocalTime(*c, from + 30, 0));
      req.set_page_size(500);
      req.set_page_token(token);
      sv1::ListAppointmentsResponse page;
      grpc::ClientContext context;
      PrepareContext(context, options, c->auth);
      grpc::Status status = c->stub->ListAppointments(&context, req, &page);
      if (!status.ok()) return SetupError("ListAppointments (booked appointments)", status);
      for (const sv1::Appointment& a : page.appointments()) {
        out.appointments.push_back({a.id(), a.patient_id()});
      }
      token = page.next_page_token();
    } while (!token.empty());
    from += 30;
  }
  out.auth = std::move(c->auth);
  out.clinic_id = std::move(c->clinic_id);
  out.time_zone = c->zone.name();
  return out;
}

const std::vector<Scenario>& Scenarios() {
  static const auto* scenarios = [] {
    auto* all = new std::vector<Scenario>{
        {"echo", "EchoService/Echo with --payload_bytes (64) of payload: the null baseline",
         &PrepareEcho},
        {"identity.get_clinic",
         "IdentityService/GetClinic with a bearer token (setup: BootstrapAdmin with --setup_code "
         "if given, Login, CreateClinic)",
         &PrepareIdentityGetClinic},
        {"scheduling.find_availability",
         "SchedulingService/FindAvailability, CONSULTATION, any of 10 practitioners, 4 chairs, 4 "
         "weeks, 280 existing bookings (setup through --identity_target and the target)",
         &PrepareFindAvailability},
        {"scheduling.book",
         "SchedulingService/BookAppointment, durable, each call a different free (practitioner, "
         "start) with the practitioner's own patient, so that every call books; at most "
         "--booking_slots calls",
         &PrepareBook},
        {"scheduling.book_lanes",
         "The same as scheduling.book (its name when scheduling.book still shared one patient "
         "among the practitioners; kept for scripts that use it)",
         &PrepareBook},
        {"scheduling.book_contention",
         "SchedulingService/BookAppointment, every call the same slot: one OK, the rest "
         "FAILED_PRECONDITION (expected); verified by ListAppointments after the run",
         &PrepareBookContention},
        {"scheduling.get_appointment",
         "SchedulingService/GetAppointment with a bearer token: one booked appointment read by id "
         "(setup through --identity_target and the target)",
         &PrepareGetAppointment},
        {"scheduling.watch_fanout",
         "Task watch_fanout: --fanout_watchers WatchChanges streams of one clinic held by one "
         "scheduling process (which needs --max_streams_per_session and --max_streams at least "
         "that high), then --fanout_changes bookings; every watcher must get every change once, in "
         "order. Figures: deliveries/s to all, time for a change to reach every watcher",
         nullptr, &PrepareWatchFanout},
        {"scheduling.sync",
         "Tasks list_changes and watch_changes: a branch pulls its clinic's whole change feed "
         "(--sync_changes bookings, seeded through BookAppointment) by ListChanges pages of 5000 "
         "and by one WatchChanges stream",
         nullptr, &PrepareSync},
    };
    for (std::vector<Scenario> more :
         {InventoryScenarios(), ComplianceScenarios(), BillingScenarios()}) {
      for (Scenario& scenario : more) all->push_back(std::move(scenario));
    }
    return all;
  }();
  return *scenarios;
}

absl::StatusOr<const Scenario*> FindScenario(absl::string_view name) {
  std::vector<std::string> names;
  for (const Scenario& scenario : Scenarios()) {
    if (scenario.name == name) return &scenario;
    names.push_back(scenario.name);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown scenario \"", name, "\"; known: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<CallSpec> PrepareScenario(absl::string_view name, const ScenarioOptions& options,
                                         const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<const Scenario*> scenario = FindScenario(name);
  if (!scenario.ok()) return scenario.status();
  if ((*scenario)->prepare == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("scenario \"", name, "\" is a set of timed tasks, not a load"));
  }
  return (*scenario)->prepare(options, channel);
}

}  // namespace smp::loadgen
