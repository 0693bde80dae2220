#include "tools/smpctl/commands.h"

namespace smp::smpctl {

const Registry& AllCommands() {
  static const Registry* const registry = [] {
    auto* r = new Registry();
    AddIdentityCommands(*r);
    AddSchedulingCommands(*r);
    AddInventoryCommands(*r);
    AddComplianceCommands(*r);
    AddBillingCommands(*r);
    return r;
  }();
  return *registry;
}

}  // namespace smp::smpctl
