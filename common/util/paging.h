#ifndef SMP_COMMON_UTIL_PAGING_H_
#define SMP_COMMON_UTIL_PAGING_H_

// List paging (see protos/smp/common/v1/conventions.proto): keyset pagination on a sort key, with
// opaque tokens bound to the query they came from.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

struct PageRequest {
  int size = kDefaultPageSize;  // rows to return
  std::string after_key;        // return rows whose sort key is greater; "" for the first page
};

// Validates page_size (negative -> INVALID_ARGUMENT; 0 -> default; above the maximum -> the
// maximum) and page_token (must come from the same `query`, a string naming the list and its
// filters).
absl::StatusOr<PageRequest> ParsePageRequest(int32_t page_size, absl::string_view page_token,
                                             absl::string_view query);

// The token that continues `query` after the row whose sort key is `last_key`.
std::string MakePageToken(absl::string_view query, absl::string_view last_key);

// A response's next_page_token: MakePageToken, or "" (the last page) when `last_key` is empty.
std::string NextPageToken(absl::string_view query, absl::string_view last_key);

}  // namespace smp

#endif  // SMP_COMMON_UTIL_PAGING_H_
