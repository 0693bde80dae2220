#include "services/identity/clinics.h"

#include <memory>
#include <set>
#include <string>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "services/identity/identity_migrations.h"

namespace smp::identity {
namespace {

using common::v1::ROLE_ADMIN;
using common::v1::ROLE_AUDITOR;
using common::v1::ROLE_FRONT_DESK;
using ::smp::testing::CallAs;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());

class ClinicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, ::smp::testing::OpenNewTestDatabase());
    ASSERT_OK(ApplyMigrations(*db_, IdentityMigrations(), kNow));
    clinics_ = std::make_unique<Clinics>(db_.get());
  }

  static Call Admin(const std::string& method) {
    return CallAs(StaffOf({ROLE_ADMIN}, {}, "admin-1"), kNow, method);
  }
  static Call Desk(const std::string& clinic, const std::string& method) {
    return CallAs(StaffOf({ROLE_FRONT_DESK}, {clinic}, "desk-1"), kNow, method);
  }

  static v1::CreateClinicRequest CreateRequest(const std::string& request_id,
                                               const std::string& name,
                                               const std::string& zone = "Europe/London") {
    v1::CreateClinicRequest req;
    req.set_request_id(request_id);
    req.mutable_clinic()->set_name(name);
    req.mutable_clinic()->set_time_zone(zone);
    return req;
  }

  v1::Clinic MustCreate(const std::string& name) {
    absl::StatusOr<v1::Clinic> created =
        clinics_->Create(Admin("CreateClinic"), CreateRequest("create-" + name, name));
    EXPECT_OK(created);
    return created.ok() ? *created : v1::Clinic();
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Clinics> clinics_;
};

TEST_F(ClinicsTest, CreateThenGetReturnsTheClinic) {
  ASSERT_OK_AND_ASSIGN(v1::Clinic created, clinics_->Create(Admin("CreateClinic"),
                                                            CreateRequest("r-1", "Austin Downtown",
                                                                          "America/Chicago")));
  EXPECT_TRUE(IsWellFormedId(created.id()));
  EXPECT_EQ(created.name(), "Austin Downtown");
  EXPECT_EQ(created.etag(), "v1");
  EXPECT_EQ(created.create_time().seconds(), absl::ToUnixSeconds(kNow));

  v1::GetClinicRequest get;
  get.set_id(created.id());
  ASSERT_OK_AND_ASSIGN(v1::Clinic got, clinics_->Get(Desk(created.id(), "GetClinic"), get));
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());
}

