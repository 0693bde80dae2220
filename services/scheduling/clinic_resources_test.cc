#include "services/scheduling/clinic_resources.h"

#include <map>

#include "services/scheduling/appointments.h"
#include "services/scheduling/scheduling_fakes.h"
#include "services/scheduling/scheduling_reasons.h"
#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

// Identity as a map of clinic -> zone; `down` makes it unreachable.
class FakeClinicZones final : public ClinicZoneSource {
 public:
  absl::StatusOr<std::string> ZoneOf(absl::string_view clinic_id) override {
    if (down) return absl::UnavailableError("identity is down");
    auto it = zones.find(std::string(clinic_id));
    if (it == zones.end()) return absl::NotFoundError("clinic not found");
    return it->second;
  }
  absl::StatusOr<std::vector<ClinicZone>> AllZones() override {
    if (down) return absl::UnavailableError("identity is down");
    std::vector<ClinicZone> out;
    for (const auto& [id, zone] : zones) out.push_back({id, zone});
    return out;
  }
  std::map<std::string, std::string> zones;
  bool down = false;
};

class ClinicResourcesTest : public SchedulingTestEnv {
 protected:
  v1::CreateChairRequest NewChair(const std::string& request_id, const std::string& name) const {
    v1::CreateChairRequest req;
    req.set_request_id(request_id);
    req.mutable_chair()->set_clinic_id(clinic_a_);
    req.mutable_chair()->set_name(name);
    return req;
  }

  v1::CreateScheduleExceptionRequest Closure(const std::string& request_id, int days) const {
    v1::CreateScheduleExceptionRequest req;
    req.set_request_id(request_id);
    v1::ScheduleException* e = req.mutable_exception();
    e->set_clinic_id(clinic_a_);
    e->set_kind(v1::CLOSURE);
    *e->mutable_start()->mutable_date() = Date(Today() + days);
    *e->mutable_end()->mutable_date() = Date(Today() + days + 1);
    e->set_reason("bank holiday");
    return req;
  }

  // A booking of a consultation at `clinic` by the practitioner.
  v1::BookAppointmentRequest Booking(const std::string& request_id, const std::string& clinic,
                                     const std::string& patient, absl::Time start) const {
    v1::BookAppointmentRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic);
    req.set_patient_id(patient);
    req.set_practitioner_id(practitioner_);
    req.set_type(v1::CONSULTATION);
    *req.mutable_start_time() = ToProtoTimestamp(start);
    return req;
  }

  // The practitioner's offered starts at `clinic` on the day `days` after today.
  std::vector<absl::Time> Offered(const std::string& clinic, int days) const {
    v1::FindAvailabilityRequest find;
    find.set_clinic_id(clinic);
    find.set_type(v1::CONSULTATION);
    find.set_practitioner_id(practitioner_);
    *find.mutable_period()->mutable_start_date() = Date(Today() + days);
    *find.mutable_period()->mutable_end_date() = Date(Today() + days);
    absl::StatusOr<v1::FindAvailabilityResponse> found =
        appointments_.FindAvailability(DeskOf(clinic, "FindAvailability"), find);
    EXPECT_OK(found.status());
    std::vector<absl::Time> starts;
    if (found.ok()) {
      for (const v1::Slot& s : found->slots()) starts.push_back(FromProtoTimestamp(s.start_time()));
    }
    return starts;
  }

  ClinicResources resources_{db_.get(), &store_};
  FakeComplianceGate gate_;
  FakeSupplyIssuer supplies_;
  ChangeNotifier notifier_;
  AppointmentBook book_{db_.get(), &store_, &notifier_, [] {}};
  Appointments appointments_{db_.get(), &store_, &book_, &gate_, &supplies_};
};

