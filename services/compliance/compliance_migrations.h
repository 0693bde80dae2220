#ifndef SMP_SERVICES_COMPLIANCE_COMPLIANCE_MIGRATIONS_H_
#define SMP_SERVICES_COMPLIANCE_COMPLIANCE_MIGRATIONS_H_

#include <vector>

#include "common/db/migrations.h"

namespace smp::compliance {

// The compliance database schema, oldest step first. Released steps are never edited.
const std::vector<Migration>& ComplianceMigrations();

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_COMPLIANCE_MIGRATIONS_H_
