#include "tools/smpctl/supplies.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/smpctl/errors.h"
#include "tools/smpctl/values.h"

namespace smp::smpctl {

absl::StatusOr<inventory::v1::IssueLine> ParseIssueLine(absl::string_view flag,
                                                        absl::string_view text) {
  const std::string bad = absl::StrCat(
      "--", flag, ": want serial=SERIAL, lot=LOT_ID:QUANTITY or bottle=BOTTLE_ID, got \"", text,
      "\"");
  std::vector<std::string> kv = absl::StrSplit(text, absl::MaxSplits('=', 1));
  if (kv.size() != 2 || kv[1].empty()) return UsageError(bad);
  inventory::v1::IssueLine line;
  if (kv[0] == "serial") {
    line.set_serial(kv[1]);
  } else if (kv[0] == "bottle") {
    line.set_bottle_id(kv[1]);
  } else if (kv[0] == "lot") {
    std::vector<std::string> lq = absl::StrSplit(kv[1], absl::MaxSplits(':', 1));
    if (lq[0].empty()) return UsageError(bad);
    int64_t quantity = 1;
    if (lq.size() == 2) {
      absl::StatusOr<int64_t> q = ParseInt(flag, lq[1], 1, 1000);
      if (!q.ok()) return q.status();
      quantity = *q;
    }
    line.mutable_lot_quantity()->set_lot_id(lq[0]);
    line.mutable_lot_quantity()->set_quantity(quantity);
  } else {
    return UsageError(bad);
  }
  return line;
}

}  // namespace smp::smpctl