TEST_F(ClinicResourcesTest, TheTimeZoneComesFromIdentityAndTheLastKnownOneStays) {
  FakeClinicZones identity;
  identity.zones[clinic_a_] = "Pacific/Auckland";
  ClinicResources resources(db_.get(), &store_, &identity);
  v1::GetClinicScheduleRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule schedule,
                       resources.GetSchedule(Desk("GetClinicSchedule"), get));
  ASSERT_EQ(schedule.time_zone(), "Europe/London");  // entered before identity was asked

  // The admin leaves the zone out: identity's is stored.
  v1::UpdateClinicScheduleRequest update;
  update.set_request_id("zone-1");
  *update.mutable_schedule() = schedule;
  update.mutable_schedule()->clear_time_zone();
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule saved,
                       resources.UpdateSchedule(Admin("UpdateClinicSchedule"), update));
  EXPECT_EQ(saved.time_zone(), "Pacific/Auckland");
  // A zone that contradicts identity's is refused and changes nothing.
  update.set_request_id("zone-2");
  *update.mutable_schedule() = saved;
  update.mutable_schedule()->set_time_zone("Europe/Paris");
  EXPECT_THAT(resources.UpdateSchedule(Admin("UpdateClinicSchedule"), update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("schedule.time_zone")));
  // A clinic identity does not know gets no schedule.
  update.set_request_id("zone-3");
  update.mutable_schedule()->set_clinic_id(NewIdAt(now_));
  update.mutable_schedule()->clear_time_zone();
  update.mutable_schedule()->clear_etag();
  EXPECT_THAT(resources.UpdateSchedule(Admin("UpdateClinicSchedule"), update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("schedule.clinic_id")));

  // Identity moves the clinic's zone: the refresh stores it; clinic B (London at identity too)
  // is unchanged.
  identity.zones[clinic_a_] = "Australia/Sydney";
  identity.zones[clinic_b_] = "Europe/London";
  EXPECT_THAT(resources.RefreshZones(now_), IsOkAndHolds(1));
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule refreshed,
                       resources.GetSchedule(Desk("GetClinicSchedule"), get));
  EXPECT_EQ(refreshed.time_zone(), "Australia/Sydney");
  EXPECT_THAT(resources.RefreshZones(now_), IsOkAndHolds(0));

  // While identity is down the last known zone stays in use, and changes still save.
  identity.down = true;
  EXPECT_THAT(resources.RefreshZones(now_), StatusIs(absl::StatusCode::kUnavailable));
  update.set_request_id("zone-4");
  *update.mutable_schedule() = refreshed;
  update.mutable_schedule()->clear_time_zone();
  update.mutable_schedule()->mutable_buffer_after()->set_seconds(20 * 60);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule offline,
                       resources.UpdateSchedule(Admin("UpdateClinicSchedule"), update));
  EXPECT_EQ(offline.time_zone(), "Australia/Sydney");
  EXPECT_EQ(offline.buffer_after().seconds(), 20 * 60);
}

TEST_F(ClinicResourcesTest, LeaveEnteredAtOneClinicHoldsAtEveryClinic) {
  std::string patient_b;
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    // The practitioner also works 09:00-18:00 every day at clinic B.
    v1::WorkingHours hours;
    hours.set_practitioner_id(practitioner_);
    hours.set_clinic_id(clinic_b_);
    for (int day = 1; day <= 7; ++day) {
      v1::WeeklyInterval* w = hours.add_intervals();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(9);
      w->mutable_end_time()->set_hours(18);
    }
    RETURN_IF_ERROR(store_.PutWorkingHours(txn, hours, 0).status());
    ASSIGN_OR_RETURN(v1::Patient p, store_.CreatePatient(txn, NewPatient(clinic_b_), now_));
    patient_b = p.id();
    return absl::OkStatus();
  }));
  ASSERT_FALSE(Offered(clinic_b_, 1).empty());

  // Clinic A's desk enters the practitioner's leave for tomorrow.
  v1::CreateScheduleExceptionRequest leave;
  leave.set_request_id("leave-1");
  v1::ScheduleException* e = leave.mutable_exception();
  e->set_clinic_id(clinic_a_);
  e->set_kind(v1::LEAVE);
  e->set_practitioner_id(practitioner_);
  *e->mutable_start()->mutable_date() = Date(Today() + 1);
  *e->mutable_end()->mutable_date() = Date(Today() + 2);
  e->set_reason("annual leave");
  ASSERT_OK(resources_.CreateException(Desk("CreateScheduleException"), leave).status());

  // Neither branch offers or books the practitioner that day; the day after is unaffected.
  EXPECT_TRUE(Offered(clinic_a_, 1).empty());
  EXPECT_TRUE(Offered(clinic_b_, 1).empty());
  EXPECT_FALSE(Offered(clinic_b_, 2).empty());
  EXPECT_THAT(appointments_.Book(DeskOf(clinic_b_, "BookAppointment"),
                                 Booking("b-1", clinic_b_, patient_b, At(1, 10))),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(appointments_
                .Book(DeskOf(clinic_b_, "BookAppointment"),
                      Booking("b-2", clinic_b_, patient_b, At(2, 10)))
                .status());
}

