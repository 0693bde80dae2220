#ifndef SMP_SERVICES_IDENTITY_IDENTITY_MIGRATIONS_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_MIGRATIONS_H_

#include <vector>

#include "common/db/migrations.h"

namespace smp::identity {

// The identity database schema, oldest step first. Released steps are never edited.
const std::vector<Migration>& IdentityMigrations();

}  // namespace smp::identity

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_MIGRATIONS_H_
