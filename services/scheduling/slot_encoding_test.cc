#include "services/scheduling/slot_encoding.h"

#include <string>
#include <vector>

#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {
namespace {

// The response as a message, built the ordinary way.
v1::FindAvailabilityResponse AsMessage(const AvailabilityResult& result) {
  v1::FindAvailabilityResponse response;
  for (const Slot& s : result.slots) {
    v1::Slot* slot = response.add_slots();
    *slot->mutable_start_time() = ToProtoTimestamp(s.start);
    *slot->mutable_end_time() = ToProtoTimestamp(s.end);
    slot->set_practitioner_id(std::string(s.practitioner_id));
    slot->set_chair_id(std::string(s.chair_id));
  }
  response.set_truncated(result.truncated);
  return response;
}

TEST(SlotEncodingTest, BytesAreThoseOfTheResponseMessage) {
  const std::vector<std::string> ids = {"01KPRACTITIONERANA0000000", "01KCHAIRONE00000000000000",
                                        "p-2", ""};
  const absl::Time t0 = absl::FromUnixSeconds(1'780'000'000) + absl::Nanoseconds(5);
  AvailabilityResult result;
  result.slots.push_back({t0, t0 + absl::Minutes(30), ids[0], ids[1]});
  result.slots.push_back({t0, t0 + absl::Minutes(30), ids[2], ids[1]});
  // Before the epoch (negative seconds) and an empty chair id (a field left out).
  result.slots.push_back(
      {absl::FromUnixSeconds(-86'400), absl::FromUnixSeconds(-84'600), ids[2], ids[3]});
  for (const bool truncated : {false, true}) {
    result.truncated = truncated;
    const std::string bytes = EncodeAvailability(result);
    EXPECT_EQ(bytes, AsMessage(result).SerializeAsString()) << "truncated=" << truncated;
    v1::FindAvailabilityResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    ASSERT_EQ(parsed.slots_size(), 3);
    EXPECT_EQ(parsed.slots(0).practitioner_id(), ids[0]);
    EXPECT_EQ(parsed.slots(0).chair_id(), ids[1]);
    EXPECT_EQ(FromProtoTimestamp(parsed.slots(0).start_time()), t0);
    EXPECT_EQ(FromProtoTimestamp(parsed.slots(2).end_time()), absl::FromUnixSeconds(-84'600));
    EXPECT_EQ(parsed.slots(2).chair_id(), "");
    EXPECT_EQ(parsed.truncated(), truncated);
  }
}

TEST(SlotEncodingTest, NoSlotsIsTheEmptyResponse) {
  EXPECT_EQ(EncodeAvailability(AvailabilityResult{}), "");
  AvailabilityResult truncated_only;
  truncated_only.truncated = true;
  v1::FindAvailabilityResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(EncodeAvailability(truncated_only)));
  EXPECT_EQ(parsed.slots_size(), 0);
  EXPECT_TRUE(parsed.truncated());
}

}  // namespace
}  // namespace smp::scheduling
