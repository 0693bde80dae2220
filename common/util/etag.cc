#include "common/util/etag.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"

namespace smp {

std::string EtagOf(int64_t version) { return absl::StrCat("v", version); }

absl::StatusOr<int64_t> VersionFromEtag(absl::string_view field, absl::string_view etag) {
  int64_t version = 0;
  if (etag.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": is required (send the etag you read, to update safely)"));
  }
  if (etag.size() < 2 || etag[0] != 'v' || !absl::SimpleAtoi(etag.substr(1), &version) ||
      version < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", etag.substr(0, 32), "\" is not an etag this service issued"));
  }
  return version;
}

absl::Status StaleEtagError(absl::string_view kind, absl::string_view id,
                            absl::string_view given_etag, absl::string_view current_etag) {
  return WithErrorInfo(absl::AbortedError(absl::StrCat(kind, " ", id, " changed since etag ",
                                                       given_etag, "; the current etag is ",
                                                       current_etag, ": read it again and retry")),
                       reason::kStaleEtag, {{"current_etag", std::string(current_etag)}});
}

absl::Status StaleEtagError(absl::string_view kind, absl::string_view id, int64_t given_version,
                            int64_t current_version) {
  return StaleEtagError(kind, id, EtagOf(given_version), EtagOf(current_version));
}

}  // namespace smp
