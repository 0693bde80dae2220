#include "services/console/transcoder.h"

#include <string>

#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/console/gateway.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::console {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class TranscoderTest : public ::testing::Test {
 protected:
  Transcoder transcoder_{Gateway::ForwardedServices()};
};

TEST_F(TranscoderTest, FindsEveryRpcOfTheForwardedContracts) {
  absl::StatusOr<RpcRoute> book =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/BookAppointment");
  ASSERT_OK(book.status());
  EXPECT_EQ(book->grpc_path, "/smp.scheduling.v1.SchedulingService/BookAppointment");
  EXPECT_EQ(book->service, "smp.scheduling.v1.SchedulingService");
  EXPECT_FALSE(book->server_streaming);

  absl::StatusOr<RpcRoute> watch =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/WatchChanges");
  ASSERT_OK(watch.status());
  EXPECT_TRUE(watch->server_streaming);
  ASSERT_OK(transcoder_.Find("smp.compliance.v1.ComplianceService/GenerateReport").status());
  ASSERT_OK(transcoder_.Find("smp.compliance.v1.EligibilityService/CheckEligibility").status());
  ASSERT_OK(transcoder_.Find("smp.billing.v1.BillingService/RecordPayment").status());
  ASSERT_OK(transcoder_.Find("smp.inventory.v1.InventoryService/ReceiveStock").status());
  ASSERT_OK(transcoder_.Find("smp.identity.v1.IdentityService/WhoAmI").status());
  // Every method of the five services, none written out by hand.
  EXPECT_GT(transcoder_.Routes().size(), 100u);
}

TEST_F(TranscoderTest, UnknownRpcIsNotFound) {
  EXPECT_THAT(transcoder_.Find("smp.scheduling.v1.SchedulingService/DropTables"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("DropTables")));
  EXPECT_THAT(transcoder_.Find("grpc.health.v1.Health/Check"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(transcoder_.Find("smp.bench.v1.EchoService/Echo"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(TranscoderTest, JsonRequestBecomesTheRequestMessage) {
  absl::StatusOr<RpcRoute> route =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/ListAppointments");
  ASSERT_OK(route.status());
  absl::StatusOr<std::string> bytes = transcoder_.RequestToBinary(
      *route, R"({"clinicId":"C1","period":{"startTime":"2026-12-01T15:00:00Z"},"page_size":5})");
  ASSERT_OK(bytes.status());
  scheduling::v1::ListAppointmentsRequest request;
  ASSERT_TRUE(request.ParseFromString(*bytes));
  EXPECT_EQ(request.clinic_id(), "C1");
  EXPECT_EQ(request.page_size(), 5);
  EXPECT_EQ(request.period().start_time().seconds(), 1796137200);
}

TEST_F(TranscoderTest, EmptyBodyIsTheEmptyMessage) {
  absl::StatusOr<RpcRoute> route = transcoder_.Find("smp.identity.v1.IdentityService/WhoAmI");
  ASSERT_OK(route.status());
  absl::StatusOr<std::string> bytes = transcoder_.RequestToBinary(*route, "");
  ASSERT_OK(bytes.status());
  EXPECT_EQ(*bytes, "");
}

TEST_F(TranscoderTest, BadJsonIsInvalidArgumentNamingTheProblem) {
  absl::StatusOr<RpcRoute> route =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/GetAppointment");
  ASSERT_OK(route.status());
  EXPECT_THAT(transcoder_.RequestToBinary(*route, R"({"idd":"A1"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("idd")));
  EXPECT_THAT(transcoder_.RequestToBinary(*route, R"({"id":7})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(transcoder_.RequestToBinary(*route, "not json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("smp.scheduling.v1.GetAppointmentRequest")));
}

TEST_F(TranscoderTest, ResponseBecomesJsonWithDefaultsAndEnumNames) {
  absl::StatusOr<RpcRoute> route =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/WatchChanges");
  ASSERT_OK(route.status());
  scheduling::v1::Change change;
  change.set_sequence(3);
  change.set_clinic_id("C1");
  change.mutable_appointment()->set_status(scheduling::v1::BOOKED);
  absl::StatusOr<std::string> json = transcoder_.ResponseToJson(*route, change.SerializeAsString());
  ASSERT_OK(json.status());
  EXPECT_THAT(*json, HasSubstr(R"("sequence":"3")"));  // int64 is a string in proto3 JSON
  EXPECT_THAT(*json, HasSubstr(R"("clinicId":"C1")"));
  EXPECT_THAT(*json, HasSubstr(R"("status":"BOOKED")"));
  EXPECT_THAT(*json, HasSubstr(R"("practitionerId":"")"));  // defaults printed
}

TEST_F(TranscoderTest, ResponseThatDoesNotParseIsInternal) {
  absl::StatusOr<RpcRoute> route =
      transcoder_.Find("smp.scheduling.v1.SchedulingService/GetAppointment");
  ASSERT_OK(route.status());
  EXPECT_THAT(transcoder_.ResponseToJson(*route, "\xff\xff\xff"),
              StatusIs(absl::StatusCode::kInternal));
}

TEST(HttpStatusForCodeTest, FollowsGoogleRpcCodeMapping) {
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusForCode(absl::StatusCode::kDataLoss), 500);
}

TEST(ErrorJsonTest, CarriesTheServicesMessageAndReason) {
  absl::Status status =
      WithErrorInfo(absl::FailedPreconditionError("needle \"U-1\" was already used"),
                    reason::kUnitAlreadyUsed, {{"serial", "U-1"}});
  const std::string json = ErrorJson(status);
  EXPECT_THAT(json, HasSubstr(R"({"error":{"code":400,"status":"FAILED_PRECONDITION")"));
  EXPECT_THAT(json, HasSubstr(R"("message":"needle \"U-1\" was already used")"));
  EXPECT_THAT(json, HasSubstr(R"("@type":"type.googleapis.com/google.rpc.ErrorInfo")"));
  EXPECT_THAT(json, HasSubstr(R"("reason":"UNIT_ALREADY_USED")"));
  EXPECT_THAT(json, HasSubstr(R"("serial":"U-1")"));
}

TEST(ErrorJsonTest, InvalidArgumentNamesTheField) {
  const std::string json = ErrorJson(absl::InvalidArgumentError("clinic_id: required"));
  EXPECT_THAT(json, HasSubstr(R"("status":"INVALID_ARGUMENT")"));
  EXPECT_THAT(json, HasSubstr(R"("fieldViolations":[{"field":"clinic_id")"));
}

TEST(ErrorJsonTest, PlainErrorHasNoDetails) {
  const std::string json = ErrorJson(absl::UnavailableError("redis is down"));
  EXPECT_EQ(json, R"({"error":{"code":503,"status":"UNAVAILABLE","message":"redis is down"}})");
  EXPECT_THAT(json, Not(HasSubstr("details")));
}

}  // namespace
}  // namespace smp::console
