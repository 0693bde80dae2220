#ifndef SMP_TOOLS_SMPCTL_SUPPLIES_H_
#define SMP_TOOLS_SMPCTL_SUPPLIES_H_

// What a procedure draws from stock, as `appointment start --supply` and `stock issue --supply`
// take it: serial=SERIAL (a labelled needle unit), lot=LOT_ID:QUANTITY (a count from an
// unserialised lot; QUANTITY defaults to 1) or bottle=BOTTLE_ID (pigment from an open bottle).

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::smpctl {

absl::StatusOr<inventory::v1::IssueLine> ParseIssueLine(absl::string_view flag,
                                                        absl::string_view text);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_SUPPLIES_H_
