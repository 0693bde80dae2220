#ifndef SMP_COMMON_UTIL_PROTO_TIME_H_
#define SMP_COMMON_UTIL_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "smp/common/v1/dates.pb.h"

namespace smp {

// absl::Time <-> google.protobuf.Timestamp, and the database's time column form (unix
// microseconds).
google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& ts);
inline int64_t ToDbMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromDbMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

// absl::CivilDay <-> smp.common.v1.LocalDate (a clinic-local calendar day). FromLocalDate does not
// validate (month 13 normalises into the next year): validate request fields first.
common::v1::LocalDate ToLocalDate(absl::CivilDay day);
inline absl::CivilDay FromLocalDate(const common::v1::LocalDate& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

}  // namespace smp

#endif  // SMP_COMMON_UTIL_PROTO_TIME_H_
