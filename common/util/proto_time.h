#ifndef SMP_COMMON_UTIL_PROTO_TIME_H_
#define SMP_COMMON_UTIL_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace smp {

// absl::Time <-> google.protobuf.Timestamp, and the database's time column form (unix
// microseconds).
google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& ts);
inline int64_t ToDbMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromDbMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

}  // namespace smp

#endif  // SMP_COMMON_UTIL_PROTO_TIME_H_
