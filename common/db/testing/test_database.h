#ifndef SMP_COMMON_DB_TESTING_TEST_DATABASE_H_
#define SMP_COMMON_DB_TESTING_TEST_DATABASE_H_

// Store tests run on both backends: a value-parameterised fixture takes a Backend, and
//   INSTANTIATE_TEST_SUITE_P(Backends, MyStoreTest, ::testing::ValuesIn(AllBackends()),
//                            BackendName);
// names each test `.../sqlite` or `.../postgresql`; smp_backend_test (common/db/CMakeLists.txt)
// gives the second the ctest label `postgresql` and the first `sqlite`.
//
// Tests that are not parameterised (the services' store and operation tests, the multi-process
// tests) run on the backend named by the environment variable SMP_TEST_BACKEND (`sqlite`, the
// default, or `postgresql`): CMake registers such a binary twice (smp_test's BOTH_BACKENDS,
// cmake/SmpTargets.cmake), the second time with SMP_TEST_BACKEND=postgresql.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/db/postgres_database.h"
#include "gtest/gtest.h"

namespace smp::testing {

enum class Backend {
  kSqlite,
  kPostgresql,
};

std::vector<Backend> AllBackends();
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// The backend SMP_TEST_BACKEND names: kSqlite when it is unset or empty. Aborts the test program
// on any other value (a typo must not silently run the tests on SQLite).
Backend BackendFromEnvironment();

// Where a new, empty test database is; Open it once per "replica".
struct TestDatabase {
  Backend backend;
  std::string sqlite_path;   // kSqlite: a new file under the test's temporary directory
  PostgresOptions postgres;  // kPostgresql: a new database on SharedPostgresServer()
};

absl::StatusOr<TestDatabase> NewTestDatabase(Backend backend);
absl::StatusOr<std::unique_ptr<Database>> Open(const TestDatabase& where);
// NewTestDatabase + Open.
absl::StatusOr<std::unique_ptr<Database>> OpenNewTestDatabase(Backend backend);
// OpenNewTestDatabase(BackendFromEnvironment()).
absl::StatusOr<std::unique_ptr<Database>> OpenNewTestDatabase();

}  // namespace smp::testing

#endif  // SMP_COMMON_DB_TESTING_TEST_DATABASE_H_
