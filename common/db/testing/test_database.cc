#include "common/db/testing/test_database.h"

#include "common/db/testing/postgres_server.h"
#include "common/util/ids.h"

namespace smp::testing {

std::vector<Backend> AllBackends() { return {Backend::kSqlite, Backend::kPostgresql}; }

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgresql";
}

absl::StatusOr<TestDatabase> NewTestDatabase(Backend backend) {
  TestDatabase where{backend, "", {}};
  if (backend == Backend::kSqlite) {
    where.sqlite_path = ::testing::TempDir() + "/smp_test_" + NewId() + ".sqlite";
    return where;
  }
  PostgresServer& server = SharedPostgresServer();
  absl::StatusOr<std::string> name = server.CreateDatabase();
  if (!name.ok()) return name.status();
  where.postgres = server.Options(*name);
  return where;
}

absl::StatusOr<std::unique_ptr<Database>> Open(const TestDatabase& where) {
  if (where.backend == Backend::kSqlite) return OpenSqliteDatabase(where.sqlite_path);
  return OpenPostgresDatabase(where.postgres);
}

absl::StatusOr<std::unique_ptr<Database>> OpenNewTestDatabase(Backend backend) {
  absl::StatusOr<TestDatabase> where = NewTestDatabase(backend);
  if (!where.ok()) return where.status();
  return Open(*where);
}

}  // namespace smp::testing
