#include "common/db/store_kit.h"

namespace smp {

absl::Status NotFound(absl::string_view kind, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(kind, " ", id, " not found"));
}

}  // namespace smp
