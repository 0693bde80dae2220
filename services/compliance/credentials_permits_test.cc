#include "services/compliance/credentials_permits.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/compliance/compliance_reasons.h"
#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class CredentialsPermitsTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    unit_ = std::make_unique<CredentialsPermits>(audit_.get());
  }
  std::unique_ptr<CredentialsPermits> unit_;
};

TEST_F(CredentialsPermitsTest, RecordsACredentialOnceAndItsAuditEntry) {
  v1::RecordCredentialRequest req;
  req.set_request_id("cred-1");
  *req.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
  const Call call = Admin("RecordCredential");
  ASSERT_OK_AND_ASSIGN(v1::Credential first, unit_->RecordCredential(call, req));
  EXPECT_FALSE(first.id().empty());
  EXPECT_EQ(FromProtoTimestamp(first.create_time()), now_);
  // The same request_id again: the first answer, nothing recorded twice.
  ASSERT_OK_AND_ASSIGN(v1::Credential again, unit_->RecordCredential(call, req));
  EXPECT_EQ(again.id(), first.id());
  const auto log = AuditEntries();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].action(), v1::AUDIT_ACTION_CREATE);
  EXPECT_EQ(log[0].method(), "RecordCredential");
  EXPECT_EQ(log[0].entity_id(), first.id());
  // A different request under the same id is refused.
  req.mutable_credential()->set_issuer("Another board");
  EXPECT_EQ(ErrorReason(unit_->RecordCredential(call, req).status()),
            ::smp::reason::kRequestIdReused);
}

