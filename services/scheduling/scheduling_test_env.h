#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_TEST_ENV_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_TEST_ENV_H_

// Test-only: what the scheduling operation units' in-process tests share. A new database of the
// test backend (SMP_TEST_BACKEND: SQLite, or PostgreSQL) with the service's migrations, a fixed
// "now", two clinics (A and B, both Europe/London, open every day 08:00-20:00) each with a chair, a
// practitioner working 09:00-18:00 at clinic A, a patient of clinic A, and the callers the tests
// act as.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/database.h"
#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/rpc/call.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/scheduling/schedule_rules.h"
#include "services/scheduling/scheduling_migrations.h"
#include "services/scheduling/scheduling_store.h"

namespace smp::scheduling::testing {

using ::smp::testing::CallAs;
using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class SchedulingTestEnv : public ::testing::Test {
 protected:
  // Opened here, not in SetUp: the units under test (members of the derived fixtures) take the
  // database pointer when they are constructed.
  SchedulingTestEnv() : db_(::smp::testing::OpenNewTestDatabase().value()) {}

  void SetUp() override {
    ASSERT_OK(ApplyMigrations(*db_, SchedulingMigrations(), now_));
    ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &zone_));
    clinic_a_ = NewIdAt(now_ - absl::Hours(5));
    clinic_b_ = NewIdAt(now_ - absl::Hours(4));
    practitioner_ = NewIdAt(now_ - absl::Hours(3));
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (const std::string& clinic : {clinic_a_, clinic_b_}) {
        v1::ClinicSchedule schedule;
        schedule.set_clinic_id(clinic);
        schedule.set_time_zone("Europe/London");
        for (int day = 1; day <= 7; ++day) {
          v1::WeeklyInterval* w = schedule.add_opening_hours();
          w->set_day(static_cast<common::v1::DayOfWeek>(day));
          w->mutable_start_time()->set_hours(8);
          w->mutable_end_time()->set_hours(20);
        }
        ASSIGN_OR_RETURN(v1::ClinicSchedule normal, NormalizeSchedule(schedule));
        RETURN_IF_ERROR(store_.PutSchedule(txn, normal, 0, now_).status());
        v1::Chair chair;
        chair.set_clinic_id(clinic);
        chair.set_name("Chair 1");
        ASSIGN_OR_RETURN(v1::Chair saved, store_.CreateChair(txn, chair, now_));
        (clinic == clinic_a_ ? chair_a_ : chair_b_) = saved.id();
      }
      RETURN_IF_ERROR(PutHours(txn, practitioner_));
      ASSIGN_OR_RETURN(v1::Patient patient, store_.CreatePatient(txn, NewPatient(clinic_a_), now_));
      patient_ = patient.id();
      return absl::OkStatus();
    }));
  }

  // Working hours 09:00-18:00 every day at clinic A for `practitioner`.
  absl::Status PutHours(Transaction& txn, const std::string& practitioner) const {
    v1::WorkingHours hours;
    hours.set_practitioner_id(practitioner);
    hours.set_clinic_id(clinic_a_);
    for (int day = 1; day <= 7; ++day) {
      v1::WeeklyInterval* w = hours.add_intervals();
      w->set_day(static_cast<common::v1::DayOfWeek>(day));
      w->mutable_start_time()->set_hours(9);
      w->mutable_end_time()->set_hours(18);
    }
    return store_.PutWorkingHours(txn, hours, 0).status();
  }

  // Replaces the practitioner's hours at clinic A with `from`-`to` o'clock every day, as a
  // settings change (another process's, for a unit's memory) saves them: the version moves.
  absl::Status ReplaceHours(int from, int to) {
    return db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::WorkingHours> current,
                       store_.GetWorkingHours(txn, practitioner_, clinic_a_));
      if (!current.has_value()) return absl::NotFoundError("no hours");
      ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current->etag()));
      v1::WorkingHours hours = *current;
      hours.clear_intervals();
      for (int day = 1; day <= 7; ++day) {
        v1::WeeklyInterval* w = hours.add_intervals();
        w->set_day(static_cast<common::v1::DayOfWeek>(day));
        w->mutable_start_time()->set_hours(from);
        w->mutable_end_time()->set_hours(to);
      }
      return store_.PutWorkingHours(txn, hours, version).status();
    });
  }

  // The practitioner's booked hour-long consultation of the patient at `clinic` in `chair` from
  // `start`, not yet saved.
  v1::Appointment ConsultationAt(const std::string& clinic, const std::string& chair,
                                 absl::Time start) const {
    v1::Appointment a;
    a.set_id(NewIdAt(start));
    a.set_clinic_id(clinic);
    a.set_patient_id(patient_);
    a.set_practitioner_id(practitioner_);
    a.set_chair_id(chair);
    a.set_type(v1::CONSULTATION);
    a.set_status(v1::BOOKED);
    *a.mutable_start_time() = ToProtoTimestamp(start);
    *a.mutable_end_time() = ToProtoTimestamp(start + absl::Hours(1));
    return a;
  }

  static v1::Patient NewPatient(const std::string& clinic) {
    v1::Patient p;
    p.set_given_name("Sam");
    p.set_family_name("Rivera");
    p.set_phone("+442071234567");
    p.set_preferred_clinic_id(clinic);
    return p;
  }

  // A front desk of clinic A (or `clinic`), calling `method` at now_.
  Call Desk(const std::string& method) const { return DeskOf(clinic_a_, method); }
  Call DeskOf(const std::string& clinic, const std::string& method) const {
    return CallAs(StaffOf({common::v1::ROLE_FRONT_DESK}, {clinic}, "desk-" + clinic), now_, method);
  }
  // A front desk of clinic B only: outside clinic A's scope.
  Call OtherDesk(const std::string& method) const { return DeskOf(clinic_b_, method); }
  // An admin: chain-wide.
  Call Admin(const std::string& method) const {
    return CallAs(StaffOf({common::v1::ROLE_ADMIN}, {}, "admin"), now_, method);
  }
  // The same call a while later (a hold lapsing, a second booking).
  static Call Later(Call call, absl::Duration by) {
    call.now += by;
    return call;
  }

  // Clinic-local `hour`:`minute` on the day `days` after today.
  absl::Time At(int days, int hour, int minute = 0) const {
    const absl::CivilDay today = absl::ToCivilDay(now_, zone_);
    return zone_.At(absl::CivilMinute(today + days) + hour * 60 + minute).pre;
  }

  static common::v1::LocalDate Date(absl::CivilDay day) { return ToLocalDate(day); }
  absl::CivilDay Today() const { return absl::ToCivilDay(now_, zone_); }

  std::unique_ptr<Database> db_;
  SchedulingStore store_;
  // Monday 7 January 2030, 07:00 in London (GMT).
  const absl::Time now_ =
      absl::FromCivil(absl::CivilSecond(2030, 1, 7, 7, 0, 0), absl::UTCTimeZone());
  absl::TimeZone zone_;
  std::string clinic_a_, clinic_b_, chair_a_, chair_b_, practitioner_, patient_;
};

}  // namespace smp::scheduling::testing

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_TEST_ENV_H_
