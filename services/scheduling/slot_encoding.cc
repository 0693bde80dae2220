#include "services/scheduling/slot_encoding.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "common/util/proto_time.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

std::string EncodeAvailability(const AvailabilityResult& result) {
  using google::protobuf::internal::WireFormatLite;
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    v1::Slot slot;  // refilled for every slot: its submessages and strings are reused
    for (const Slot& s : result.slots) {
      *slot.mutable_start_time() = ToProtoTimestamp(s.start);
      *slot.mutable_end_time() = ToProtoTimestamp(s.end);
      slot.set_practitioner_id(s.practitioner_id.data(), s.practitioner_id.size());
      slot.set_chair_id(s.chair_id.data(), s.chair_id.size());
      out.WriteTag(WireFormatLite::MakeTag(v1::FindAvailabilityResponse::kSlotsFieldNumber,
                                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      out.WriteVarint32(static_cast<uint32_t>(slot.ByteSizeLong()));
      slot.SerializeWithCachedSizes(&out);
    }
    if (result.truncated) {
      out.WriteTag(WireFormatLite::MakeTag(v1::FindAvailabilityResponse::kTruncatedFieldNumber,
                                           WireFormatLite::WIRETYPE_VARINT));
      out.WriteVarint32(1);
    }
  }  // the streams flush into `bytes` and trim it as they go
  return bytes;
}

}  // namespace smp::scheduling