TEST_F(CredentialsPermitsTest, InvalidCredentialNamesTheField) {
  v1::RecordCredentialRequest req;
  req.set_request_id("cred-bad");
  *req.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
  *req.mutable_credential()->mutable_valid_until() = Date(2025, 12, 31);
  EXPECT_THAT(unit_->RecordCredential(Admin("RecordCredential"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credential.valid_until")));
  // The contract's date range is 1900..9999: 1950 is a date (1990..2200 was the old, wrong bound).
  *req.mutable_credential()->mutable_valid_from() = Date(1950, 1, 1);
  *req.mutable_credential()->mutable_valid_until() = Date(2500, 2, 28);
  EXPECT_OK(unit_->RecordCredential(Admin("RecordCredential"), req).status());
  *req.mutable_credential()->mutable_valid_until() = Date(2026, 2, 30);
  req.set_request_id("cred-bad-2");
  EXPECT_THAT(unit_->RecordCredential(Admin("RecordCredential"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credential.valid_until")));
}

TEST_F(CredentialsPermitsTest, ClinicStaffReadOnlyTheirOwnCredentialsAPageAtATime) {
  for (int i = 0; i < 3; ++i) {
    v1::RecordCredentialRequest req;
    req.set_request_id(absl::StrCat("c", i));
    *req.mutable_credential() = Credential(staff_a_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
    ASSERT_OK(unit_->RecordCredential(Admin("RecordCredential"), req).status());
  }
  v1::ListCredentialsRequest list;
  list.set_practitioner_id(staff_a_);
  list.set_page_size(2);
  const Call own = StaffA(common::v1::ROLE_TECHNICIAN, "ListCredentials");
  ASSERT_OK_AND_ASSIGN(auto page1, unit_->ListCredentials(own, list));
  EXPECT_EQ(page1.credentials_size(), 2);
  ASSERT_FALSE(page1.next_page_token().empty());
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(auto page2, unit_->ListCredentials(own, list));
  ASSERT_EQ(page2.credentials_size(), 1);
  EXPECT_TRUE(page2.next_page_token().empty());
  EXPECT_GT(page1.credentials(1).id(), page2.credentials(0).id());  // newest first, no repeats

  list.set_practitioner_id(NewId());
  list.clear_page_token();
  absl::Status refused = unit_->ListCredentials(own, list).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), reason::kOwnRecordsOnly);
  // A token from another query is refused.
  list.set_page_token(page1.next_page_token());
  EXPECT_THAT(unit_->ListCredentials(Admin("ListCredentials"), list).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(CredentialsPermitsTest, PermitsOfAnotherClinicAreRefused) {
  v1::RecordPermitRequest req;
  req.set_request_id("permit-1");
  *req.mutable_permit() = Permit(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::Permit permit,
                       unit_->RecordPermit(StaffA(common::v1::ROLE_ADMIN, "RecordPermit"), req));
  absl::Status refused =
      unit_->RecordPermit(StaffB(common::v1::ROLE_FRONT_DESK, "RecordPermit"), req).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(refused), ::smp::reason::kOutsideClinicScope);

  v1::ListPermitsRequest list;
  list.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(
      auto listed, unit_->ListPermits(StaffA(common::v1::ROLE_FRONT_DESK, "ListPermits"), list));
  ASSERT_EQ(listed.permits_size(), 1);
  EXPECT_EQ(listed.permits(0).id(), permit.id());
  EXPECT_TRUE(listed.next_page_token().empty());
  EXPECT_EQ(
      ErrorReason(
          unit_->ListPermits(StaffB(common::v1::ROLE_FRONT_DESK, "ListPermits"), list).status()),
      ::smp::reason::kOutsideClinicScope);
  list.set_clinic_id("");
  EXPECT_THAT(unit_->ListPermits(Admin("ListPermits"), list).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clinic_id")));
}

TEST_F(CredentialsPermitsTest, AuditorsReadsAreOnTheRecord) {
  v1::ListPermitsRequest list;
  list.set_clinic_id(clinic_a_);
  ASSERT_OK(unit_->ListPermits(Auditor("ListPermits"), list).status());
  const auto log = AuditEntries();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].action(), v1::AUDIT_ACTION_READ);
  EXPECT_EQ(log[0].actor_id(), "auditor");
  EXPECT_EQ(log[0].entity_id(), clinic_a_);
}

TEST_F(CredentialsPermitsTest, ExpiringListsWhatEndsWithinTheDaysFromNow) {
  v1::RecordPermitRequest soon;
  soon.set_request_id("soon");
  *soon.mutable_permit() = Permit(clinic_a_);
  *soon.mutable_permit()->mutable_valid_until() = Date(2027, 1, 20);  // now is 2027-01-15
  ASSERT_OK(unit_->RecordPermit(Admin("RecordPermit"), soon).status());
  v1::RecordPermitRequest later = soon;
  later.set_request_id("later");
  *later.mutable_permit()->mutable_valid_until() = Date(2027, 6, 1);
  ASSERT_OK(unit_->RecordPermit(Admin("RecordPermit"), later).status());
  v1::ListExpiringRequest req;
  req.set_within_days(30);
  ASSERT_OK_AND_ASSIGN(
      auto out, unit_->ListExpiring(StaffA(common::v1::ROLE_FRONT_DESK, "ListExpiring"), req));
  ASSERT_EQ(out.permits_size(), 1);
  EXPECT_EQ(out.permits(0).valid_until().day(), 20);
  // Clinic B's staff see none of clinic A's.
  ASSERT_OK_AND_ASSIGN(
      out, unit_->ListExpiring(StaffB(common::v1::ROLE_FRONT_DESK, "ListExpiring"), req));
  EXPECT_EQ(out.permits_size(), 0);
  req.set_within_days(0);
  EXPECT_THAT(unit_->ListExpiring(Admin("ListExpiring"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("within_days")));
}

TEST_F(CredentialsPermitsTest, ExpiringCountsDaysFromEachClinicsLocalToday) {
  // Clinic A is in Auckland; at 12:00 UTC on 2027-01-15 its day is already the 16th.
  v1::RetentionPolicy nz;
  nz.set_clinic_id(clinic_a_);
  nz.set_client_records_years(3);
  nz.set_time_zone("Pacific/Auckland");
  ASSERT_OK(
      db_->Run(TxMode::kWrite, [&](Transaction& txn) { return store_.PutRetention(txn, nz); }));
  const absl::Time noon_utc = now_ + absl::Hours(4);
  for (const std::string& clinic : {clinic_a_, clinic_b_}) {
    v1::RecordPermitRequest req;
    req.set_request_id(absl::StrCat("permit-", clinic));
    *req.mutable_permit() = Permit(clinic);
    *req.mutable_permit()->mutable_valid_until() = Date(2027, 1, 17);
    ASSERT_OK(unit_->RecordPermit(Admin("RecordPermit"), req).status());
  }
  v1::RecordCredentialRequest cred;
  cred.set_request_id("cred");
  *cred.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
  *cred.mutable_credential()->mutable_valid_until() = Date(2027, 1, 17);
  ASSERT_OK(unit_->RecordCredential(Admin("RecordCredential"), cred).status());
  v1::ListExpiringRequest req;
  req.set_within_days(1);  // "expires within 1 day": Auckland's tomorrow is the 17th
  const Call admin = ::smp::testing::CallAs(
      ::smp::testing::StaffOf({common::v1::ROLE_ADMIN}, {}, "admin"), noon_utc, "ListExpiring");
  ASSERT_OK_AND_ASSIGN(auto out, unit_->ListExpiring(admin, req));
  ASSERT_EQ(out.permits_size(), 1);  // clinic B (UTC) is still on the 15th: its 17th is 2 days off
  EXPECT_EQ(out.permits(0).clinic_id(), clinic_a_);
  EXPECT_EQ(out.credentials_size(), 1);  // used in Auckland too
  req.add_clinic_ids(clinic_b_);
  ASSERT_OK_AND_ASSIGN(out, unit_->ListExpiring(admin, req));
  EXPECT_EQ(out.permits_size(), 0);
  EXPECT_EQ(out.credentials_size(), 0);  // judged at clinic B alone
}

TEST_F(CredentialsPermitsTest, BloodbornePathogenTrainingOfMoreThanAYearIsRefused) {
  v1::RecordCredentialRequest req;
  req.set_request_id("bbp");
  *req.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING);
  *req.mutable_credential()->mutable_valid_until() = Date(2028, 6, 1);  // two years
  EXPECT_THAT(unit_->RecordCredential(Admin("RecordCredential"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credential.valid_until")));
  EXPECT_TRUE(AuditEntries().empty());  // nothing changed
  *req.mutable_credential()->mutable_valid_until() = Date(2027, 6, 1);
  EXPECT_OK(unit_->RecordCredential(Admin("RecordCredential"), req).status());
}

TEST_F(CredentialsPermitsTest, ExpiringPagesCredentialsAndPermitsAsOneListSoonestFirst) {
  // Five records ending on days 16..20 of January, alternating permits and credentials.
  std::vector<std::string> expected;
  for (int day = 16; day <= 20; ++day) {
    if (day % 2 == 0) {
      v1::RecordPermitRequest req;
      req.set_request_id(absl::StrCat("permit-", day));
      *req.mutable_permit() = Permit(clinic_a_);
      *req.mutable_permit()->mutable_valid_until() = Date(2027, 1, day);
      ASSERT_OK_AND_ASSIGN(v1::Permit p, unit_->RecordPermit(Admin("RecordPermit"), req));
      expected.push_back(p.id());
    } else {
      v1::RecordCredentialRequest req;
      req.set_request_id(absl::StrCat("credential-", day));
      *req.mutable_credential() = Credential(tech_, v1::CREDENTIAL_KIND_SMP_CERTIFICATION);
      *req.mutable_credential()->mutable_valid_until() = Date(2027, 1, day);
      ASSERT_OK_AND_ASSIGN(v1::Credential c,
                           unit_->RecordCredential(Admin("RecordCredential"), req));
      expected.push_back(c.id());
    }
  }
  v1::ListExpiringRequest req;
  req.set_within_days(30);
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    ASSERT_OK_AND_ASSIGN(auto out, unit_->ListExpiring(Admin("ListExpiring"), req));
    EXPECT_LE(out.credentials_size() + out.permits_size(), 2);
    // Within a page the two fields interleave by day; merge them back to check the order.
    std::vector<std::pair<int, std::string>> by_day;
    for (const auto& c : out.credentials()) by_day.emplace_back(c.valid_until().day(), c.id());
    for (const auto& p : out.permits()) by_day.emplace_back(p.valid_until().day(), p.id());
    std::sort(by_day.begin(), by_day.end());
    for (const auto& [day, id] : by_day) seen.push_back(id);
    if (out.next_page_token().empty()) break;
    req.set_page_token(out.next_page_token());
  }
  EXPECT_EQ(seen, expected);
  // A token is bound to its horizon.
  req.set_within_days(31);
  EXPECT_THAT(unit_->ListExpiring(Admin("ListExpiring"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace smp::compliance