TEST_F(ClinicResourcesTest, ABookingKeepsTheCleaningBufferItWasBookedWith) {
  // Booked (held) 10:00-11:00 with the default 30-minute buffer: the time is taken to 11:30.
  v1::BookAppointmentRequest hold = Booking("hold-1", clinic_a_, patient_, At(1, 10));
  hold.set_hold(true);
  ASSERT_OK_AND_ASSIGN(v1::Appointment held, appointments_.Book(Desk("BookAppointment"), hold));

  // The clinic shortens its buffer to 10 minutes, then the hold is confirmed.
  v1::GetClinicScheduleRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule schedule,
                       resources_.GetSchedule(Desk("GetClinicSchedule"), get));
  v1::UpdateClinicScheduleRequest update;
  update.set_request_id("buffer-10");
  *update.mutable_schedule() = schedule;
  update.mutable_schedule()->mutable_buffer_after()->set_seconds(10 * 60);
  ASSERT_OK(resources_.UpdateSchedule(Admin("UpdateClinicSchedule"), update).status());
  v1::ConfirmAppointmentRequest confirm;
  confirm.set_request_id("confirm-1");
  confirm.set_id(held.id());
  confirm.set_etag(held.etag());
  ASSERT_OK(appointments_.Confirm(Desk("ConfirmAppointment"), confirm).status());

  // Availability and booking agree with the rows that hold the time: 11:15 is not offered (it
  // would collide with the booked block), 11:30 is and books.
  const std::vector<absl::Time> offered = Offered(clinic_a_, 1);
  EXPECT_EQ(std::count(offered.begin(), offered.end(), At(1, 11, 15)), 0);
  EXPECT_EQ(std::count(offered.begin(), offered.end(), At(1, 11, 30)), 1);
  const absl::StatusOr<v1::Appointment> early = appointments_.Book(
      Desk("BookAppointment"), Booking("b-1115", clinic_a_, patient_, At(1, 11, 15)));
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(early.status()), reason::kSlotTaken);
  ASSERT_OK_AND_ASSIGN(v1::Appointment next,
                       appointments_.Book(Desk("BookAppointment"),
                                          Booking("b-1130", clinic_a_, patient_, At(1, 11, 30))));
  // The new booking takes the buffer in force now: 12:30 to 12:40, so 12:45 is free again.
  EXPECT_EQ(FromProtoTimestamp(next.end_time()), At(1, 12, 30));
  const std::vector<absl::Time> after = Offered(clinic_a_, 1);
  EXPECT_EQ(std::count(after.begin(), after.end(), At(1, 12, 45)), 1);
}

TEST_F(ClinicResourcesTest, ScheduleIsReadAndUpdatedAtItsEtag) {
  v1::GetClinicScheduleRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule schedule,
                       resources_.GetSchedule(Desk("GetClinicSchedule"), get));
  EXPECT_EQ(schedule.time_zone(), "Europe/London");
  EXPECT_EQ(schedule.buffer_after().seconds(), 30 * 60);  // the default

  v1::UpdateClinicScheduleRequest update;
  update.set_request_id("sched-1");
  *update.mutable_schedule() = schedule;
  update.mutable_schedule()->mutable_buffer_after()->set_seconds(15 * 60);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule saved,
                       resources_.UpdateSchedule(Admin("UpdateClinicSchedule"), update));
  EXPECT_EQ(saved.buffer_after().seconds(), 15 * 60);
  ASSERT_OK_AND_ASSIGN(v1::ClinicSchedule replay,
                       resources_.UpdateSchedule(Admin("UpdateClinicSchedule"), update));
  EXPECT_EQ(replay.etag(), saved.etag());

  update.set_request_id("sched-2");  // still the old etag
  absl::StatusOr<v1::ClinicSchedule> stale =
      resources_.UpdateSchedule(Admin("UpdateClinicSchedule"), update);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);

  update.mutable_schedule()->set_time_zone("Mars/Olympus");
  EXPECT_THAT(resources_.UpdateSchedule(Admin("UpdateClinicSchedule"), update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("schedule.time_zone")));
  EXPECT_EQ(ErrorReason(resources_.GetSchedule(OtherDesk("GetClinicSchedule"), get).status()),
            reason::kOutsideClinicScope);
}