TEST_F(ClinicsTest, CreateRefusesBadFieldsByName) {
  EXPECT_THAT(clinics_->Create(Admin("CreateClinic"), CreateRequest("r-1", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic.name")));
  EXPECT_THAT(clinics_->Create(Admin("CreateClinic"), CreateRequest("r-2", "Mars", "Mars/Olympus")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic.time_zone")));
  EXPECT_THAT(clinics_->Create(Admin("CreateClinic"), CreateRequest("", "Leeds")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  ASSERT_OK_AND_ASSIGN(v1::ListClinicsResponse all,
                       clinics_->List(Admin("ListClinics"), v1::ListClinicsRequest()));
  EXPECT_EQ(all.clinics_size(), 0);
}

TEST_F(ClinicsTest, ReplayedCreateReturnsTheFirstClinicAndReuseIsRefused) {
  ASSERT_OK_AND_ASSIGN(v1::Clinic first,
                       clinics_->Create(Admin("CreateClinic"), CreateRequest("r-42", "Miami")));
  ASSERT_OK_AND_ASSIGN(v1::Clinic again,
                       clinics_->Create(Admin("CreateClinic"), CreateRequest("r-42", "Miami")));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  absl::StatusOr<v1::Clinic> reused =
      clinics_->Create(Admin("CreateClinic"), CreateRequest("r-42", "Tampa"));
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_EQ(ErrorReason(reused.status()), reason::kRequestIdReused);
  ASSERT_OK_AND_ASSIGN(v1::ListClinicsResponse all,
                       clinics_->List(Admin("ListClinics"), v1::ListClinicsRequest()));
  EXPECT_EQ(all.clinics_size(), 1);
}

TEST_F(ClinicsTest, AnotherClinicsCallerIsRefused) {
  v1::Clinic austin = MustCreate("Austin");
  v1::Clinic london = MustCreate("London");
  v1::GetClinicRequest get;
  get.set_id(london.id());
  absl::StatusOr<v1::Clinic> got = clinics_->Get(Desk(austin.id(), "GetClinic"), get);
  EXPECT_THAT(
      got, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("outside your clinic scope")));
  EXPECT_EQ(ErrorReason(got.status()), reason::kOutsideClinicScope);

  v1::UpdateClinicRequest update;
  update.set_request_id("u-1");
  *update.mutable_clinic() = london;
  update.mutable_clinic()->set_name("Mine now");
  update.mutable_update_mask()->add_paths("name");
  absl::StatusOr<v1::Clinic> updated = clinics_->Update(Desk(austin.id(), "UpdateClinic"), update);
  EXPECT_THAT(updated, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(updated.status()), reason::kOutsideClinicScope);
  ASSERT_OK_AND_ASSIGN(v1::Clinic unchanged, clinics_->Get(Admin("GetClinic"), get));
  EXPECT_EQ(unchanged.name(), "London");
}

TEST_F(ClinicsTest, GetOfAnUnknownClinicIsNotFound) {
  v1::GetClinicRequest get;
  get.set_id(NewId());
  EXPECT_THAT(clinics_->Get(Admin("GetClinic"), get), StatusIs(absl::StatusCode::kNotFound));
  get.set_id("not an id");
  EXPECT_THAT(clinics_->Get(Admin("GetClinic"), get),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id")));
}

TEST_F(ClinicsTest, ListShowsTheCallersScopeAPageAtATime) {
  std::set<std::string> made;
  for (const char* name : {"A", "B", "C", "D", "E"}) made.insert(MustCreate(name).id());
  const std::string own = *made.begin();

  ASSERT_OK_AND_ASSIGN(v1::ListClinicsResponse desk,
                       clinics_->List(Desk(own, "ListClinics"), v1::ListClinicsRequest()));
  ASSERT_EQ(desk.clinics_size(), 1);
  EXPECT_EQ(desk.clinics(0).id(), own);
  EXPECT_EQ(desk.next_page_token(), "");

  const Call auditor = CallAs(StaffOf({ROLE_AUDITOR}, {}), kNow, "ListClinics");
  std::set<std::string> seen;
  v1::ListClinicsRequest req;
  req.set_page_size(2);
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListClinicsResponse page, clinics_->List(auditor, req));
    EXPECT_LE(page.clinics_size(), 2);
    for (const v1::Clinic& c : page.clinics()) EXPECT_TRUE(seen.insert(c.id()).second);
    req.set_page_token(page.next_page_token());
    ++pages;
  } while (!req.page_token().empty() && pages < 10);
  EXPECT_EQ(seen, made);
  EXPECT_EQ(pages, 3);

  req.set_page_size(-1);
  EXPECT_THAT(clinics_->List(auditor, req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  req.set_page_size(2);
  req.set_page_token("forged");
  EXPECT_THAT(clinics_->List(auditor, req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(ClinicsTest, UpdateWritesTheMaskedFieldsAndRefusesAStaleEtag) {
  v1::Clinic denver = MustCreate("Denver");
  v1::UpdateClinicRequest req;
  req.set_request_id("rename-1");
  *req.mutable_clinic() = denver;
  req.mutable_clinic()->set_name("Denver Central");
  req.mutable_clinic()->set_time_zone("America/Denver");  // not in the mask: kept as it was
  req.mutable_update_mask()->add_paths("name");
  ASSERT_OK_AND_ASSIGN(v1::Clinic updated,
                       clinics_->Update(Desk(denver.id(), "UpdateClinic"), req));
  EXPECT_EQ(updated.name(), "Denver Central");
  EXPECT_EQ(updated.time_zone(), "Europe/London");
  EXPECT_EQ(updated.etag(), "v2");

  // The same request again is a replay, not a stale update.
  ASSERT_OK_AND_ASSIGN(v1::Clinic replayed,
                       clinics_->Update(Desk(denver.id(), "UpdateClinic"), req));
  EXPECT_EQ(replayed.etag(), "v2");

  req.set_request_id("rename-2");
  req.mutable_clinic()->set_name("Denver North");
  absl::StatusOr<v1::Clinic> stale = clinics_->Update(Admin("UpdateClinic"), req);
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted, HasSubstr("current etag is v2")));
  EXPECT_EQ(ErrorReason(stale.status()), reason::kStaleEtag);
  EXPECT_EQ(ErrorMetadata(stale.status(), "current_etag"), "v2");

  req.clear_update_mask();
  req.mutable_clinic()->set_etag("v2");
  req.set_request_id("rename-3");
  EXPECT_THAT(clinics_->Update(Admin("UpdateClinic"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  req.mutable_clinic()->set_etag("");
  EXPECT_THAT(clinics_->Update(Admin("UpdateClinic"), req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic.etag")));
}

}  // namespace
}  // namespace smp::identity
