#include "common/db/testing/test_database.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/db/testing/postgres_server.h"
#include "common/util/ids.h"

namespace smp::testing {

std::vector<Backend> AllBackends() { return {Backend::kSqlite, Backend::kPostgresql}; }

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgresql";
}

Backend BackendFromEnvironment() {
  static const Backend backend = [] {
    const char* value = std::getenv("SMP_TEST_BACKEND");
    if (value == nullptr || *value == '\0' || std::strcmp(value, "sqlite") == 0) {
      return Backend::kSqlite;
    }
    if (std::strcmp(value, "postgresql") == 0) return Backend::kPostgresql;
    std::fprintf(stderr, "SMP_TEST_BACKEND=%s: expected sqlite or postgresql\n", value);
    std::abort();
  }();
  return backend;
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

absl::StatusOr<std::unique_ptr<Database>> OpenNewTestDatabase() {
  return OpenNewTestDatabase(BackendFromEnvironment());
}

}  // namespace smp::testing
