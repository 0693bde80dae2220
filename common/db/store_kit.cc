#include "common/db/store_kit.h"

namespace smp {

absl::Status NotFound(absl::string_view kind, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(kind, " ", id, " not found"));
}

std::string SqlPlaceholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, i ? ", ?" : "?");
  return out;
}

}  // namespace smp