TEST_F(ClinicResourcesTest, ChairsAreCreatedPagedAndRetired) {
  ASSERT_OK_AND_ASSIGN(v1::Chair second, resources_.CreateChair(Admin("CreateChair"),
                                                                NewChair("chair-2", "Chair 2")));
  ASSERT_OK_AND_ASSIGN(v1::Chair replay, resources_.CreateChair(Admin("CreateChair"),
                                                                NewChair("chair-2", "Chair 2")));
  EXPECT_EQ(replay.id(), second.id());
  EXPECT_TRUE(second.active());

  v1::ListChairsRequest list;
  list.set_clinic_id(clinic_a_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListChairsResponse page1,
                       resources_.ListChairs(Desk("ListChairs"), list));
  ASSERT_EQ(page1.chairs_size(), 1);
  EXPECT_EQ(page1.chairs(0).id(), chair_a_);
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListChairsResponse page2,
                       resources_.ListChairs(Desk("ListChairs"), list));
  ASSERT_EQ(page2.chairs_size(), 1);
  EXPECT_EQ(page2.chairs(0).id(), second.id());
  EXPECT_TRUE(page2.next_page_token().empty());
  // A token of clinic A's list does not page clinic B's.
  list.set_clinic_id(clinic_b_);
  EXPECT_THAT(resources_.ListChairs(Admin("ListChairs"), list),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));

  v1::UpdateChairRequest retire;
  retire.set_request_id("retire-2");
  *retire.mutable_chair() = second;
  retire.mutable_chair()->set_active(false);
  retire.mutable_update_mask()->add_paths("active");
  ASSERT_OK_AND_ASSIGN(v1::Chair retired, resources_.UpdateChair(Admin("UpdateChair"), retire));
  EXPECT_FALSE(retired.active());
  retire.set_request_id("retire-again");
  EXPECT_EQ(ErrorReason(resources_.UpdateChair(Admin("UpdateChair"), retire).status()),
            reason::kStaleEtag);
  EXPECT_EQ(ErrorReason(resources_.UpdateChair(OtherDesk("UpdateChair"), retire).status()),
            reason::kOutsideClinicScope);

  EXPECT_THAT(resources_.CreateChair(Admin("CreateChair"), NewChair("chair-3", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chair.name")));
  EXPECT_EQ(
      ErrorReason(resources_.CreateChair(OtherDesk("CreateChair"), NewChair("c-4", "X")).status()),
      reason::kOutsideClinicScope);
  // A clinic without a schedule has no chairs.
  v1::CreateChairRequest unknown = NewChair("chair-5", "Chair 5");
  unknown.mutable_chair()->set_clinic_id(NewIdAt(now_));
  EXPECT_THAT(resources_.CreateChair(Admin("CreateChair"), unknown),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chair.clinic_id")));
}

TEST_F(ClinicResourcesTest, WorkingHoursAreSetReadAndListed) {
  v1::GetWorkingHoursRequest get;
  get.set_practitioner_id(practitioner_);
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::WorkingHours hours,
                       resources_.GetWorkingHours(Desk("GetWorkingHours"), get));
  EXPECT_EQ(hours.intervals_size(), 7);

  const std::string other = NewIdAt(now_);
  v1::SetWorkingHoursRequest set;
  set.set_request_id("hours-other");
  set.mutable_working_hours()->set_practitioner_id(other);
  set.mutable_working_hours()->set_clinic_id(clinic_a_);
  v1::WeeklyInterval* w = set.mutable_working_hours()->add_intervals();
  w->set_day(common::v1::MONDAY);
  w->mutable_start_time()->set_hours(10);
  w->mutable_end_time()->set_hours(14);
  ASSERT_OK_AND_ASSIGN(v1::WorkingHours saved,
                       resources_.SetWorkingHours(Admin("SetWorkingHours"), set));
  EXPECT_EQ(saved.intervals_size(), 1);
  set.set_request_id("hours-other-2");  // no etag: as if first, but they exist now
  EXPECT_EQ(ErrorReason(resources_.SetWorkingHours(Admin("SetWorkingHours"), set).status()),
            reason::kStaleEtag);
  w->mutable_end_time()->set_hours(9);
  EXPECT_THAT(resources_.SetWorkingHours(Admin("SetWorkingHours"), set),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("working_hours.intervals")));

  // A practitioner without hours has an empty week.
  get.set_practitioner_id(NewIdAt(now_ + absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(v1::WorkingHours none,
                       resources_.GetWorkingHours(Desk("GetWorkingHours"), get));
  EXPECT_EQ(none.intervals_size(), 0);

  v1::ListWorkingHoursRequest list;
  list.set_clinic_id(clinic_a_);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListWorkingHoursResponse page1,
                       resources_.ListWorkingHours(Desk("ListWorkingHours"), list));
  ASSERT_EQ(page1.working_hours_size(), 1);
  EXPECT_EQ(page1.working_hours(0).practitioner_id(), practitioner_);
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListWorkingHoursResponse page2,
                       resources_.ListWorkingHours(Desk("ListWorkingHours"), list));
  ASSERT_EQ(page2.working_hours_size(), 1);
  EXPECT_EQ(page2.working_hours(0).practitioner_id(), other);
  EXPECT_TRUE(page2.next_page_token().empty());
  EXPECT_EQ(ErrorReason(resources_.ListWorkingHours(OtherDesk("ListWorkingHours"), list).status()),
            reason::kOutsideClinicScope);
}

TEST_F(ClinicResourcesTest, ExceptionsArePagedAndDeletedIdempotently) {
  ASSERT_OK_AND_ASSIGN(
      v1::ScheduleException first,
      resources_.CreateException(Admin("CreateScheduleException"), Closure("closure-1", 3)));
  ASSERT_OK_AND_ASSIGN(
      v1::ScheduleException second,
      resources_.CreateException(Admin("CreateScheduleException"), Closure("closure-2", 10)));
  EXPECT_EQ(
      ErrorReason(
          resources_.CreateException(OtherDesk("CreateScheduleException"), Closure("closure-3", 4))
              .status()),
      reason::kOutsideClinicScope);
  v1::CreateScheduleExceptionRequest bad = Closure("closure-bad", 5);
  bad.mutable_exception()->set_practitioner_id(practitioner_);
  EXPECT_THAT(resources_.CreateException(Admin("CreateScheduleException"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exception.practitioner_id")));

  v1::ListScheduleExceptionsRequest list;
  list.set_clinic_id(clinic_a_);
  *list.mutable_period()->mutable_start_date() = Date(Today());
  *list.mutable_period()->mutable_end_date() = Date(Today() + 30);
  list.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListScheduleExceptionsResponse page1,
                       resources_.ListExceptions(Desk("ListScheduleExceptions"), list));
  ASSERT_EQ(page1.exceptions_size(), 1);
  EXPECT_EQ(page1.exceptions(0).id(), first.id());
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListScheduleExceptionsResponse page2,
                       resources_.ListExceptions(Desk("ListScheduleExceptions"), list));
  ASSERT_EQ(page2.exceptions_size(), 1);
  EXPECT_EQ(page2.exceptions(0).id(), second.id());
  EXPECT_TRUE(page2.next_page_token().empty());
  // A period longer than 366 days, and one that ends before it starts.
  list.clear_page_token();
  *list.mutable_period()->mutable_end_date() = Date(Today() + 400);
  EXPECT_THAT(resources_.ListExceptions(Desk("ListScheduleExceptions"), list),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));
  *list.mutable_period()->mutable_end_date() = Date(Today() - 1);
  EXPECT_THAT(resources_.ListExceptions(Desk("ListScheduleExceptions"), list),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("period")));

  v1::DeleteScheduleExceptionRequest del;
  del.set_request_id("delete-1");
  del.set_id(first.id());
  EXPECT_EQ(
      ErrorReason(resources_.DeleteException(OtherDesk("DeleteScheduleException"), del).status()),
      reason::kOutsideClinicScope);
  ASSERT_OK(resources_.DeleteException(Admin("DeleteScheduleException"), del).status());
  // The retry answers as the first did; a new delete of the same exception finds nothing.
  ASSERT_OK(resources_.DeleteException(Admin("DeleteScheduleException"), del).status());
  del.set_request_id("delete-2");
  EXPECT_THAT(resources_.DeleteException(Admin("DeleteScheduleException"), del),
              StatusIs(absl::StatusCode::kNotFound));
  del.clear_request_id();
  EXPECT_THAT(resources_.DeleteException(Admin("DeleteScheduleException"), del),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
}

}  // namespace
}  // namespace smp::scheduling::testing
