// A service's own login at identity (common/peer/service_credentials), against a real identity
// process and Redis: it logs in on first use, renews before its session lapses, recovers from a
// revoked session, and says clearly when identity is down or refuses the account.

#include "common/peer/service_credentials.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <fstream>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/integration/identity_harness.h"

namespace smp {
namespace {

using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class ServiceCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Start().ok());
    harness_.MakeStaff("svc.test", common::v1::ROLE_SERVICE);
  }

  std::unique_ptr<IdentityServiceLogin> Login(const std::string& password) {
    return std::make_unique<IdentityServiceLogin>(
        grpc::CreateChannel(harness_.identity().address(), grpc::InsecureChannelCredentials()),
        ServiceAccount{"svc.test", password}, absl::Seconds(2), clock_, absl::Milliseconds(200));
  }

  // WhoAmI as the service: the status, and the session id it ran under.
  grpc::Status WhoAmI(ServiceCredentials& credentials, std::string* session_id = nullptr) {
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(5));
    if (absl::Status auth = credentials.Authorize(context); !auth.ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, std::string(auth.message()));
    }
    identity::v1::WhoAmIResponse who;
    grpc::Status status = harness_.stub().WhoAmI(&context, identity::v1::WhoAmIRequest(), &who);
    credentials.Observe(status);
    if (status.ok() && session_id != nullptr) *session_id = who.session().id();
    if (status.ok()) {
      EXPECT_EQ(who.staff().username(), "svc.test");
    }
    return status;
  }

  IdentityHarness harness_;
  FakeClock clock_{absl::Now()};
};

TEST_F(ServiceCredentialsTest, FileMustBeTheOwnersAlone) {
  const std::string path = smp::testing::MakeTempDir("creds") + "/svc";
  std::ofstream(path) << "svc.test\n" << IdentityHarness::kPassword << "\n";
  chmod(path.c_str(), 0644);
  EXPECT_THAT(ReadServiceAccountFile(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  chmod(path.c_str(), 0600);
  ASSERT_OK_AND_ASSIGN(ServiceAccount account, ReadServiceAccountFile(path));
  EXPECT_EQ(account.username, "svc.test");
  EXPECT_EQ(account.password, IdentityHarness::kPassword);

  std::ofstream(path) << "svc.test\n";  // no password line
  EXPECT_THAT(ReadServiceAccountFile(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("password line")));
  EXPECT_THAT(ReadServiceAccountFile(path + ".missing"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot be read")));
}

TEST_F(ServiceCredentialsTest, LogsInOnceRenewsAtHalfLifeAndRecoversFromRevocation) {
  auto credentials = Login(IdentityHarness::kPassword);
  std::string first, second, third;
  ASSERT_TRUE(WhoAmI(*credentials, &first).ok());
  ASSERT_TRUE(WhoAmI(*credentials, &second).ok());
  EXPECT_EQ(first, second);  // one login, reused

  // Past half the session's lifetime (8 h idle by default) it logs in afresh.
  clock_.Advance(absl::Hours(4) + absl::Minutes(1));
  ASSERT_TRUE(WhoAmI(*credentials, &third).ok());
  EXPECT_NE(third, second);

  // An admin revokes the service's session: the next call is refused once, the one after that
  // logs in again and works.
  identity::v1::RevokeSessionRequest revoke;
  revoke.set_session_id(third);
  identity::v1::RevokeSessionResponse revoked;
  ASSERT_TRUE(
      harness_.stub()
          .RevokeSession(smp::testing::CallContext(harness_.admin_token()).get(), revoke, &revoked)
          .ok());
  absl::SleepFor(absl::Milliseconds(600));  // identity's own authentication cache
  EXPECT_THAT(WhoAmI(*credentials), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  std::string fourth;
  ASSERT_TRUE(WhoAmI(*credentials, &fourth).ok());
  EXPECT_NE(fourth, third);
}

TEST_F(ServiceCredentialsTest, RefusedAccountAndUnreachableIdentityAreClear) {
  auto wrong = Login("not the password at all");
  grpc::ClientContext context;
  EXPECT_THAT(wrong->Authorize(context),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("svc.test\" cannot log in")));
  // Retried only after the pause, so a bad file cannot hammer identity.
  EXPECT_THAT(wrong->Authorize(context), StatusIs(absl::StatusCode::kUnauthenticated));

  auto right = Login(IdentityHarness::kPassword);
  harness_.identity().Stop();
  EXPECT_THAT(right->Authorize(context),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot log in to identity")));

  MissingServiceCredentials missing;
  EXPECT_THAT(missing.Authorize(context), StatusIs(absl::StatusCode::kUnauthenticated,
                                                   HasSubstr("--service_credentials_file")));
}

}  // namespace
}  // namespace smp
