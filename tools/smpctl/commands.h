#ifndef SMP_TOOLS_SMPCTL_COMMANDS_H_
#define SMP_TOOLS_SMPCTL_COMMANDS_H_

// Each service area's commands, one file each.

#include "tools/smpctl/command.h"

namespace smp::smpctl {

void AddIdentityCommands(Registry& registry);    // identity_commands.cc
void AddSchedulingCommands(Registry& registry);  // scheduling_commands.cc
void AddInventoryCommands(Registry& registry);   // inventory_commands.cc
void AddComplianceCommands(Registry& registry);  // compliance_commands.cc
void AddBillingCommands(Registry& registry);     // billing_commands.cc

// Every command.
const Registry& AllCommands();

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_COMMANDS_H_
