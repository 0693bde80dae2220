#include "services/scheduling/clinic_resources.h"

#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

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

  ClinicResources resources_{db_.get(), &store_};
};

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
