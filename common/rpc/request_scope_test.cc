#include "common/rpc/request_scope.h"

#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "smp/testing/v1/authz_test.pb.h"

namespace smp {
namespace {

using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
namespace tv1 = ::smp::testing::v1;

Principal DeskOfA() {
  Principal who = StaffOf({common::v1::ROLE_FRONT_DESK}, {"clinic-a"});
  who.acting_permission = common::v1::PERMISSION_PATIENTS_WRITE;
  return who;
}

TEST(RequestScopeTest, EveryClinicFieldAtTheTopOrOneLevelDownIsJudged) {
  tv1::ClinicRequest req;
  EXPECT_OK(CheckNamedClinics(DeskOfA(), req));  // names none
  req.set_clinic_id("clinic-a");
  req.add_clinic_ids("clinic-a");
  req.mutable_record()->set_clinic_id("clinic-a");
  EXPECT_OK(CheckNamedClinics(DeskOfA(), req));

  tv1::ClinicRequest top = req;
  top.set_clinic_id("clinic-b");
  absl::Status refused = CheckNamedClinics(DeskOfA(), top);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied,
                                HasSubstr("clinic clinic-b is outside your clinic scope")));
  EXPECT_EQ(ErrorReason(refused), reason::kOutsideClinicScope);

  tv1::ClinicRequest listed = req;
  listed.add_clinic_ids("clinic-b");
  EXPECT_THAT(CheckNamedClinics(DeskOfA(), listed), StatusIs(absl::StatusCode::kPermissionDenied));

  tv1::ClinicRequest nested = req;
  nested.mutable_record()->set_clinic_id("clinic-b");
  EXPECT_THAT(CheckNamedClinics(DeskOfA(), nested), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(RequestScopeTest, OtherFieldsAndChainWideCallersPass) {
  tv1::ClinicRequest req;
  req.set_clinic_id("clinic-a");
  req.set_destination_clinic_id("clinic-b");  // the operation's to judge
  EXPECT_OK(CheckNamedClinics(DeskOfA(), req));

  req.set_clinic_id("clinic-b");
  Principal auditor = StaffOf({common::v1::ROLE_AUDITOR}, {});
  auditor.acting_permission = common::v1::PERMISSION_PATIENTS_READ;
  EXPECT_OK(CheckNamedClinics(auditor, req));
  // An auditor's chain-wide reach is for its own permissions only.
  auditor.acting_permission = common::v1::PERMISSION_PATIENTS_WRITE;
  EXPECT_THAT(CheckNamedClinics(auditor, req), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace smp
