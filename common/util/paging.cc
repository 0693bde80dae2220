#include "common/util/paging.h"

#include "absl/strings/str_cat.h"
#include "common/util/crypto.h"

namespace smp {
namespace {

// Tokens carry a short hash of the query so that a token from one list is not used with another.
std::string QueryTag(absl::string_view query) { return Sha256Hex(query).substr(0, 16); }

}  // namespace

std::string MakePageToken(absl::string_view query, absl::string_view last_key) {
  return Base64UrlEncode(absl::StrCat("1:", QueryTag(query), ":", last_key));
}

std::string NextPageToken(absl::string_view query, absl::string_view last_key) {
  return last_key.empty() ? std::string() : MakePageToken(query, last_key);
}

absl::StatusOr<PageRequest> ParsePageRequest(int32_t page_size, absl::string_view page_token,
                                             absl::string_view query) {
  PageRequest page;
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (page_size > 0) page.size = page_size > kMaxPageSize ? kMaxPageSize : page_size;
  if (page_token.empty()) return page;

  std::string decoded;
  const std::string prefix = absl::StrCat("1:", QueryTag(query), ":");
  if (page_token.size() > 1024 || !Base64UrlDecode(page_token, &decoded) ||
      decoded.compare(0, prefix.size(), prefix) != 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token from this list with these filters; start again without one");
  }
  page.after_key = decoded.substr(prefix.size());
  return page;
}

}  // namespace smp
