#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_MIGRATIONS_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_MIGRATIONS_H_

#include <vector>

#include "common/db/migrations.h"

namespace smp::scheduling {

// The scheduling database schema, oldest step first. Released steps are never edited.
const std::vector<Migration>& SchedulingMigrations();

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_MIGRATIONS_H_
