#include "services/scheduling/patients.h"

#include "services/scheduling/scheduling_test_env.h"

namespace smp::scheduling::testing {
namespace {

class PatientsTest : public SchedulingTestEnv {
 protected:
  v1::CreatePatientRequest Create(const std::string& request_id, const std::string& clinic) const {
    v1::CreatePatientRequest req;
    req.set_request_id(request_id);
    *req.mutable_patient() = NewPatient(clinic);
    return req;
  }

  Patients patients_{db_.get(), &store_};
};

TEST_F(PatientsTest, CreatesReadsAndReplaysByRequestId) {
  v1::CreatePatientRequest req = Create("p-1", clinic_a_);
  req.mutable_patient()->mutable_birth_date()->set_year(1990);
  req.mutable_patient()->mutable_birth_date()->set_month(5);
  req.mutable_patient()->mutable_birth_date()->set_day(17);
  ASSERT_OK_AND_ASSIGN(v1::Patient created, patients_.Create(Desk("CreatePatient"), req));
  EXPECT_EQ(created.family_name(), "Rivera");
  EXPECT_EQ(created.birth_date().day(), 17);
  EXPECT_FALSE(created.etag().empty());

  ASSERT_OK_AND_ASSIGN(v1::Patient again, patients_.Create(Desk("CreatePatient"), req));
  EXPECT_EQ(again.id(), created.id());

  v1::GetPatientRequest get;
  get.set_id(created.id());
  ASSERT_OK_AND_ASSIGN(v1::Patient read, patients_.Get(Desk("GetPatient"), get));
  EXPECT_EQ(read.SerializeAsString(), created.SerializeAsString());

  // The same key for another request is refused.
  req.mutable_patient()->set_given_name("Alex");
  absl::StatusOr<v1::Patient> reused = patients_.Create(Desk("CreatePatient"), req);
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorReason(reused.status()), reason::kRequestIdReused);
}

TEST_F(PatientsTest, ValidationNamesTheField) {
  v1::CreatePatientRequest req = Create("p-bad", clinic_a_);
  req.mutable_patient()->clear_phone();
  EXPECT_THAT(patients_.Create(Desk("CreatePatient"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("patient.phone")));
  req = Create("p-bad-2", clinic_a_);
  req.mutable_patient()->mutable_birth_date()->set_year(1899);
  req.mutable_patient()->mutable_birth_date()->set_month(1);
  req.mutable_patient()->mutable_birth_date()->set_day(1);
  EXPECT_THAT(patients_.Create(Desk("CreatePatient"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("patient.birth_date")));
  v1::SearchPatientsRequest search;
  search.set_query("r");
  EXPECT_THAT(patients_.Search(Desk("SearchPatients"), search),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query")));
}

TEST_F(PatientsTest, AnotherClinicsDeskIsRefused) {
  absl::StatusOr<v1::Patient> created =
      patients_.Create(OtherDesk("CreatePatient"), Create("p-b", clinic_a_));
  EXPECT_THAT(created, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(created.status()), reason::kOutsideClinicScope);

  v1::GetPatientRequest get;
  get.set_id(patient_);
  absl::StatusOr<v1::Patient> read = patients_.Get(OtherDesk("GetPatient"), get);
  EXPECT_EQ(ErrorReason(read.status()), reason::kOutsideClinicScope);

  // Searching clinic A from clinic B is refused; a plain search finds nothing of clinic A.
  v1::SearchPatientsRequest search;
  search.set_query("rivera");
  search.set_clinic_id(clinic_a_);
  EXPECT_EQ(ErrorReason(patients_.Search(OtherDesk("SearchPatients"), search).status()),
            reason::kOutsideClinicScope);
  search.clear_clinic_id();
  ASSERT_OK_AND_ASSIGN(v1::SearchPatientsResponse found,
                       patients_.Search(OtherDesk("SearchPatients"), search));
  EXPECT_EQ(found.patients_size(), 0);
}

TEST_F(PatientsTest, UpdateNeedsTheCurrentEtag) {
  v1::GetPatientRequest get;
  get.set_id(patient_);
  ASSERT_OK_AND_ASSIGN(v1::Patient p, patients_.Get(Desk("GetPatient"), get));
  v1::UpdatePatientRequest update;
  update.set_request_id("u-1");
  *update.mutable_patient() = p;
  update.mutable_patient()->set_email("sam@example.com");
  update.mutable_update_mask()->add_paths("email");
  ASSERT_OK_AND_ASSIGN(v1::Patient updated, patients_.Update(Desk("UpdatePatient"), update));
  EXPECT_EQ(updated.email(), "sam@example.com");
  EXPECT_NE(updated.etag(), p.etag());
  // A replay answers as the first did; a new change from the old etag is stale.
  ASSERT_OK_AND_ASSIGN(v1::Patient replay, patients_.Update(Desk("UpdatePatient"), update));
  EXPECT_EQ(replay.etag(), updated.etag());
  update.set_request_id("u-2");
  update.mutable_patient()->set_email("other@example.com");
  absl::StatusOr<v1::Patient> stale = patients_.Update(Desk("UpdatePatient"), update);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);
  EXPECT_EQ(ErrorMetadata(stale.status(), "current_etag"), updated.etag());
  // A mask naming an unknown field.
  update.set_request_id("u-3");
  *update.mutable_patient() = updated;
  update.mutable_update_mask()->set_paths(0, "ssn");
  EXPECT_THAT(patients_.Update(Desk("UpdatePatient"), update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
}

TEST_F(PatientsTest, SearchPagesByKeyset) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(
        patients_.Create(Desk("CreatePatient"), Create(absl::StrCat("s-", i), clinic_a_)).status());
  }
  v1::SearchPatientsRequest search;
  search.set_query("rivera");
  search.set_page_size(3);
  ASSERT_OK_AND_ASSIGN(v1::SearchPatientsResponse first,
                       patients_.Search(Desk("SearchPatients"), search));
  EXPECT_EQ(first.patients_size(), 3);
  ASSERT_FALSE(first.next_page_token().empty());
  search.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::SearchPatientsResponse second,
                       patients_.Search(Desk("SearchPatients"), search));
  EXPECT_EQ(second.patients_size(), 1);  // 4 Riveras in all
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_NE(second.patients(0).id(), first.patients(2).id());
}

}  // namespace
}  // namespace smp::scheduling::testing
