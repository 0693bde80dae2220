#ifndef SMP_SERVICES_BILLING_BILLING_MIGRATIONS_H_
#define SMP_SERVICES_BILLING_BILLING_MIGRATIONS_H_

#include <vector>

#include "common/db/migrations.h"

namespace smp::billing {

// The billing database schema, oldest step first. Released steps are never edited.
const std::vector<Migration>& BillingMigrations();

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_BILLING_MIGRATIONS_H_
