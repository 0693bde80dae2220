#include "common/status/error_details.h"

#include "common/status/grpc_status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ErrorDetailsTest, ReasonAndMetadataCrossTheWireAsTheStandardTrailer) {
  absl::Status stale = WithErrorInfo(absl::AbortedError("appointment a1 changed since etag v3"),
                                     reason::kStaleEtag, {{"current_etag", "v4"}});
  grpc::Status wire = ToGrpcStatus(stale);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::ABORTED);

  // What any gRPC client sees: a google.rpc.Status holding an ErrorInfo.
  google::rpc::Status decoded;
  ASSERT_TRUE(decoded.ParseFromString(wire.error_details()));
  EXPECT_EQ(decoded.code(), static_cast<int>(grpc::StatusCode::ABORTED));
  ASSERT_EQ(decoded.details_size(), 1);
  EXPECT_EQ(decoded.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(decoded.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "STALE_ETAG");
  EXPECT_EQ(info.domain(), "smp-suite");
  EXPECT_EQ(info.metadata().at("current_etag"), "v4");

  // And what a peer service sees after FromGrpcStatus.
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(ErrorReason(back), "STALE_ETAG");
  EXPECT_EQ(ErrorMetadata(back, "current_etag"), "v4");
  EXPECT_EQ(ErrorMetadata(back, "absent"), "");
}

TEST(ErrorDetailsTest, InvalidArgumentNamesTheFieldAsABadRequest) {
  grpc::Status wire =
      ToGrpcStatus(absl::InvalidArgumentError("appointment.start_time: before opening hours"));
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_THAT(ViolatedFields(back), ElementsAre("appointment.start_time"));
  google::rpc::Status decoded;
  ASSERT_TRUE(decoded.ParseFromString(wire.error_details()));
  google::rpc::BadRequest bad;
  ASSERT_TRUE(decoded.details(0).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).description(), "before opening hours");

  // An explicit violation is kept as given; a message that names no field derives none.
  absl::Status explicit_field =
      WithFieldViolation(absl::InvalidArgumentError("supplies: two entries name serial X"),
                         "supplies[3].serial", "repeats supplies[1]");
  EXPECT_THAT(ViolatedFields(FromGrpcStatus(ToGrpcStatus(explicit_field))),
              ElementsAre("supplies[3].serial"));
  EXPECT_TRUE(ToGrpcStatus(absl::InvalidArgumentError("request is empty")).error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::NotFoundError("x: y")).error_details().empty());
}

TEST(ErrorDetailsTest, PreconditionFailuresAccumulate) {
  absl::Status refused = absl::FailedPreconditionError("not eligible");
  refused = WithPreconditionFailure(refused, "CREDENTIAL", "staff-1", "SMP certificate expired");
  refused = WithPreconditionFailure(refused, "CONSENT", "patient-1", "no consent on file");
  refused = WithErrorInfo(refused, reason::kNotEligible);
  absl::Status back = FromGrpcStatus(ToGrpcStatus(refused));
  EXPECT_THAT(ViolatedPreconditions(back), ElementsAre("CREDENTIAL", "CONSENT"));
  EXPECT_EQ(ErrorReason(back), "NOT_ELIGIBLE");
}

TEST(ErrorDetailsTest, OkStaysOkAndPlainErrorsCarryNothing) {
  EXPECT_TRUE(WithErrorInfo(absl::OkStatus(), reason::kSlotTaken).ok());
  EXPECT_EQ(ErrorReason(absl::AbortedError("x")), "");
  EXPECT_THAT(ViolatedFields(absl::AbortedError("x")), IsEmpty());
  // Garbage in the trailer leaves the status as it is.
  EXPECT_EQ(AttachStatusDetails(absl::AbortedError("x"), "\xff\xff"), absl::AbortedError("x"));
}

}  // namespace
}  // namespace smp
