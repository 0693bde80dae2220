#ifndef SMP_SERVICES_INVENTORY_INVENTORY_MIGRATIONS_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_MIGRATIONS_H_

#include <vector>

#include "common/db/migrations.h"

namespace smp::inventory {

// The inventory database schema, oldest step first. Released steps are never edited.
const std::vector<Migration>& InventoryMigrations();

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_MIGRATIONS_H_
