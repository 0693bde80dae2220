#include "tools/smpctl/commands.h"

#include "tools/smpctl/health.h"

namespace smp::smpctl {

const Registry& AllCommands() {
  static const Registry* const registry = [] {
    auto* r = new Registry();
    AddHealthCommands(*r);
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
