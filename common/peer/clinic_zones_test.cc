#include "common/peer/clinic_zones.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::IsOkAndHolds;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kClinic[] = "schedule.clinic_id";
constexpr char kField[] = "schedule.time_zone";

TEST(ResolveClinicZoneTest, IdentityIsTheSourceWhenItAnswers) {
  const absl::StatusOr<std::string> auckland = std::string("Pacific/Auckland");
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "", auckland, std::nullopt),
              IsOkAndHolds(std::string("Pacific/Auckland")));
  // Identity's answer replaces a stale stored copy.
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "", auckland, std::string("Europe/London")),
              IsOkAndHolds(std::string("Pacific/Auckland")));
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "Pacific/Auckland", auckland, std::nullopt),
              IsOkAndHolds(std::string("Pacific/Auckland")));
  // An operator's zone that contradicts identity is refused, naming the field.
  EXPECT_THAT(
      ResolveClinicZone(kClinic, kField, "Europe/London", auckland, std::nullopt),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("schedule.time_zone: identity has the clinic in Pacific/Auckland")));
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "Mars/Olympus", auckland, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(kField)));
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "", absl::NotFoundError("clinic x not found"),
                                std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("schedule.clinic_id")));
}

TEST(ResolveClinicZoneTest, WhileIdentityIsDownTheLastKnownZoneStays) {
  const absl::StatusOr<std::string> down = absl::UnavailableError("identity: connection refused");
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "", down, std::string("Australia/Sydney")),
              IsOkAndHolds(std::string("Australia/Sydney")));
  EXPECT_THAT(
      ResolveClinicZone(kClinic, kField, "Europe/London", down, std::string("Australia/Sydney")),
      IsOkAndHolds(std::string("Australia/Sydney")));
  // A clinic set up while identity is down takes the operator's zone until identity answers.
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "Europe/London", down, std::nullopt),
              IsOkAndHolds(std::string("Europe/London")));
  EXPECT_THAT(ResolveClinicZone(kClinic, kField, "", down, std::nullopt),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("identity")));
}

}  // namespace
}  // namespace smp
