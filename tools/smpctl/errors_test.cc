#include "tools/smpctl/errors.h"

#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::smpctl {
namespace {

using ::testing::HasSubstr;

TEST(Errors, ExitCodePerStatus) {
  struct Case {
    grpc::StatusCode code;
    int exit;
  };
  for (Case c :
       {Case{grpc::StatusCode::UNAUTHENTICATED, 3}, Case{grpc::StatusCode::PERMISSION_DENIED, 4},
        Case{grpc::StatusCode::NOT_FOUND, 5}, Case{grpc::StatusCode::ALREADY_EXISTS, 6},
        Case{grpc::StatusCode::ABORTED, 6}, Case{grpc::StatusCode::FAILED_PRECONDITION, 6},
        Case{grpc::StatusCode::INVALID_ARGUMENT, 7}, Case{grpc::StatusCode::OUT_OF_RANGE, 7},
        Case{grpc::StatusCode::UNAVAILABLE, 8}, Case{grpc::StatusCode::DEADLINE_EXCEEDED, 8},
        Case{grpc::StatusCode::RESOURCE_EXHAUSTED, 1}, Case{grpc::StatusCode::INTERNAL, 1}}) {
    absl::Status s = RpcError("GetClinic", "identity", "127.0.0.1:7001",
                              grpc::Status(c.code, "server says why"));
    EXPECT_EQ(ExitCodeFor(s), c.exit) << s;
    EXPECT_THAT(ErrorLine(s), HasSubstr("server says why"));
    EXPECT_THAT(ErrorLine(s), ::testing::StartsWith("smpctl: "));
  }
}

TEST(Errors, UnavailableNamesTheService) {
  absl::Status s = RpcError("ListStock", "inventory", "127.0.0.1:7003",
                            grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"));
  EXPECT_THAT(ErrorLine(s), HasSubstr("inventory service at 127.0.0.1:7003 is unavailable"));
}

TEST(Errors, UsageAndLocalOverrideTheCode) {
  EXPECT_EQ(ExitCodeFor(UsageError("bad flag")), kExitUsage);
  EXPECT_TRUE(IsUsageError(UsageError("bad flag")));
  EXPECT_EQ(ExitCodeFor(LocalError("disk full")), kExitOther);
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
}

TEST(Errors, TheServersReasonStaysOnTheStatusAndEndsTheLine) {
  const absl::Status sent =
      WithErrorInfo(absl::AbortedError("appointment a1 changed since etag v3"), reason::kStaleEtag,
                    {{"current_etag", "v4"}});
  absl::Status s = RpcError("RescheduleAppointment", "scheduling", "a:1", ToGrpcStatus(sent));
  EXPECT_EQ(ErrorReason(s), "STALE_ETAG");
  EXPECT_EQ(ExitCodeFor(s), kExitConflict);
  EXPECT_THAT(ErrorLine(s), HasSubstr("[current --etag=v4]"));
  EXPECT_THAT(ErrorLine(s), ::testing::EndsWith("(STALE_ETAG)"));
}

TEST(Errors, OneLine) {
  absl::Status s =
      RpcError("X", "identity", "a:1", grpc::Status(grpc::StatusCode::INTERNAL, "two\nlines"));
  EXPECT_EQ(ErrorLine(s).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace smp::smpctl
